"""Softmax, log-softmax and losses, each fused with its gradient (float32 / float64)."""
cimport numpy as cnp
from libc.stdint cimport int64_t
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport (arr_in, arr_like, arr_out, no_alias, check_rc, dtype_code,
                                  check_dtype)
from fastnn._ext._runtime cimport get_threads

cnp.import_array()

cdef dict _REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


cdef int _reduction(object reduction) except -1:
    try:
        return _REDUCTIONS[reduction]
    except (KeyError, TypeError):
        raise ValueError(f"reduction: expected 'none', 'mean' or 'sum', got {reduction!r}") from None


cdef int _rows(cnp.ndarray x, str name, object axis, size_t *N, size_t *C) except -1:
    cdef int nd = cnp.PyArray_NDIM(x)
    if nd < 1:
        raise ValueError(f"{name}: expected at least 1 dimension, got a scalar")
    if axis != -1 and axis != nd - 1:
        raise ValueError(f"axis: only the last axis is supported (-1 or {nd - 1}), got {axis}")
    C[0] = cnp.PyArray_DIMS(x)[nd - 1]
    N[0] = cnp.PyArray_SIZE(x) // C[0] if C[0] else 0
    return 0


cdef object _softmax(object x, object axis, int log, object out):
    cdef cnp.ndarray xa = arr_in(x, "x")
    cdef size_t N, C
    _rows(xa, "x", axis, &N, &C)
    cdef cnp.ndarray y = arr_out(out, "out", xa, "x")
    no_alias(y, "out", xa, "x", True)
    cdef int dt = dtype_code(xa, "x"), nt = get_threads()
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *py = cnp.PyArray_DATA(y)
    with nogil:
        fnn_softmax(dt, px, py, N, C, log, nt)
    return y


cdef object _softmax_bwd(object g, object y, int log, object out):
    cdef cnp.ndarray ya = arr_in(y, "y")
    cdef cnp.ndarray ga = arr_like(g, "grad_out", ya, "y")
    cdef size_t N, C
    _rows(ya, "y", -1, &N, &C)
    cdef cnp.ndarray dx = arr_out(out, "out", ya, "y")
    no_alias(dx, "out", ya, "y", False)
    no_alias(dx, "out", ga, "grad_out", False)
    cdef int dt = dtype_code(ya, "y"), nt = get_threads()
    cdef void *pg = cnp.PyArray_DATA(ga)
    cdef void *py = cnp.PyArray_DATA(ya)
    cdef void *pd = cnp.PyArray_DATA(dx)
    with nogil:
        fnn_softmax_backward(dt, pg, py, pd, N, C, log, nt)
    return dx


def softmax(x, axis=-1, *, out=None):
    """y = exp(x - max) / sum(exp(x - max)) along the last axis."""
    return _softmax(x, axis, 0, out)

def log_softmax(x, axis=-1, *, out=None):
    """y = x - max - log(sum(exp(x - max))) along the last axis."""
    return _softmax(x, axis, 1, out)

def softmax_backward(grad_out, y, *, out=None):
    """dx = y * (g - sum(g * y)) per row, y the softmax output."""
    return _softmax_bwd(grad_out, y, 0, out)

def log_softmax_backward(grad_out, y, *, out=None):
    """dx = g - exp(y) * sum(g) per row, y the log_softmax output."""
    return _softmax_bwd(grad_out, y, 1, out)


