"""The explicit chain run from compiled code (fastnn._ext._chain): bitwise the layers' own _fwd/_bwd
for every kind it runs, and the layers' own methods for anything else."""
import copy

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn._workspace import Workspace
from _helpers import DTYPES


def every_kind(dtype, p=0.3):
    fastnn.manual_seed(3)
    return nn.Sequential(nn.Linear(7, 16, dtype=dtype), nn.ReLU(), nn.LeakyReLU(0.1), nn.ELU(0.7), nn.SELU(),
                         nn.Sigmoid(), nn.Tanh(), nn.SiLU(), nn.GELU(), nn.GELU("tanh"), nn.Softplus(2.0, 5.0),
                         nn.Dropout(p), nn.Identity(), nn.BatchNorm1d(16, dtype=dtype), nn.Linear(16, 5, dtype=dtype))


def test_which_layers_it_runs():
    for cls in (nn.Linear, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.SELU, nn.Sigmoid, nn.Tanh, nn.SiLU, nn.GELU,
                nn.Softplus, nn.Dropout, nn.Identity):
        assert cls._chain, cls
    for cls in (nn.BatchNorm1d, nn.Conv2d, nn.PReLU, nn.Dropout2d, nn.Sequential):
        assert not cls._chain, cls

    class Mine(nn.Linear):  # its own kernel pair: the chain calls it
        def _fwd(self, x):
            return super()._fwd(x)
    assert not Mine._chain


def python_path(model):
    """A deep copy whose layers run their own methods (an instance's _fwd/_bwd opts it out)."""
    m = copy.deepcopy(model)
    for layer in m:
        layer._fwd, layer._bwd = layer._fwd, layer._bwd
    return m


def run(m, x, g, assign):
    y = m(x)
    if not assign:
        m.zero_grad()
    gx = m.backward(g, accumulate=not assign)
    return y.copy(), gx.copy(), [p.grad.numpy().copy() for p in m.parameters()]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(9, 7), (2, 3, 7), (7,)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("assign", [True, False])
def test_bitwise_the_layers_own_methods(dtype, shape, training, assign):
    fast = every_kind(dtype)
    if len(shape) != 2:  # batch norm wants (N, C)
        fast = nn.Sequential(*[layer for layer in fast if not isinstance(layer, nn.BatchNorm1d)])
    slow = python_path(fast)
    fast.train(training)
    slow.train(training)
    rng = np.random.default_rng(1)
    for step in range(3):  # dropout's stream advances alike
        x = rng.standard_normal(shape).astype(dtype)
        g = rng.standard_normal(shape[:-1] + (5,)).astype(dtype)
        a, b = run(fast, x, g, assign), run(slow, x, g, assign)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        for u, v in zip(a[2], b[2]):
            np.testing.assert_array_equal(u, v)


def test_other_inputs_go_through_the_layers_own_methods():
    m = every_kind(np.float32)
    ref = python_path(m)
    xi = np.arange(63, dtype=np.int64).reshape(9, 7) % 5        # integers: converted by the layer
    xs = np.random.default_rng(2).standard_normal((7, 9)).astype(np.float32).T  # not contiguous
    for x in (xi, xs):
        np.testing.assert_array_equal(m(x), ref(x))
    with pytest.raises(ValueError, match=r"Linear\(7.16\) got input of shape \(9, 8\)"):
        m(np.zeros((9, 8), np.float32))


def test_a_changed_setting_takes_effect_at_once():
    """The chain reads each layer's settings every call (nothing cached)."""
    m = nn.Sequential(nn.Linear(4, 50), nn.Dropout(0.0), nn.LeakyReLU(0.0))
    x = np.ones((64, 4), np.float32)
    assert (m(x) != 0).mean() > 0.2
    m[1].p = 1.0
    assert not m(x).any()
    m[1].p, m[2].negative_slope = 0.0, 1.0
    np.testing.assert_array_equal(m(x), m[0](x))


def test_workspace_never_hands_out_what_someone_holds():
    ws = Workspace()
    a = ws.get("y", (3, 4), np.float32)
    b = ws.get("y", (3, 4), np.float32)
    assert a is not b  # a is held here
    del a
    c = ws.get("y", (3, 4), np.float32)
    assert c is not b and c.shape == (3, 4) and c.dtype == np.float32
    kept = [ws.get("z", (2,), np.float64) for _ in range(6)]  # more than a pool keeps: fresh arrays
    assert len({id(k) for k in kept}) == 6
