"""Deterministic norms and in-place maps for gradient clipping (float32 / float64)."""
cimport numpy as cnp
from libc.math cimport INFINITY, pow, sqrt
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport arr_in, arr_inplace, check_rc, dtype_code
from fastnn._ext._runtime cimport get_threads

cnp.import_array()


def norm_pow(x, double p=2.0):
    """``sum(|x|^p)`` in float64 (p = inf: ``max |x|``), in fixed chunks: the same for any thread count."""
    if not p > 0:
        raise ValueError(f"p: expected > 0, got {p}")
    cdef cnp.ndarray xa = arr_in(x, "x")
    cdef int dt = dtype_code(xa, "x"), nt = get_threads(), rc
    cdef double r = 0.0
    cdef size_t n = cnp.PyArray_SIZE(xa)
    cdef void *px = cnp.PyArray_DATA(xa)
    with nogil:
        rc = fnn_norm_pow(dt, px, n, p, &r, nt)
    check_rc(rc)
    return r


cdef _arrays(arrays):
    """One array counts as one (as torch's clip_grad_norm_ takes a tensor or an iterable)."""
    if isinstance(arrays, cnp.ndarray):
        return (arrays,)
    return arrays


def sum_squares(arrays):
    """Squared global L2 norm of several arrays: sum over arrays (in order) of sum(x^2)."""
    cdef double t = 0.0
    for a in _arrays(arrays):
        t += norm_pow(a, 2.0)
    return t


def global_norm(arrays, double norm_type=2.0):
    """``(sum over arrays of sum |x|^p)^(1/p)``; ``max |x|`` for p = inf. What ``clip_grad_norm_`` returns."""
    cdef double t = 0.0, v
    arrays = _arrays(arrays)
    if norm_type == INFINITY:
        for a in arrays:
            v = norm_pow(a, INFINITY)
            if v > t or v != v:
                t = v
        return t
    for a in arrays:
        t += norm_pow(a, norm_type)
    # libm's pow: a NaN or Inf total gives a real NaN / Inf (Python's ** could turn complex)
    return sqrt(t) if norm_type == 2.0 else pow(t, 1.0 / norm_type)


def scale_(x, double s):
    """``x *= s`` in place."""
    cdef cnp.ndarray xa = arr_inplace(x, "x", None, "")
    cdef int dt = dtype_code(xa, "x"), nt = get_threads()
    cdef size_t n = cnp.PyArray_SIZE(xa)
    cdef void *px = cnp.PyArray_DATA(xa)
    with nogil:
        fnn_scale_(dt, px, n, s, nt)
    return xa


def clamp_(x, double min, double max):
    """x = min(max(x, min), max) in place (NaN stays NaN)."""
    if not min <= max:
        raise ValueError(f"min, max: expected min <= max, got {min}, {max}")
    cdef cnp.ndarray xa = arr_inplace(x, "x", None, "")
    cdef int dt = dtype_code(xa, "x"), nt = get_threads()
    cdef size_t n = cnp.PyArray_SIZE(xa)
    cdef void *px = cnp.PyArray_DATA(xa)
    with nogil:
        fnn_clamp_(dt, px, n, min, max, nt)
    return xa
