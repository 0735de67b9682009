# cython: wraparound=True
# (shapes are indexed from the end here; the global default turns negative indexing off)
"""Max and average pooling over P planes of H x W (float32 / float64), with windows given per output row
and column -- see csrc/pool.inc. Every window is checked to lie inside the plane before a kernel runs."""
cimport numpy as cnp
import numpy as np
from libc.stdint cimport int32_t, int64_t
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport arr_in, check_rc, dtype_code, out_shaped
from fastnn._ext._runtime cimport get_threads

cnp.import_array()

_OPS = {"max": 0, "avg": 1}


cdef tuple _planes(cnp.ndarray X, str name):
    cdef int nd = cnp.PyArray_NDIM(X)
    if nd < 2:
        raise ValueError(f"{name}: expected planes (..., H, W), got shape {(<object>X).shape}")
    shape = (<object>X).shape
    P = 1
    for s in shape[:-2]:
        P *= s
    return P, shape[-2], shape[-1]


cdef int _check_windows(cnp.ndarray hs, cnp.ndarray hn, long dh, size_t H, str name) except -1:
    if dh < 1:
        raise ValueError(f"{name}: the tap step must be >= 1, got {dh}")
    s, n = <object>hs, <object>hn
    if s.size and ((n < 0).any() or ((n > 0) & ((s < 0) | (s + (n - 1) * dh >= <long>H))).any()):
        raise ValueError(f"{name}: a window reaches outside the plane of size {H}")
    return 0


def pool2d(x, hs, hn, long dh, ws, wn, long dw, *, op="max", div=None, return_indices=False, out=None):
    """y (..., OH, OW) pooled over windows: rows hs[oh] + i dh (i < hn[oh]), columns ws[ow] + j dw (j < wn[ow]).
    op "max" (the first maximum in scan order; a NaN wins; indices into the plane with return_indices,
    int32) or "avg" (the window's sum / div, div of shape (OH * OW,))."""
    if op not in _OPS:
        raise ValueError(f"op: expected 'max' or 'avg', got {op!r}")
    cdef cnp.ndarray X = arr_in(x, "x")
    P, H, W = _planes(X, "x")
    cdef cnp.ndarray HS = np.ascontiguousarray(hs, np.int64), HN = np.ascontiguousarray(hn, np.int64)
    cdef cnp.ndarray WS = np.ascontiguousarray(ws, np.int64), WN = np.ascontiguousarray(wn, np.int64)
    if HS.ndim != 1 or HN.ndim != 1 or HN.shape[0] != HS.shape[0] or WS.ndim != 1 or WN.ndim != 1 \
            or WN.shape[0] != WS.shape[0]:
        raise ValueError("hs, hn, ws, wn: expected 1-D arrays, hs like hn and ws like wn")
    cdef size_t OH = HS.shape[0], OW = WS.shape[0]
    _check_windows(HS, HN, dh, H, "hs, hn")
    _check_windows(WS, WN, dw, W, "ws, wn")
    cdef cnp.ndarray D = None
    if op == "avg":
        if div is None:
            raise ValueError("div: average pooling needs the divisors (OH * OW,)")
        D = np.ascontiguousarray(div, np.float64).reshape(-1)
        if D.shape[0] != OH * OW or not (D > 0).all():
            raise ValueError(f"div: expected {OH * OW} positive divisors")
    if H * W > 2**31 - 1:
        raise ValueError("x: a plane larger than 2**31 - 1 elements")
    oshape = (<object>X).shape[:-2] + (OH, OW)
    cdef cnp.ndarray Y = out_shaped(out, oshape, X, "x", ((X, "x"),))
    cdef cnp.ndarray I = np.empty(oshape, np.int32) if (op == "max") else None  # (max always computes them)
    cdef int dt = dtype_code(X, "x"), o = _OPS[op], nt = get_threads(), rc
    cdef const void *px = cnp.PyArray_DATA(X)
    cdef void *py = cnp.PyArray_DATA(Y)
    cdef int32_t *pi = <int32_t *>cnp.PyArray_DATA(I) if I is not None else NULL
    cdef const int64_t *phs = <const int64_t *>cnp.PyArray_DATA(HS)
    cdef const int64_t *phn = <const int64_t *>cnp.PyArray_DATA(HN)
    cdef const int64_t *pws = <const int64_t *>cnp.PyArray_DATA(WS)
    cdef const int64_t *pwn = <const int64_t *>cnp.PyArray_DATA(WN)
    cdef const double *pd = <const double *>cnp.PyArray_DATA(D) if D is not None else NULL
    cdef size_t cP = P, cH = H, cW = W
    with nogil:
        rc = fnn_pool2d(o, dt, px, py, pi, cP, cH, cW, OH, OW, phs, phn, dh, pws, pwn, dw, pd, nt)
    check_rc(rc)
    return (Y, I) if return_indices else Y


