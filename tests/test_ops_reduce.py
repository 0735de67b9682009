import numpy as np
import pytest

import fastnn
from fastnn import ops, reference as R
from _helpers import DTYPES, randn


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 4095, 4097, 1_000_001])
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, np.inf])
def test_norm_pow(dtype, n, p):
    x = randn(n, dtype, 1)
    assert ops.norm_pow(x, p) == pytest.approx(R.norm_pow(x, p), rel=1e-10)


def test_global_norm_and_sum_squares():
    arrs = [randn(s, np.float32, i) for i, s in enumerate([(3, 4), (100,), (0,), (7, 2, 2)])]
    flat = np.concatenate([a.ravel().astype(np.float64) for a in arrs])
    assert ops.sum_squares(arrs) == pytest.approx(float(flat @ flat), rel=1e-12)
    assert ops.global_norm(arrs) == pytest.approx(np.linalg.norm(flat), rel=1e-12)
    assert ops.global_norm(arrs, np.inf) == pytest.approx(np.abs(flat).max())
    assert ops.global_norm(arrs, 1.0) == pytest.approx(np.abs(flat).sum(), rel=1e-12)
    assert np.isnan(ops.global_norm([np.array([1.0, np.nan])]))
    assert np.isinf(ops.global_norm([np.array([1.0, np.inf])]))


def test_scale_and_clamp_in_place():
    x = randn(100_001, np.float32, 2)
    want = np.clip(x * np.float32(0.5), -0.3, 0.3)
    assert ops.scale_(x, 0.5) is x
    ops.clamp_(x, -0.3, 0.3)
    np.testing.assert_array_equal(x, want)
    y = np.array([np.nan, 5.0])
    ops.clamp_(y, -1, 1)
    assert np.isnan(y[0]) and y[1] == 1
    with pytest.raises(ValueError, match="must be C-contiguous"):
        ops.scale_(np.ones((4, 4))[:, 0], 2.0)
    with pytest.raises(ValueError, match="read-only"):
        r = np.ones(3)
        r.flags.writeable = False
        ops.scale_(r, 2.0)
    with pytest.raises(ValueError, match="min, max"):
        ops.clamp_(y, 1, -1)


def test_norm_thread_invariant_bitwise():
    x = randn(3_000_017, np.float32, 3)
    vals = []
    for n in (1, 2, 7):
        with fastnn.set_num_threads(n):
            vals.append((ops.norm_pow(x, 2.0), ops.norm_pow(x, 1.0), ops.norm_pow(x, np.inf)))
    assert vals[0] == vals[1] == vals[2]


def test_set_num_threads():
    before = fastnn.get_num_threads()
    with fastnn.set_num_threads(3):
        assert fastnn.get_num_threads() == 3
    assert fastnn.get_num_threads() == before
    with pytest.raises(ValueError, match="n: expected an int >= 1"):
        fastnn.set_num_threads(0)
    with pytest.raises(TypeError):
        fastnn.set_num_threads(1.5)
