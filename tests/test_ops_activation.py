import numpy as np
import pytest
from hypothesis import given, strategies as st

import fastnn
from fastnn import ops, reference as R
from _helpers import DTYPES, assert_grad_close, numgrad, randn, shapes, tol

# (name, kwargs, backward takes the forward output?)
ACTS = [
    ("sigmoid", {}, True),
    ("tanh", {}, True),
    ("relu", {}, False),
    ("leaky_relu", {"negative_slope": 0.01}, False),
    ("leaky_relu", {"negative_slope": 0.2}, False),
    ("elu", {"alpha": 1.0}, False),
    ("elu", {"alpha": 0.5}, False),
    ("selu", {}, False),
    ("gelu", {}, False),
    ("gelu", {"approximate": "tanh"}, False),
    ("silu", {}, False),
    ("softplus", {}, False),
    ("softplus", {"beta": 2.0, "threshold": 5.0}, False),
]
IDS = [f"{n}-{k}" for n, k, _ in ACTS]


@pytest.mark.parametrize("name,kw,from_y", ACTS, ids=IDS)
@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1))
def test_forward_backward_match_numpy(name, kw, from_y, dtype, shape, seed):
    x = randn(shape, dtype, seed, scale=3.0)
    g = randn(shape, dtype, seed + 1)
    y = getattr(ops, name)(x, **kw)
    assert y.dtype == dtype and y.shape == x.shape
    np.testing.assert_allclose(y, getattr(R, name)(x, **kw), **tol(dtype, 4))
    v = y if from_y else x
    dx = getattr(ops, name + "_backward")(g, v, **kw)
    np.testing.assert_allclose(dx, getattr(R, name + "_backward")(g, v, **kw), **tol(dtype, 4))


@pytest.mark.parametrize("name,kw,from_y", ACTS, ids=IDS)
def test_backward_matches_finite_differences(name, kw, from_y):
    x = randn((7, 9), np.float64, 3, scale=2.0)
    x[np.abs(x) < 1e-3] += 0.01  # keep away from the kinks of relu-like functions
    g = randn((7, 9), np.float64, 4)
    f = getattr(ops, name)
    v = f(x, **kw) if from_y else x
    dx = getattr(ops, name + "_backward")(g, v, **kw)
    assert_grad_close(dx, numgrad(lambda z: f(z, **kw), x, g))


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_values(dtype):
    x = np.array([-np.inf, -1e30, -100, -88.5, -20, -1e-8, 0, 1e-8, 20, 88.5, 100, 1e30, np.inf, np.nan], dtype)
    with np.errstate(all="ignore"):
        for name in ["sigmoid", "tanh", "elu", "selu", "gelu", "silu", "softplus", "relu"]:
            got, want = getattr(ops, name)(x), getattr(R, name)(x)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-30, equal_nan=True, err_msg=name)


def test_in_place_out_and_noncontiguous():
    x = randn((64, 33), np.float32, 1)
    want = R.elu(x)
    y = x.copy()
    assert ops.elu(y, out=y) is y
    np.testing.assert_allclose(y, want, **tol(np.float32))
    xt = x.T  # non-contiguous input is copied once and handled
    np.testing.assert_allclose(ops.tanh(xt), np.tanh(xt), **tol(np.float32, 4))
    buf = np.zeros(100, np.float32)
    with pytest.raises(ValueError, match="out: must not overlap x"):
        ops.relu(buf[1:], out=buf[:-1])
    with pytest.raises(ValueError, match="out: expected shape"):
        ops.relu(x, out=np.empty((3, 3), np.float32))
    with pytest.raises(TypeError, match="out: expected dtype float32"):
        ops.relu(x, out=np.empty(x.shape, np.float64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,wshape", [((6, 5), (1,)), ((6, 5), (5,)), ((4, 3, 5, 2), (3,)),
                                          ((4, 3, 5, 2), (1,)), ((9,), (1,)), ((0, 4), (4,))])
def test_prelu(dtype, shape, wshape):
    x = randn(shape, dtype, 5)
    w = np.linspace(0.1, 0.4, int(np.prod(wshape))).astype(dtype).reshape(wshape)
    g = randn(shape, dtype, 6)
    np.testing.assert_allclose(ops.prelu(x, w), R.prelu(x, w), **tol(dtype))
    gx, gw = ops.prelu_backward(g, x, w)
    rgx, rgw = R.prelu_backward(g, x, w)
    np.testing.assert_allclose(gx, rgx, **tol(dtype))
    np.testing.assert_allclose(gw, rgw, **tol(dtype, 10))
    acc = np.ones(wshape, dtype)
    ops.prelu_backward(g, x, w, grad_weight=acc, accumulate=True)
    np.testing.assert_allclose(acc, 1 + rgw, **tol(dtype, 10))


