"""Numerical gradient checks (central differences, float64, relative error < 1e-6) of every layer,
every loss, and small whole models mixing them."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from _helpers import assert_grad_close, randn


def check_module(m, x, reset=None):
    """Input and parameter gradients of sum(g * m(x)) against central differences."""
    m.to(np.float64)
    x = x.astype(np.float64)
    y = m(x).copy()
    g = randn(y.shape, np.float64, 99)

    def f():
        if reset:
            reset()
        return float(np.sum(g * m(x)))

    if reset:
        reset()
    m.zero_grad()
    m(x)
    gx = m.backward(g).copy()
    h = 1e-6
    num = np.zeros_like(x)
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + h
        fp = f()
        x.flat[i] = old - h
        fm = f()
        x.flat[i] = old
        num.flat[i] = (fp - fm) / (2 * h)
    assert_grad_close(gx, num)
    for name, p in m.named_parameters():
        a = p.data.numpy()
        num = np.zeros_like(a)
        for i in range(a.size):
            old = a.flat[i]
            a.flat[i] = old + h
            fp = f()
            a.flat[i] = old - h
            fm = f()
            a.flat[i] = old
            num.flat[i] = (fp - fm) / (2 * h)
        assert_grad_close(p.grad, num), name


def away_from_zero(shape, seed):
    x = randn(shape, np.float64, seed, 1.5)
    x[np.abs(x) < 0.05] += 0.1
    return x


LAYERS = [
    ("linear", lambda: nn.Linear(5, 4), (6, 5)),
    ("linear-nobias", lambda: nn.Linear(5, 3, bias=False), (4, 5)),
    ("linear-3d", lambda: nn.Linear(3, 2), (2, 4, 3)),
    ("sigmoid", nn.Sigmoid, (4, 5)),
    ("tanh", nn.Tanh, (4, 5)),
    ("relu", nn.ReLU, (4, 5)),
    ("leaky", lambda: nn.LeakyReLU(0.1), (4, 5)),
    ("elu", nn.ELU, (4, 5)),
    ("selu", nn.SELU, (4, 5)),
    ("gelu", nn.GELU, (4, 5)),
    ("gelu-tanh", lambda: nn.GELU("tanh"), (4, 5)),
    ("silu", nn.SiLU, (4, 5)),
    ("softplus", nn.Softplus, (4, 5)),
    ("prelu1", nn.PReLU, (4, 5)),
    ("prelu5", lambda: nn.PReLU(5), (4, 5)),
    ("bn1d-train", lambda: nn.BatchNorm1d(5), (6, 5)),
    ("bn1d-3d", lambda: nn.BatchNorm1d(3), (4, 3, 2)),
    ("bn2d-train", lambda: nn.BatchNorm2d(2), (3, 2, 2, 3)),
    ("bn1d-noaffine", lambda: nn.BatchNorm1d(4, affine=False), (5, 4)),
    ("flatten", nn.Flatten, (2, 3, 2)),
    ("identity", nn.Identity, (3, 2)),
]


@pytest.mark.parametrize("name,make,shape", LAYERS, ids=[n for n, _, _ in LAYERS])
def test_layer_gradients(name, make, shape):
    fastnn.manual_seed(1)
    check_module(make(), away_from_zero(shape, 2))


def test_batchnorm_eval_gradients():
    bn = nn.BatchNorm1d(4).to(np.float64)
    bn.running_mean[...] = [0.1, -0.2, 0.3, 0.0]
    bn.running_var[...] = [0.5, 1.5, 2.0, 1.0]
    bn.eval()
    check_module(bn, away_from_zero((5, 4), 3))


@pytest.mark.parametrize("make", [lambda: nn.Dropout(0.3), lambda: nn.RReLU()], ids=["dropout", "rrelu"])
def test_random_layers_gradients_in_training(make):
    m = make()
    check_module(m, away_from_zero((6, 7), 4), reset=lambda: m.manual_seed(1234))


def test_whole_model_gradients():
    fastnn.manual_seed(3)
    m = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ELU(), nn.Dropout(0.5), nn.Linear(5, 3))
    m[3].eval()  # Dropout(eval) as the model; BatchNorm in training mode
    check_module(m, away_from_zero((7, 6), 5))
    m2 = nn.Sequential(nn.Linear(4, 6), nn.PReLU(6), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2), nn.SiLU())
    check_module(m2, away_from_zero((3, 4), 6))


LOSSES = [
    ("ce", lambda: nn.CrossEntropyLoss(), "class"),
    ("ce-smooth-sum", lambda: nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.1), "class"),
    ("nll", lambda: nn.NLLLoss(), "class"),
    ("mse", lambda: nn.MSELoss(), "real"),
    ("mse-sum", lambda: nn.MSELoss(reduction="sum"), "real"),
    ("l1", lambda: nn.L1Loss(), "real"),
    ("bce", lambda: nn.BCEWithLogitsLoss(), "binary"),
]


@pytest.mark.parametrize("name,make,kind", LOSSES, ids=[n for n, _, _ in LOSSES])
def test_loss_gradients(name, make, kind):
    lf = make()
    out = away_from_zero((5, 4), 7)
    rng = np.random.default_rng(0)
    t = {"class": rng.integers(0, 4, 5), "real": randn((5, 4), np.float64, 8),
         "binary": (rng.random((5, 4)) > 0.5).astype(np.float64)}[kind]
    loss = lf(out, t)
    assert isinstance(loss, float)
    g = lf.backward().copy()
    num = np.zeros_like(out)
    h = 1e-6
    for i in range(out.size):
        o = out.flat[i]
        out.flat[i] = o + h
        fp = lf(out, t)
        out.flat[i] = o - h
        fm = lf(out, t)
        out.flat[i] = o
        num.flat[i] = (fp - fm) / (2 * h)
    assert_grad_close(g, num)
