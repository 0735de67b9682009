"""fastnn's own matrix-product kernels (csrc/gemm.inc): accuracy on every layout and edge, BLAS's
alpha/beta rules, bitwise independence of the thread count, and the narrower instruction sets."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastnn
from fastnn import ops, reference as R
from fastnn._ext import _blas
from _helpers import DTYPES, tol

# edges of every kind: single rows and columns, micro-tile remainders (12/8/4 rows, 16/32 columns on
# AVX-512; 6/4/2 and 8/16 on AVX2), narrow panels, several k-blocks (384 / 512), tall tiles (> 264
# rows; P packed in blocks when at least 16 column panels reuse them: 300 x 520), K = 0
SHAPES = [(1, 1, 1), (3, 10, 64), (12, 32, 384), (13, 33, 385), (33, 100, 1000), (300, 17, 50),
          (600, 64, 800), (5, 300, 3), (257, 31, 769), (7, 9, 0), (64, 1, 70), (300, 520, 40)]
LAYOUTS = [(False, False), (True, False), (False, True), (True, True)]


def operands(m, n, k, ta, tb, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    return a, b, c


def reference(a, b, ta, tb, alpha, beta, c):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return alpha * ((a64.T if ta else a64) @ (b64.T if tb else b64)) + beta * c.astype(np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_float64_reference(shape, ta, tb, dtype):
    m, n, k = shape
    a, b, c0 = operands(m, n, k, ta, tb, dtype)
    scale = 10 * np.sqrt(max(k, 1))
    for alpha, beta in ((1.0, 0.0), (1.0, 1.0), (0.5, 2.0), (-1.5, 0.0)):
        c = c0.copy()
        got = ops.matmul(a, b, trans_a=ta, trans_b=tb, alpha=alpha, beta=beta, out=c)
        assert got is c
        np.testing.assert_allclose(c, reference(a, b, ta, tb, alpha, beta, c0), **tol(dtype, scale))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", LAYOUTS)
@pytest.mark.parametrize("shape", [(13, 33, 385), (300, 17, 50), (600, 64, 800), (128, 256, 784),
                                   (32, 784, 256), (257, 31, 769), (300, 520, 40)])
def test_bitwise_the_same_for_any_thread_count(shape, ta, tb, dtype):
    """Each element is one multiply-add chain over k whatever the split between threads."""
    m, n, k = shape
    a, b, c0 = operands(m, n, k, ta, tb, dtype, seed=1)
    res = []
    for nt in (1, 2, 3, 5, 16):
        with fastnn.set_num_threads(nt):
            c = c0.copy()
            ops.matmul(a, b, trans_a=ta, trans_b=tb, alpha=0.75, beta=1.0, out=c)
            res.append((ops.matmul(a, b, trans_a=ta, trans_b=tb), c))
    for r in res[1:]:
        np.testing.assert_array_equal(r[0], res[0][0])
        np.testing.assert_array_equal(r[1], res[0][1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_beta_zero_does_not_read_c_and_alpha_zero_does_not_read_a_b(dtype):
    a, b, _ = operands(20, 40, 30, False, True, dtype)
    c = np.full((20, 40), np.nan, dtype)
    ops.matmul(a, b, trans_b=True, beta=0.0, out=c)
    np.testing.assert_allclose(c, a.astype(np.float64) @ b.T.astype(np.float64), **tol(dtype, 50))
    a[3, 4], b[5, 6] = np.nan, np.inf
    c0 = np.random.default_rng(2).standard_normal((20, 40)).astype(dtype)
    c = c0.copy()
    ops.matmul(a, b, trans_b=True, alpha=0.0, beta=2.0, out=c)
    np.testing.assert_array_equal(c, c0 * dtype(2.0))
    ops.matmul(a, b, trans_b=True, alpha=0.0, beta=0.0, out=c)
    np.testing.assert_array_equal(c, np.zeros_like(c))


def test_nan_and_inf_propagate():
    a, b, _ = operands(13, 33, 20, False, False, np.float32)
    a[2, 5] = np.nan
    b[7, 30] = np.inf
    c = ops.matmul(a, b)
    assert np.isnan(c[2]).all()
    assert np.isinf(c[:, 30]).sum() + np.isnan(c[:, 30]).sum() == 13


def test_backends_agree_and_switch_back():
    assert _blas.get_backend() == "fastnn"
    a, b, _ = operands(70, 90, 300, False, True, np.float32)
    ours = ops.matmul(a, b, trans_b=True)
    try:
        _blas.set_backend("blas")
        theirs = ops.matmul(a, b, trans_b=True)
        x = np.random.default_rng(3).standard_normal((4, 3, 12, 12)).astype(np.float32)
        w = np.random.default_rng(4).standard_normal((8, 3, 3, 3)).astype(np.float32)
        conv_blas = ops.conv2d(x, w, padding=(1, 1, 1, 1))
    finally:
        _blas.set_backend("fastnn")
    np.testing.assert_allclose(ours, theirs, **tol(np.float32, 50))
    np.testing.assert_allclose(ops.conv2d(x, w, padding=(1, 1, 1, 1)), conv_blas, **tol(np.float32, 50))
    with pytest.raises(ValueError, match="name: expected 'fastnn' or 'blas'"):
        _blas.set_backend("mkl")
    assert _blas.get_backend() == "fastnn"


_VARIANT_SCRIPT = r"""
import json, sys
import numpy as np
from fastnn import ops, reference as R
from fastnn._ext import _blas
out = {"info": _blas.kernel_info(), "res": []}
for (m, n, k) in [(13, 33, 385), (300, 17, 50), (5, 300, 3), (40, 64, 100)]:
    for ta, tb in [(0, 0), (1, 0), (0, 1), (1, 1)]:
        for dt in ("float32", "float64"):
            rng = np.random.default_rng(m + n + k)
            a = rng.standard_normal((k, m) if ta else (m, k)).astype(dt)
            b = rng.standard_normal((n, k) if tb else (k, n)).astype(dt)
            out["res"].append(ops.matmul(a, b, trans_a=bool(ta), trans_b=bool(tb), alpha=0.5).tolist())
    x = np.random.default_rng(5).standard_normal((2, 8, 10, 10)).astype(np.float32)
    w = np.random.default_rng(6).standard_normal((16, 8, 3, 3)).astype(np.float32)
    out["res"].append(ops.conv2d(x, w, padding=(1, 1, 1, 1)).tolist())