def test_prelu_gradcheck():
    x = randn((5, 3, 4), np.float64, 8)
    w = np.array([0.25, 0.1, -0.3])
    g = randn((5, 3, 4), np.float64, 9)
    gx, gw = ops.prelu_backward(g, x, w)
    assert_grad_close(gx, numgrad(lambda z: ops.prelu(z, w), x, g))
    assert_grad_close(gw, numgrad(lambda ww: ops.prelu(x, ww), w, g))
    with pytest.raises(ValueError, match="weight: expected 1 value or one per channel"):
        ops.prelu(x, np.ones(2))


@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=shapes, seed=st.integers(0, 2**64 - 1))
def test_rrelu_and_dropout_match_reference_bit_for_bit(dtype, shape, seed):
    x = randn(shape, dtype, 1, scale=2.0)
    g = randn(shape, dtype, 2)
    np.testing.assert_array_equal(ops.dropout(x, 0.3, seed=seed), R.dropout(x, 0.3, seed=seed))
    np.testing.assert_array_equal(ops.dropout_backward(g, 0.3, seed=seed),
                                  R.dropout_backward(g, 0.3, seed=seed))
    y = ops.rrelu(x, training=True, seed=seed)
    np.testing.assert_allclose(y, R.rrelu(x, training=True, seed=seed), **tol(dtype))
    dx = ops.rrelu_backward(g, x, training=True, seed=seed)
    np.testing.assert_allclose(dx, R.rrelu_backward(g, x, training=True, seed=seed), **tol(dtype))


def test_dropout_statistics_and_edges():
    x = np.ones(1_000_000, np.float32)
    y = ops.dropout(x, 0.5, seed=123)
    kept = np.count_nonzero(y)
    assert abs(kept / x.size - 0.5) < 0.003
    assert set(np.unique(y)) == {0.0, 2.0}
    assert abs(y.mean() - 1.0) < 0.006  # inverted dropout keeps the expectation
    np.testing.assert_array_equal(ops.dropout(x, 0.0, seed=1), x)
    np.testing.assert_array_equal(ops.dropout(x, 1.0, seed=1), np.zeros_like(x))
    assert not np.array_equal(ops.dropout(x, 0.5, seed=1), ops.dropout(x, 0.5, seed=2))
    with pytest.raises(ValueError, match="p: expected a probability"):
        ops.dropout(x, 1.5, seed=0)
    with pytest.raises(ValueError, match="seed"):
        ops.dropout(x, 0.5, seed=-1)


def test_rrelu_slopes_in_range_and_eval_mean():
    x = -np.ones(100_000)
    a = -ops.rrelu(x, 0.125, 1 / 3, training=True, seed=9)
    assert a.min() >= 0.125 and a.max() <= 1 / 3 and abs(a.mean() - (0.125 + 1 / 3) / 2) < 1e-3
    np.testing.assert_allclose(ops.rrelu(x), -np.full_like(x, (0.125 + 1 / 3) / 2))
    with pytest.raises(ValueError, match="lower, upper"):
        ops.rrelu(x, 0.5, 0.1)


@pytest.mark.parametrize("name", ["sigmoid", "elu", "gelu", "relu"])
def test_results_do_not_depend_on_thread_count(name):
    x = randn(300_001, np.float32, 11, scale=3.0)
    outs = []
    for n in (1, 2, 3, 8):
        with fastnn.set_num_threads(n):
            outs.append((getattr(ops, name)(x), ops.dropout(x, 0.4, seed=77),
                         ops.rrelu(x, training=True, seed=5)))
    for o in outs[1:]:
        for a, b in zip(outs[0], o):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad,exc,msg", [
    (np.arange(10), TypeError, "x: expected a float32 or float64 array, got dtype int64"),
    (np.ones(3, np.float16), TypeError, "float16"),
    (np.ones(3, np.complex128), TypeError, "complex128"),
    ("abc", TypeError, "x: expected a float32 or float64 array"),
])
def test_bad_inputs(bad, exc, msg):
    with pytest.raises(exc, match=msg):
        ops.relu(bad)


def test_mixed_dtypes_and_shapes_refused():
    x = np.ones((4, 5), np.float32)
    with pytest.raises(TypeError, match="grad_out: expected dtype float32"):
        ops.relu_backward(np.ones((4, 5)), x)
    with pytest.raises(ValueError, match=r"grad_out: expected shape \(4, 5\)"):
        ops.relu_backward(np.ones((5, 4), np.float32), x)
    with pytest.raises(ValueError, match="beta: expected > 0"):
        ops.softplus(x, beta=0.0)
    with pytest.raises(ValueError, match="approximate"):
        ops.gelu(x, approximate="fast")