def pool2d_backward(grad_out, x_shape, hs, hn, long dh, ws, wn, long dw, *, op="max", indices=None, div=None,
                    out=None):
    """The gradient of pool2d with respect to its input (of shape x_shape): max routes each output's
    gradient to its argmax (indices, int32, as pool2d returned them), avg spreads it over the window."""
    if op not in _OPS:
        raise ValueError(f"op: expected 'max' or 'avg', got {op!r}")
    cdef cnp.ndarray G = arr_in(grad_out, "grad_out")
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) < 2:
        raise ValueError(f"x_shape: expected (..., H, W), got {x_shape}")
    cdef cnp.ndarray HS = np.ascontiguousarray(hs, np.int64), HN = np.ascontiguousarray(hn, np.int64)
    cdef cnp.ndarray WS = np.ascontiguousarray(ws, np.int64), WN = np.ascontiguousarray(wn, np.int64)
    if HS.ndim != 1 or HN.ndim != 1 or HN.shape[0] != HS.shape[0] or WS.ndim != 1 or WN.ndim != 1 \
            or WN.shape[0] != WS.shape[0]:
        raise ValueError("hs, hn, ws, wn: expected 1-D arrays, hs like hn and ws like wn")
    cdef size_t OH = HS.shape[0], OW = WS.shape[0], H = x_shape[-2], W = x_shape[-1]
    oshape = x_shape[:-2] + (OH, OW)
    if (<object>G).shape != oshape:
        raise ValueError(f"grad_out: expected shape {oshape}, got {(<object>G).shape}")
    _check_windows(HS, HN, dh, H, "hs, hn")
    _check_windows(WS, WN, dw, W, "ws, wn")
    P = 1
    for s in x_shape[:-2]:
        P *= s
    cdef cnp.ndarray I = None, D = None
    if op == "max":
        if indices is None:
            raise ValueError("indices: max pooling's backward needs the forward's indices")
        I = np.ascontiguousarray(indices, np.int32)
        if (<object>I).shape != oshape:
            raise ValueError(f"indices: expected shape {oshape}, got {(<object>I).shape}")
        if I.size and ((<object>I).min() < -1 or (<object>I).max() >= <long>(H * W)):
            raise ValueError(f"indices: expected values in [-1, {H * W})")
    else:
        if div is None:
            raise ValueError("div: average pooling's backward needs the divisors")
        D = np.ascontiguousarray(div, np.float64).reshape(-1)
        if D.shape[0] != OH * OW or not (D > 0).all():
            raise ValueError(f"div: expected {OH * OW} positive divisors")
    cdef cnp.ndarray GX = out_shaped(out, x_shape, G, "grad_out", ((G, "grad_out"),))
    cdef int dt = dtype_code(G, "grad_out"), o = _OPS[op], nt = get_threads(), rc
    cdef const void *pg = cnp.PyArray_DATA(G)
    cdef void *px = cnp.PyArray_DATA(GX)
    cdef const int32_t *pi = <const int32_t *>cnp.PyArray_DATA(I) if I is not None else NULL
    cdef const int64_t *phs = <const int64_t *>cnp.PyArray_DATA(HS)
    cdef const int64_t *phn = <const int64_t *>cnp.PyArray_DATA(HN)
    cdef const int64_t *pws = <const int64_t *>cnp.PyArray_DATA(WS)
    cdef const int64_t *pwn = <const int64_t *>cnp.PyArray_DATA(WN)
    cdef const double *pd = <const double *>cnp.PyArray_DATA(D) if D is not None else NULL
    cdef size_t cP = P
    with nogil:
        rc = fnn_pool2d_backward(o, dt, pg, px, pi, cP, H, W, OH, OW, phs, phn, dh, pws, pwn, dw, pd, nt)
    check_rc(rc)
    return GX
