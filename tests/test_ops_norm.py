import numpy as np
import pytest
from hypothesis import given, strategies as st

import fastnn
from fastnn import ops, reference as R
from _helpers import DTYPES, assert_grad_close, numgrad, randn, tol

bn_shapes = st.one_of(st.tuples(st.integers(2, 300), st.integers(1, 70)),
                      st.tuples(st.integers(1, 6), st.integers(1, 9), st.integers(1, 9), st.integers(1, 9)))


@pytest.mark.parametrize("dtype", DTYPES)
@given(shape=bn_shapes, seed=st.integers(0, 2**31 - 1), offset=st.sampled_from([0.0, 1e4]))
def test_stats_match_numpy(dtype, shape, seed, offset):
    x = (randn(shape, np.float64, seed) + offset).astype(dtype)
    m, v = ops.batch_norm_stats(x)
    x64 = x.astype(np.float64)
    ax = (0,) + tuple(range(2, x.ndim))
    np.testing.assert_allclose(m, x64.mean(axis=ax), rtol=1e-6 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 1e-12)
    # float64 accumulation with a shift: exact even when |mean| >> std
    np.testing.assert_allclose(v, x64.var(axis=ax), rtol=1e-5 if dtype == np.float32 else 1e-9,
                               atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(32, 7), (5, 3, 4, 4), (2, 1), (64, 300)])
@pytest.mark.parametrize("affine", [True, False])
def test_forward_train_eval_and_running_stats(dtype, shape, affine):
    x = randn(shape, dtype, 1, scale=2.0) + 0.5
    C = shape[1]
    w = np.linspace(0.5, 1.5, C).astype(dtype) if affine else None
    b = np.linspace(-1, 1, C).astype(dtype) if affine else None
    rm, rv = np.zeros(C, dtype), np.ones(C, dtype)
    rrm, rrv = rm.copy(), rv.copy()
    y, sm, si = ops.batch_norm(x, w, b, rm, rv, training=True, momentum=0.1, return_stats=True)
    yr, _, _ = R.batch_norm(x, w, b, rrm, rrv, training=True, momentum=0.1, return_stats=True)
    np.testing.assert_allclose(y, yr, **tol(dtype, 20))
    np.testing.assert_allclose(rm, rrm, **tol(dtype, 10))
    np.testing.assert_allclose(rv, rrv, **tol(dtype, 10))
    ye = ops.batch_norm(x, w, b, rm, rv, training=False)
    np.testing.assert_allclose(ye, R.batch_norm(x, w, b, rm, rv, training=False), **tol(dtype, 20))


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_backward_gradcheck(shape, training):
    x = randn(shape, np.float64, 2, scale=1.5)
    C = shape[1]
    w, b = np.linspace(0.5, 2.0, C), np.linspace(-1, 1, C)
    rm, rv = np.linspace(-0.2, 0.3, C), np.linspace(0.5, 2.0, C)
    g = randn(shape, np.float64, 3)

    def fwd(xx, ww=w, bb=b):
        return ops.batch_norm(xx, ww, bb, rm.copy(), rv.copy(), training=training)

    if training:
        _, mean, invstd = ops.batch_norm(x, w, b, None, None, training=True, return_stats=True)
    else:
        mean, invstd = rm, 1 / np.sqrt(rv + 1e-5)
    gx, gw, gb = ops.batch_norm_backward(g, x, w, mean, invstd, training=training)
    assert_grad_close(gx, numgrad(fwd, x, g))
    assert_grad_close(gw, numgrad(lambda ww: fwd(x, ww), w, g))
    assert_grad_close(gb, numgrad(lambda bb: fwd(x, w, bb), b, g))
    rgx, rgw, rgb = R.batch_norm_backward(g, x, w, mean, invstd, training=training)
    np.testing.assert_allclose(gx, rgx, rtol=1e-10, atol=1e-12)
    # accumulate into existing gradient buffers
    aw, ab = np.ones(C), np.ones(C)
    ops.batch_norm_backward(g, x, w, mean, invstd, training=training, grad_weight=aw, grad_bias=ab,
                            accumulate=True)
    np.testing.assert_allclose(aw, 1 + gw)
    np.testing.assert_allclose(ab, 1 + gb)


def test_stats_thread_invariant_bitwise():
    for shape in [(256, 4096), (8, 64, 32, 32), (1000, 3)]:
        x = randn(shape, np.float32, 4, scale=3.0) + 2
        g = randn(shape, np.float32, 5)
        res = []
        for n in (1, 2, 3, 16):
            with fastnn.set_num_threads(n):
                m, v = ops.batch_norm_stats(x)
                _, sm, si = ops.batch_norm(x, None, None, None, None, training=True, return_stats=True)
                gx, gw, gb = ops.batch_norm_backward(g, x, None, sm, si)
                res.append((m, v, gx, gw, gb, ops.channel_sum(x)))
        for r in res[1:]:
            for a, b in zip(res[0], r):
                np.testing.assert_array_equal(a, b)


def test_channel_sum():
    x = randn((37, 5, 3), np.float64, 6)
    np.testing.assert_allclose(ops.channel_sum(x), x.sum(axis=(0, 2)))
    out = np.ones(5)
    ops.channel_sum(x, out=out, accumulate=True)
    np.testing.assert_allclose(out, 1 + x.sum(axis=(0, 2)))
    np.testing.assert_array_equal(ops.channel_sum(np.zeros((0, 4))), np.zeros(4))


def test_bad_inputs_change_nothing():
    x = randn((8, 3), np.float32, 7)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ValueError, match="batch-norm statistics need at least one value"):
        ops.batch_norm_stats(np.zeros((0, 3), np.float32))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        ops.batch_norm_stats(np.zeros(5, np.float32))
    with pytest.raises(ValueError, match=r"running_var: expected shape \(3,\)"):
        ops.batch_norm(x, None, None, rm, np.ones(4, np.float32), training=True)
    with pytest.raises(TypeError, match="running_mean: expected dtype float32"):
        ops.batch_norm(x, None, None, np.zeros(3), rv, training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        ops.batch_norm(x[:1], None, None, rm, rv, training=True)
    with pytest.raises(ValueError, match="eps: expected > 0"):
        ops.batch_norm(x, None, None, rm, rv, training=True, eps=0.0)
    np.testing.assert_array_equal(rm, 0)
    np.testing.assert_array_equal(rv, 1)