def cross_entropy(logits, target, *, reduction="mean", double label_smoothing=0.0, return_grad=False,
                  grad=None):
    """Softmax cross-entropy from logits (N, C) and integer class targets (N,), fused and stable.

    loss_i = logsumexp(x_i) - (1 - eps) x_i[t_i] - eps/C sum_j x_ij   (eps = label_smoothing)
    'mean' divides the sum by N. With return_grad=True returns (loss, grad_logits), grad =
    (softmax(x) - (1 - eps) onehot(t) - eps/C) / N for 'mean' (no /N for 'sum' and 'none').
    'none' returns the per-row losses (an array of the logits' dtype). grad= gives the buffer for
    the gradient (implies return_grad)."""
    cdef int red = _reduction(reduction)
    cdef cnp.ndarray xa = arr_in(logits, "logits")
    if cnp.PyArray_NDIM(xa) != 2:
        raise ValueError(f"logits: expected shape (N, C), got {(<object>xa).shape}")
    if not (0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"label_smoothing: expected a value in [0, 1], got {label_smoothing}")
    cdef size_t N = cnp.PyArray_DIMS(xa)[0], C = cnp.PyArray_DIMS(xa)[1]
    cdef cnp.ndarray ta = cnp.PyArray_FROM_O(target)
    if not cnp.PyArray_ISINTEGER(ta):
        raise TypeError(f"target: expected integer class indices, got dtype {(<object>ta).dtype}")
    if cnp.PyArray_NDIM(ta) != 1 or <size_t>cnp.PyArray_DIMS(ta)[0] != N:
        raise ValueError(f"target: expected shape ({N},) to match logits {(<object>xa).shape}, "
                         f"got {(<object>ta).shape}")
    ta = cnp.PyArray_FROMANY(ta, cnp.NPY_INT64, 1, 1, cnp.NPY_ARRAY_C_CONTIGUOUS)
    cdef int64_t *pt = <int64_t *>cnp.PyArray_DATA(ta)
    cdef size_t i
    for i in range(N):
        if pt[i] < 0 or <size_t>pt[i] >= C:
            raise ValueError(f"target: class index {pt[i]} at position {i} is outside [0, {C})")
    return_grad = return_grad or grad is not None
    cdef cnp.ndarray ga = arr_out(grad, "grad", xa, "logits") if return_grad else None
    if ga is not None:
        no_alias(ga, "grad", xa, "logits", False)
    cdef cnp.npy_intp dims[1]
    dims[0] = N
    cdef cnp.ndarray rows = cnp.PyArray_EMPTY(1, dims, cnp.PyArray_TYPE(xa), 0) if red == 0 else None
    cdef int dt = dtype_code(xa, "logits"), nt = get_threads(), rc
    cdef double loss = 0.0
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *pg = cnp.PyArray_DATA(ga) if ga is not None else NULL
    cdef void *pr = cnp.PyArray_DATA(rows) if rows is not None else NULL
    with nogil:
        rc = fnn_cross_entropy(dt, px, pt, N, C, red, label_smoothing, &loss, pr, pg, nt)
    check_rc(rc)
    result = rows if red == 0 else loss
    return (result, ga) if return_grad else result


cdef object _pair(int op, object pred, str pname, object target, object reduction, bint return_grad,
                  object grad=None):
    cdef int red = _reduction(reduction)
    cdef cnp.ndarray pa = arr_in(pred, pname)
    cdef cnp.ndarray ta = arr_like(target, "target", pa, pname)
    return_grad = return_grad or grad is not None
    cdef cnp.ndarray gbuf = arr_out(grad, "grad", pa, pname) if return_grad else None
    if gbuf is not None:
        no_alias(gbuf, "grad", pa, pname, False)
        no_alias(gbuf, "grad", ta, "target", False)
    cdef cnp.ndarray elems = arr_out(None, "", pa, pname) if red == 0 else None
    cdef int dt = dtype_code(pa, pname), nt = get_threads(), rc
    cdef double loss = 0.0
    cdef size_t n = cnp.PyArray_SIZE(pa)
    cdef void *pp = cnp.PyArray_DATA(pa)
    cdef void *pt = cnp.PyArray_DATA(ta)
    cdef void *pg = cnp.PyArray_DATA(gbuf) if gbuf is not None else NULL
    cdef void *pe = cnp.PyArray_DATA(elems) if elems is not None else NULL
    with nogil:
        rc = fnn_pair_loss(op, dt, pp, pt, n, red, &loss, pe, pg, nt)
    check_rc(rc)
    result = elems if red == 0 else loss
    return (result, gbuf) if return_grad else result


def mse_loss(input, target, *, reduction="mean", return_grad=False, grad=None):
    """sum or mean of (input - target)^2; grad = 2 (input - target) (/ n for 'mean')."""
    return _pair(FNN_MSE, input, "input", target, reduction, return_grad, grad)

def l1_loss(input, target, *, reduction="mean", return_grad=False, grad=None):
    """Sum or mean of ``|input - target|``; ``grad = sign(input - target)`` (``/ n`` for 'mean')."""
    return _pair(FNN_L1, input, "input", target, reduction, return_grad, grad)

def binary_cross_entropy_with_logits(input, target, *, reduction="mean", return_grad=False, grad=None):
    """sum or mean of log(1 + e^x) - x t, computed stably; grad = sigmoid(x) - t (/ n for 'mean')."""
    return _pair(FNN_BCE_LOGITS, input, "input", target, reduction, return_grad, grad)
