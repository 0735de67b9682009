"""Outputs and gradients of fastnn models agree with the same PyTorch models (same weights) to 1e-5
in float32."""
import numpy as np
import pytest

import fastnn
from fastnn import nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def pair(builders):
    fastnn.manual_seed(0)
    fm = nn.Sequential(*[b[0]() for b in builders])
    tm = tnn.Sequential(*[b[1]() for b in builders])
    tm.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in fm.state_dict().items()})
    return fm, tm


MODELS = {
    "default-block": [(lambda: nn.Linear(30, 24), lambda: tnn.Linear(30, 24)),
                      (lambda: nn.BatchNorm1d(24), lambda: tnn.BatchNorm1d(24)),
                      (nn.ELU, tnn.ELU),
                      (lambda: nn.Linear(24, 16), lambda: tnn.Linear(24, 16)),
                      (lambda: nn.PReLU(16), lambda: tnn.PReLU(16)),
                      (lambda: nn.Linear(16, 5), lambda: tnn.Linear(16, 5))],
    "activations": [(lambda: nn.Linear(30, 20), lambda: tnn.Linear(30, 20)), (nn.LeakyReLU, tnn.LeakyReLU),
                    (lambda: nn.Linear(20, 20), lambda: tnn.Linear(20, 20)), (nn.GELU, tnn.GELU),
                    (lambda: nn.Linear(20, 20), lambda: tnn.Linear(20, 20)), (nn.SiLU, tnn.SiLU),
                    (lambda: nn.Linear(20, 20), lambda: tnn.Linear(20, 20)), (nn.Tanh, tnn.Tanh),
                    (lambda: nn.Linear(20, 20), lambda: tnn.Linear(20, 20)), (nn.SELU, tnn.SELU),
                    (lambda: nn.Linear(20, 20), lambda: tnn.Linear(20, 20)), (nn.Softplus, tnn.Softplus),
                    (lambda: nn.Linear(20, 20), lambda: tnn.Linear(20, 20)), (nn.Sigmoid, tnn.Sigmoid),
                    (lambda: nn.Linear(20, 5), lambda: tnn.Linear(20, 5))],
}


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_forward_backward_match_torch(name, loss):
    fm, tm = pair(MODELS[name])
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 30)).astype(np.float32)
    if loss == "ce":
        t = rng.integers(0, 5, 64)
        flf, tlf, tt = nn.CrossEntropyLoss(label_smoothing=0.1), tnn.CrossEntropyLoss(label_smoothing=0.1), torch.from_numpy(t)
    else:
        t = rng.standard_normal((64, 5)).astype(np.float32)
        flf, tlf, tt = nn.MSELoss(), tnn.MSELoss(), torch.from_numpy(t)
    y = fm(x)
    fl = flf(y, t)
    fm.zero_grad()
    gx = fm.backward(flf.backward())
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ty = tm(tx)
    tl = tlf(ty, tt)
    tl.backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert fl == pytest.approx(tl.item(), rel=1e-5)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    tparams = dict(tm.named_parameters())
    for k, p in fm.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[k].grad.numpy(), rtol=1e-5, atol=1e-5, err_msg=k)
    tsd = tm.state_dict()
    for k, v in fm.state_dict().items():
        np.testing.assert_allclose(v, tsd[k].numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    fm.eval(), tm.eval()
    np.testing.assert_allclose(fm(x), tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_batchnorm2d_and_flatten_match_torch():
    fm, tm = pair([(lambda: nn.BatchNorm2d(3), lambda: tnn.BatchNorm2d(3)), (nn.Flatten, tnn.Flatten),
                   (lambda: nn.Linear(3 * 4 * 5, 6), lambda: tnn.Linear(3 * 4 * 5, 6))])
    x = np.random.default_rng(2).standard_normal((8, 3, 4, 5)).astype(np.float32) * 2 + 1
    g = np.random.default_rng(3).standard_normal((8, 6)).astype(np.float32)
    y = fm(x)
    fm.zero_grad()
    gx = fm.backward(g)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ty = tm(tx)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fm[0].weight.grad, tm[0].weight.grad.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(fm[0].running_var, tm[0].running_var.numpy(), rtol=1e-5)


def test_bce_and_l1_and_nll_match_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    tb = (rng.random((16, 3)) > 0.5).astype(np.float32)
    for ours, theirs in [(nn.BCEWithLogitsLoss(), tnn.BCEWithLogitsLoss()), (nn.L1Loss(), tnn.L1Loss())]:
        tx = torch.from_numpy(x.copy()).requires_grad_()
        tl = theirs(tx, torch.from_numpy(tb))
        tl.backward()
        assert ours(x, tb) == pytest.approx(tl.item(), rel=1e-6)
        np.testing.assert_allclose(ours.backward(), tx.grad.numpy(), rtol=1e-5, atol=1e-7)
    lp = torch.log_softmax(torch.from_numpy(x), 1).numpy()
    t = rng.integers(0, 3, 16)
    tx = torch.from_numpy(lp.copy()).requires_grad_()
    tl = tnn.NLLLoss()(tx, torch.from_numpy(t))
    tl.backward()
    lf = nn.NLLLoss()
    assert lf(lp, t) == pytest.approx(tl.item(), rel=1e-6)
    np.testing.assert_allclose(lf.backward(), tx.grad.numpy())
