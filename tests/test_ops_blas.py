import numpy as np
import pytest
from hypothesis import given, strategies as st

from fastnn import ops, reference as R
from _helpers import DTYPES, assert_grad_close, numgrad, randn, tol

dims = st.integers(0, 70)


@pytest.mark.parametrize("dtype", DTYPES)
@given(m=dims, n=dims, k=dims, ta=st.booleans(), tb=st.booleans(), seed=st.integers(0, 1000))
def test_matmul_transposes_by_flag(dtype, m, n, k, ta, tb, seed):
    a = randn((k, m) if ta else (m, k), dtype, seed)
    b = randn((n, k) if tb else (k, n), dtype, seed + 1)
    got = ops.matmul(a, b, trans_a=ta, trans_b=tb)
    want = (a.T if ta else a) @ (b.T if tb else b)
    np.testing.assert_allclose(got, want, **tol(dtype, 50))
    c = randn((m, n), dtype, seed + 2)
    want2 = 0.5 * want + 2.0 * c
    ops.matmul(a, b, trans_a=ta, trans_b=tb, alpha=0.5, beta=2.0, out=c)
    np.testing.assert_allclose(c, want2, **tol(dtype, 50))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(32, 20), (1, 20), (0, 20), (3, 4, 20), (20,)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_forward_backward(dtype, shape, with_bias):
    x = randn(shape, dtype, 1)
    w = randn((7, 20), dtype, 2)
    b = randn(7, dtype, 3) if with_bias else None
    y = ops.linear(x, w, b)
    np.testing.assert_allclose(y, R.linear(x, w, b), **tol(dtype, 20))
    g = randn(y.shape, dtype, 4)
    gx, gw, gb = ops.linear_backward(g, x, w, need_bias_grad=with_bias)
    rgx, rgw, rgb = R.linear_backward(g, x, w, need_bias_grad=with_bias)
    np.testing.assert_allclose(gx, rgx, **tol(dtype, 20))
    np.testing.assert_allclose(gw, rgw, **tol(dtype, 20))
    if with_bias:
        np.testing.assert_allclose(gb, rgb, **tol(dtype, 20))
    else:
        assert gb is None


def test_linear_gradcheck_and_accumulate():
    x, w, b = randn((5, 4), np.float64, 1), randn((3, 4), np.float64, 2), randn(3, np.float64, 3)
    g = randn((5, 3), np.float64, 4)
    gx, gw, gb = ops.linear_backward(g, x, w)
    assert_grad_close(gx, numgrad(lambda z: ops.linear(z, w, b), x, g))
    assert_grad_close(gw, numgrad(lambda z: ops.linear(x, z, b), w, g))
    assert_grad_close(gb, numgrad(lambda z: ops.linear(x, w, z), b, g))
    aw, ab = np.ones_like(w), np.ones_like(b)
    _, rw, rb = ops.linear_backward(g, x, w, need_input_grad=False, grad_weight=aw, grad_bias=ab,
                                    accumulate=True)
    assert rw is aw and rb is ab
    np.testing.assert_allclose(aw, 1 + gw)
    np.testing.assert_allclose(ab, 1 + gb)


def test_bad_inputs():
    a32, b32 = np.ones((3, 4), np.float32), np.ones((4, 5), np.float32)
    with pytest.raises(ValueError, match="inner dimensions differ"):
        ops.matmul(a32, a32)
    with pytest.raises(TypeError, match="b: expected dtype float32"):
        ops.matmul(a32, b32.astype(np.float64))
    with pytest.raises(ValueError, match="must not overlap a"):
        buf = np.ones((4, 4), np.float32)
        ops.matmul(buf, buf, out=buf)
    with pytest.raises(ValueError, match=r"out: expected shape \(3, 5\)"):
        ops.matmul(a32, b32, out=np.ones((5, 3), np.float32))
    with pytest.raises(ValueError, match="beta"):
        ops.matmul(a32, b32, beta=1.0)
    with pytest.raises(ValueError, match=r"x: expected shape \(\.\.\., 4\)"):
        ops.linear(np.ones((2, 5), np.float32), a32)
    with pytest.raises(ValueError, match=r"bias: expected shape \(3,\)"):
        ops.linear(np.ones((2, 4), np.float32), a32, np.ones(4, np.float32))
    with pytest.raises(TypeError, match="x: expected a float32 or float64 array, got dtype int64"):
        ops.linear(np.ones((2, 4), np.int64), a32)


@pytest.mark.parametrize("shape", [(128, 784, 256), (32, 784, 256), (1000, 300, 100), (77, 513, 129),
                                   (2048, 512, 512)])
def test_products_do_not_depend_on_thread_count(shape):
    """Large products are split into blocks fixed by the shape (not by the thread count), so the
    results are bitwise the same with 1, 2, 3, 5 or 16 threads."""
    import fastnn
    n, i, o = shape
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((n, i)).astype(np.float32), rng.standard_normal((o, i)).astype(np.float32)
    b, g = rng.standard_normal(o).astype(np.float32), rng.standard_normal((n, o)).astype(np.float32)
    res = []
    for nt in (1, 2, 3, 5, 16):  # 16: beyond the cores of most test machines
        with fastnn.set_num_threads(nt):
            res.append((ops.linear(x, w, b),) + ops.linear_backward(g, x, w))
    for r in res[1:]:
        for a, c in zip(res[0], r):
            np.testing.assert_array_equal(a, c)