d = np.ones(100003, np.float32)  # Philox's AVX-512, AVX2 and portable forms, with a ragged tail
out["drop"] = np.flatnonzero(ops.dropout(d, 0.3, seed=2**40 + 7)).tolist()
json.dump(out, sys.stdout)
"""


def _run_variant(isa):
    env = {k: v for k, v in os.environ.items() if k != "FASTNN_ISA"}
    if isa:
        env["FASTNN_ISA"] = isa
    r = subprocess.run([sys.executable, "-c", _VARIANT_SCRIPT], env=env, capture_output=True, text=True,
                       timeout=300, cwd=os.path.dirname(os.path.abspath(__file__)))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_narrower_instruction_sets_compute_the_same_products():
    """The AVX2 kernels (what most users' CPUs run) are exercised on any x86-64 test machine: their
    multiply-add chains are the AVX-512 kernels' exactly, so results are bitwise equal; the baseline
    (SSE2: no fused multiply-add) agrees to rounding. Philox's forms draw the same stream exactly."""
    if not _blas.kernel_info()["isa"].startswith("x86-64-v"):
        pytest.skip("a single-target build (not x86-64 with run-time dispatch)")
    full, v3, base = _run_variant(None), _run_variant("v3"), _run_variant("base")
    kept = np.flatnonzero(R.dropout_mask((100003,), 0.3, 2**40 + 7)).tolist()
    assert full["drop"] == kept and v3["drop"] == kept and base["drop"] == kept
    if full["info"]["isa"].startswith("x86-64-v3") or full["info"]["isa"].startswith("x86-64-v4"):
        assert v3["info"]["isa"].startswith("x86-64-v3")
        for x, y in zip(full["res"], v3["res"]):
            np.testing.assert_array_equal(np.array(x), np.array(y))
    assert base["info"]["isa"] == "the build's target"
    for x, y in zip(full["res"], base["res"]):
        np.testing.assert_allclose(np.array(x), np.array(y), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1, 1), (13, 33, 385), (300, 17, 50), (32, 10, 64), (7, 9, 0)])
def test_linear_bias_starts_the_chains(shape, dtype):
    """y = x w^T + b: each output's multiply-add chain starts from its bias -- bitwise the product
    added onto rows filled with the bias (beta = 1), on either backend, for any thread count."""
    n, o, i = shape
    rng = np.random.default_rng(7)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((n, i), (o, i), (o,)))
    want = ops.matmul(x, w, trans_b=True, beta=1.0, out=np.tile(b, (n, 1)))
    for nt in (1, 2, 5):
        with fastnn.set_num_threads(nt):
            np.testing.assert_array_equal(ops.linear(x, w, b), want)
    np.testing.assert_allclose(want, x.astype(np.float64) @ w.T.astype(np.float64) + b, **tol(dtype, 50))
    try:
        _blas.set_backend("blas")
        np.testing.assert_allclose(ops.linear(x, w, b), want, **tol(dtype, 50))
    finally:
        _blas.set_backend("fastnn")


# ---- packed weights (inference): the same bits without packing the weight per call ----
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows", [1, 2, 3, 5, 13, 16, 40])
def test_packed_weight_products_are_the_unpacked_bits(rows, dtype):
    from fastnn._ext import _pairs

    ws = _pairs.Workspace()
    rng = np.random.default_rng(rows)
    for i, o in [(784, 256), (5, 700), (300, 33), (1000, 130), (7, 1)]:
        x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((rows, i), (o, i), (o,)))
        pk = _blas.pack_weight(w)
        for bias in (b, None):
            want = _pairs.linear_fwd(x, w, bias, ws)[0].copy()
            for nt in (1, 2, 3):
                with fastnn.set_num_threads(nt):
                    np.testing.assert_array_equal(_pairs.linear_fwd(x, w, bias, ws, False, pk)[0], want)


def test_packed_weight_of_another_shape_is_refused():
    from fastnn._ext import _pairs

    w = np.ones((8, 4), np.float32)
    with pytest.raises(ValueError, match="packed"):
        _pairs.linear_fwd(np.ones((1, 4), np.float32), w, None, _pairs.Workspace(), False,
                          _blas.pack_weight(np.ones((4, 8), np.float32)))
    with pytest.raises(ValueError, match="packed"):
        _pairs.linear_fwd(np.ones((1, 4), np.float32), w, None, _pairs.Workspace(), False, np.zeros(3, np.uint8))
