"""nn.functional and the loss modules against torch: values and input gradients (float32), float64
finite-difference checks, and layers called on tensors (one graph node per call)."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import autograd, nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def compare(ffn, tfn, inputs, consts=(), rtol=1e-5, atol=1e-6, grad=True):
    """ffn(*fastnn tensors, *consts) vs tfn(*torch tensors, *consts): values and input gradients."""
    f = [fastnn.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in inputs]
    t = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in inputs]
    yf, yt = ffn(*f, *consts), tfn(*t, *consts)
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    if not grad or not yt.requires_grad:
        return
    g = rnd(*yt.shape, seed=9) if yt.dim() else np.float32(1.3)
    yf.backward(fastnn.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(f, t):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=10 * rtol, atol=10 * atol)


ACTS = ["relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh", "softplus", "softsign",
        "hardtanh", "logsigmoid", "hardsigmoid", "hardswish"]


@pytest.mark.parametrize("name", ACTS)
def test_activations(name):
    x = rnd(4, 5) * 3
    compare(getattr(F, name), getattr(TF, name), [x], rtol=3e-5, atol=3e-6)


def test_parametrised_activations_and_softmax():
    x = rnd(3, 4, 5)
    compare(lambda a: F.leaky_relu(a, 0.2), lambda a: TF.leaky_relu(a, 0.2), [x])
    compare(lambda a: F.elu(a, 0.5), lambda a: TF.elu(a, 0.5), [x])
    compare(lambda a: F.gelu(a, approximate="tanh"), lambda a: TF.gelu(a, approximate="tanh"), [x], atol=2e-6)
    compare(lambda a: F.softplus(a, 2.0, 5.0), lambda a: TF.softplus(a, 2.0, 5.0), [x])
    compare(lambda a: F.threshold(a, 0.1, -1.0), lambda a: TF.threshold(a, 0.1, -1.0), [x])
    for d in (0, 1, 2, -1):
        compare(lambda a: F.softmax(a, dim=d), lambda a: TF.softmax(a, dim=d), [x])
        compare(lambda a: F.log_softmax(a, dim=d), lambda a: TF.log_softmax(a, dim=d), [x])
        compare(lambda a: F.softmin(a, dim=d), lambda a: TF.softmin(a, dim=d), [x])
    w = np.array([0.1, 0.3, 0.2, 0.4], np.float32)
    compare(F.prelu, TF.prelu, [rnd(2, 4, 3), w])


def test_linear_batch_norm_layer_norm_normalize_embedding():
    compare(F.linear, TF.linear, [rnd(5, 3), rnd(4, 3, seed=1), rnd(4, seed=2)])
    compare(F.linear, TF.linear, [rnd(2, 5, 3), rnd(4, 3, seed=1)])
    x = rnd(6, 3, 2)
    for training in (True, False):
        rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
        rm2, rv2 = torch.zeros(3), torch.ones(3)
        compare(lambda a, w, b: F.batch_norm(a, rm, rv, w, b, training=training, momentum=0.2),
                lambda a, w, b: TF.batch_norm(a, rm2, rv2, w, b, training=training, momentum=0.2),
                [x, rnd(3, seed=1), rnd(3, seed=2)], rtol=3e-5, atol=3e-6)
        np.testing.assert_allclose(rm, rm2.numpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(rv, rv2.numpy(), rtol=1e-5)
    compare(lambda a, w, b: F.layer_norm(a, (2,), w, b), lambda a, w, b: TF.layer_norm(a, (2,), w, b),
            [x, rnd(2, seed=1), rnd(2, seed=2)], rtol=3e-5, atol=3e-6)
    compare(lambda a: F.normalize(a, dim=1), lambda a: TF.normalize(a, dim=1), [x])
    compare(lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b), [rnd(4, 3), rnd(4, 3, seed=1)])
    idx = np.array([[0, 2], [1, 1]])
    compare(lambda w: F.embedding(fastnn.tensor(idx), w), lambda w: TF.embedding(torch.tensor(idx), w), [rnd(3, 4)])
    compare(lambda a: F.one_hot(fastnn.tensor(np.array([0, 2, 1])), 4) * 1.0 + a,
            lambda a: TF.one_hot(torch.tensor(np.array([0, 2, 1])), 4) * 1.0 + a, [rnd(3, 4)])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad(mode):
    for x, pads in ((rnd(2, 3, 5), [(1, 2), (2, 0)]), (rnd(2, 3, 4, 5), [(1, 0, 2, 1), (0, 0, 1, 1)])):
        for p in pads:
            compare(lambda a: F.pad(a, p, mode=mode), lambda a: TF.pad(a, p, mode=mode), [x])
    compare(lambda a: F.pad(a, (2, 1), value=3.5), lambda a: TF.pad(a, (2, 1), value=3.5), [rnd(2, 3, 4, 5)])
    compare(lambda a: F.pad(a, (-1, 2)), lambda a: TF.pad(a, (-1, 2)), [rnd(2, 3, 4)])


@pytest.mark.parametrize("kw", [dict(size=(7, 9), mode="nearest"), dict(scale_factor=2, mode="nearest"),
                                dict(size=(3, 4), mode="nearest"), dict(size=(7, 9), mode="bilinear", align_corners=False),
                                dict(size=(7, 9), mode="bilinear", align_corners=True),
                                dict(scale_factor=0.5, mode="bilinear"), dict(scale_factor=1.7, mode="bilinear")])
def test_interpolate_2d(kw):
    compare(lambda a: F.interpolate(a, **kw), lambda a: TF.interpolate(a, **kw), [rnd(2, 3, 5, 6)], atol=2e-6)


def test_interpolate_1d():
    compare(lambda a: F.interpolate(a, size=9, mode="linear"), lambda a: TF.interpolate(a, size=9, mode="linear"),
            [rnd(2, 3, 5)])


def test_dropout_functional():
    fastnn.manual_seed(0)  # the draw must not depend on what earlier tests took from the stream
    x = fastnn.ones(2000, requires_grad=True)
    y = F.dropout(x, 0.3, training=True)
    kept = y.detach().numpy() != 0
    # 0.05 is 5 sigma of a 2000-draw mean
    assert abs(kept.mean() - 0.7) < 0.05 and np.allclose(y.detach().numpy()[kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7, rtol=1e-6)
    assert F.dropout(x, 0.3, training=False) is x


LOSSES = [
    ("cross_entropy", lambda L: L.cross_entropy, lambda: [rnd(6, 4), np.array([0, 3, 1, 2, 3, 0])], {}),
    ("ce-smooth-sum", lambda L: L.cross_entropy, lambda: [rnd(6, 4), np.array([0, 3, 1, 2, 3, 0])],
     dict(label_smoothing=0.1, reduction="sum")),
    ("ce-weight", lambda L: L.cross_entropy, lambda: [rnd(6, 4), np.array([0, 3, 1, 2, 3, 0])],
     dict(weight="w")),
    ("ce-weight-smooth-ignore", lambda L: L.cross_entropy, lambda: [rnd(6, 4), np.array([0, -100, 1, 2, 3, 0])],
     dict(weight="w", label_smoothing=0.2)),
    ("ce-ignore-none", lambda L: L.cross_entropy, lambda: [rnd(6, 4), np.array([0, 2, 7, 2, 3, 0])],
     dict(ignore_index=7, reduction="none")),
    # an ignore_index that is also a class index: those targets are skipped, not scored
    ("ce-ignore-a-class", lambda L: L.cross_entropy, lambda: [rnd(6, 4), np.array([0, 3, 1, 0, 2, 0])],
     dict(ignore_index=0)),
    ("ce-ignore-a-class-smooth-kdim", lambda L: L.cross_entropy,
     lambda: [rnd(2, 4, 3), np.array([[0, 1, 1], [2, 1, 3]])], dict(ignore_index=1, label_smoothing=0.1)),
    ("ce-probabilities", lambda L: L.cross_entropy, lambda: [rnd(5, 3), np.abs(rnd(5, 3, seed=3))], {}),
    ("ce-kdim", lambda L: L.cross_entropy, lambda: [rnd(2, 4, 3, 2), np.array([[[0, 1], [3, 2], [1, 1]],
                                                                               [[2, 2], [0, 3], [1, 0]]])], {}),
    ("nll", lambda L: L.nll_loss, lambda: [rnd(6, 4), np.array([0, 3, 1, 2, 3, 0])], {}),
    ("nll-weight-ignore", lambda L: L.nll_loss, lambda: [rnd(6, 4), np.array([0, 3, 1, 9, 3, 0])],
     dict(weight="w", ignore_index=9)),
    ("mse", lambda L: L.mse_loss, lambda: [rnd(4, 3), rnd(4, 3, seed=1)], {}),
    ("mse-none", lambda L: L.mse_loss, lambda: [rnd(4, 3), rnd(4, 3, seed=1)], dict(reduction="none")),
    ("l1-sum", lambda L: L.l1_loss, lambda: [rnd(4, 3), rnd(4, 3, seed=1)], dict(reduction="sum")),
    ("smooth_l1", lambda L: L.smooth_l1_loss, lambda: [rnd(4, 3) * 2, rnd(4, 3, seed=1)], dict(beta=0.5)),
    ("huber", lambda L: L.huber_loss, lambda: [rnd(4, 3) * 2, rnd(4, 3, seed=1)], dict(delta=0.7)),
    ("bce", lambda L: L.binary_cross_entropy, lambda: [1 / (1 + np.exp(-rnd(4, 3))), (rnd(4, 3, seed=1) > 0) * 1.0], {}),
    ("bce-logits-posweight", lambda L: L.binary_cross_entropy_with_logits,
     lambda: [rnd(4, 3), (rnd(4, 3, seed=1) > 0) * 1.0], dict(pos_weight="pw")),
    ("kl_div-batchmean", lambda L: L.kl_div, lambda: [np.log(np.abs(rnd(4, 3)) + 0.1), np.abs(rnd(4, 3, seed=1))],
     dict(reduction="batchmean")),
]


@pytest.mark.parametrize("name,fn,make,kw", LOSSES, ids=[c[0] for c in LOSSES])
def test_losses_match_torch(name, fn, make, kw):
    x, t = make()
    x = x.astype(np.float32)
    t = t.astype(np.float32) if t.dtype.kind == "f" else t.astype(np.int64)
    c = x.shape[1] if x.ndim > 1 else 1
    extra = {"w": np.linspace(0.5, 2.0, c).astype(np.float32), "pw": np.linspace(0.5, 2.0, x.shape[-1]).astype(np.float32)}

    def args(lib, conv):
        return {k: (conv(extra[v]) if v in extra else v) for k, v in kw.items()}
    compare(lambda a: fn(F)(a, fastnn.tensor(t), **args(fastnn, fastnn.tensor)),
            lambda a: fn(TF)(a, torch.tensor(t), **args(torch, torch.tensor)), [x], rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("ignore", [0, 2, -100])
def test_cross_entropy_module_on_arrays_ignores_like_torch(ignore):
    """The array form (fit's step) skips targets equal to ignore_index, a class index or not."""
    x, t = rnd(6, 4), np.array([0, 2, 1, 0, 3, 2])
    m = nn.CrossEntropyLoss(ignore_index=ignore)
    v, g = m(x, t), m.backward().copy()
    xt = torch.tensor(x, requires_grad=True)
    want = torch.nn.CrossEntropyLoss(ignore_index=ignore)(xt, torch.tensor(t))
    want.backward()
    np.testing.assert_allclose(v, want.item(), rtol=1e-5)
    np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("cls,args", [(nn.CrossEntropyLoss, {}), (nn.NLLLoss, {}), (nn.MSELoss, {}),
                                      (nn.L1Loss, {"reduction": "sum"}), (nn.BCEWithLogitsLoss, {}),
                                      (nn.SmoothL1Loss, {}), (nn.HuberLoss, {"delta": 0.5})])
def test_loss_modules_on_arrays_and_tensors_agree(cls, args):
    """The explicit-chain form (arrays, loss.backward()) and the tensor form give the same values."""
    x = rnd(5, 3)
    t = np.array([0, 2, 1, 1, 0]) if cls in (nn.CrossEntropyLoss, nn.NLLLoss) else (rnd(5, 3, seed=1) > 0).astype(np.float32)
    m = cls(**args)
    v = m(x, t)
    g = m.backward().copy()
    xt = fastnn.tensor(x, requires_grad=True)
    vt = m(xt, fastnn.tensor(t))
    vt.backward()
    np.testing.assert_allclose(v, vt.item(), rtol=1e-6)
    np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-6)


