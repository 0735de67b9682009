import numpy as np
import pytest
from hypothesis import given, strategies as st

import fastnn
from fastnn import ops, reference as R
from _helpers import DTYPES, assert_grad_close, numgrad, randn, tol


@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(0, 70), c=st.integers(1, 300), seed=st.integers(0, 2**31 - 1))
def test_softmax_and_log_softmax(dtype, n, c, seed):
    x = randn((n, c), dtype, seed, scale=5.0)
    g = randn((n, c), dtype, seed + 1)
    y = ops.softmax(x)
    np.testing.assert_allclose(y, R.softmax(x), **tol(dtype, 10))
    ly = ops.log_softmax(x)
    np.testing.assert_allclose(ly, R.log_softmax(x), **tol(dtype, 10))
    np.testing.assert_allclose(ops.softmax_backward(g, y), R.softmax_backward(g, y), **tol(dtype, 10))
    np.testing.assert_allclose(ops.log_softmax_backward(g, ly), R.log_softmax_backward(g, ly),
                               **tol(dtype, 10))


def test_softmax_stable_and_gradcheck():
    x = np.array([[1000.0, 1001.0, 999.0], [-1e4, 0.0, 1e4]])
    np.testing.assert_allclose(ops.softmax(x).sum(axis=1), 1.0)
    assert np.all(np.isfinite(ops.log_softmax(x)))
    x = randn((4, 6), np.float64, 1)
    g = randn((4, 6), np.float64, 2)
    assert_grad_close(ops.softmax_backward(g, ops.softmax(x)), numgrad(ops.softmax, x, g))
    assert_grad_close(ops.log_softmax_backward(g, ops.log_softmax(x)), numgrad(ops.log_softmax, x, g))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("eps", [0.0, 0.1])
@given(n=st.integers(1, 200), c=st.integers(1, 50), seed=st.integers(0, 2**31 - 1))
def test_cross_entropy(dtype, reduction, eps, n, c, seed):
    x = randn((n, c), dtype, seed, scale=3.0)
    t = np.random.default_rng(seed).integers(0, c, n)
    loss, grad = ops.cross_entropy(x, t, reduction=reduction, label_smoothing=eps, return_grad=True)
    rloss, rgrad = R.cross_entropy(x, t, reduction=reduction, label_smoothing=eps, return_grad=True)
    np.testing.assert_allclose(loss, rloss, **tol(dtype, 20))
    np.testing.assert_allclose(grad, rgrad, **tol(dtype, 20))
    assert ops.cross_entropy(x, t, reduction=reduction, label_smoothing=eps) == pytest.approx(loss) \
        if reduction != "none" else True


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_cross_entropy_gradcheck(eps):
    x = randn((5, 4), np.float64, 3)
    t = np.array([0, 3, 1, 1, 2])
    _, g = ops.cross_entropy(x, t, label_smoothing=eps, return_grad=True)
    assert_grad_close(g, numgrad(lambda z: ops.cross_entropy(z, t, label_smoothing=eps), x, 1.0))


def test_cross_entropy_bad_targets():
    x = randn((3, 4), np.float32, 1)
    with pytest.raises(ValueError, match=r"target: class index 4 at position 1 is outside \[0, 4\)"):
        ops.cross_entropy(x, [0, 4, 1])
    with pytest.raises(ValueError, match="class index -1"):
        ops.cross_entropy(x, [0, -1, 1])
    with pytest.raises(TypeError, match="target: expected integer class indices"):
        ops.cross_entropy(x, [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"target: expected shape \(3,\)"):
        ops.cross_entropy(x, [0, 1])
    with pytest.raises(ValueError, match="reduction"):
        ops.cross_entropy(x, [0, 1, 2], reduction="avg")
    assert np.isnan(ops.cross_entropy(np.zeros((0, 4)), np.zeros(0, np.int64)))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(n=st.sampled_from([0, 1, 5, 4096, 4097, 50001]), seed=st.integers(0, 2**31 - 1))
def test_pair_losses(name, dtype, reduction, n, seed):
    p = randn(n, dtype, seed, scale=3.0)
    t = randn(n, dtype, seed + 1)
    if name.startswith("binary"):
        t = (t > 0).astype(dtype)
    loss, grad = getattr(ops, name)(p, t, reduction=reduction, return_grad=True)
    rloss, rgrad = getattr(R, name)(p, t, reduction=reduction, return_grad=True)
    np.testing.assert_allclose(loss, rloss, **tol(dtype, 20))
    np.testing.assert_allclose(grad, rgrad, **tol(dtype, 20))


@pytest.mark.parametrize("name", ["mse_loss", "binary_cross_entropy_with_logits"])
def test_pair_loss_gradcheck(name):
    p = randn(11, np.float64, 1)
    t = (randn(11, np.float64, 2) > 0).astype(np.float64)
    _, g = getattr(ops, name)(p, t, return_grad=True)
    assert_grad_close(g, numgrad(lambda z: getattr(ops, name)(z, t), p, 1.0))


def test_losses_thread_invariant_bitwise():
    x = randn((5000, 100), np.float32, 3, scale=3.0)
    t = np.random.default_rng(0).integers(0, 100, 5000)
    p, q = randn(1_000_003, np.float32, 4), randn(1_000_003, np.float32, 5)
    res = []
    for n in (1, 2, 5):
        with fastnn.set_num_threads(n):
            res.append((ops.cross_entropy(x, t), ops.mse_loss(p, q),
                        ops.binary_cross_entropy_with_logits(p, (q > 0).astype(np.float32))))
    assert res[0] == res[1] == res[2]