LAYERS = [lambda: nn.Linear(4, 3), nn.ReLU, nn.Sigmoid, nn.Tanh, nn.ELU, lambda: nn.LeakyReLU(0.2), nn.SELU, nn.GELU,
          nn.SiLU, nn.Softplus, nn.PReLU, lambda: nn.PReLU(4), lambda: nn.BatchNorm1d(4), nn.Flatten, nn.Identity,
          lambda: nn.Softmax(1), lambda: nn.LogSoftmax(1), nn.Hardtanh, nn.Mish, nn.Softsign]


@pytest.mark.parametrize("make", LAYERS)
def test_every_layer_on_tensors_gradchecks_even_when_called_twice(make):
    fastnn.manual_seed(0)
    layer = make().double()
    x = fastnn.tensor(np.random.default_rng(0).standard_normal((5, 4)) + 0.01, requires_grad=True)
    twice = isinstance(layer, (nn.Linear,)) is False and not isinstance(layer, nn.Flatten)

    def f(a, *ps):
        y = layer(a)
        return layer(y) if twice and y.shape == a.shape else y

    assert autograd.gradcheck(f, [x] + list(layer.parameters()), atol=1e-6, rtol=1e-5)


def test_more_layers_match_torch():
    x = rnd(2, 3, 4, 5)
    fastnn.manual_seed(0)
    ln, tln = nn.LayerNorm((4, 5)), torch.nn.LayerNorm((4, 5))
    tln.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ln.state_dict().items()})
    compare(ln, tln, [x], rtol=3e-5, atol=3e-6)
    for f, t in ((nn.ReflectionPad2d(1), torch.nn.ReflectionPad2d(1)), (nn.ReplicationPad2d((1, 0, 2, 1)),
                 torch.nn.ReplicationPad2d((1, 0, 2, 1))), (nn.ZeroPad2d(2), torch.nn.ZeroPad2d(2)),
                 (nn.ConstantPad1d(2, 3.5), torch.nn.ConstantPad1d(2, 3.5)), (nn.Upsample(scale_factor=2),
                 torch.nn.Upsample(scale_factor=2)), (nn.Upsample(size=(3, 7), mode="bilinear"),
                 torch.nn.Upsample(size=(3, 7), mode="bilinear")), (nn.GLU(1), torch.nn.GLU(1)),
                 (nn.Hardswish(), torch.nn.Hardswish()), (nn.Threshold(0.1, 2.0), torch.nn.Threshold(0.1, 2.0))):
        compare(f, t, [x[:, :2] if isinstance(f, nn.GLU) else x], atol=2e-6)
    emb, temb = nn.Embedding(6, 3, padding_idx=1), torch.nn.Embedding(6, 3, padding_idx=1)
    temb.load_state_dict({"weight": torch.tensor(emb.weight.detach().numpy())})
    idx = np.array([[1, 2, 5], [0, 1, 1]])
    yf, yt = emb(fastnn.tensor(idx)), temb(torch.tensor(idx))
    np.testing.assert_array_equal(yf.detach().numpy(), yt.detach().numpy())
    g = rnd(2, 3, 3)
    yf.backward(fastnn.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(emb.weight.grad.numpy(), temb.weight.grad.numpy(), rtol=1e-6)
