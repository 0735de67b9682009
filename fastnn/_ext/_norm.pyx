"""Batch normalization over every axis but 1: (N, C) and (N, C, H, W) alike (float32 / float64)."""
cimport numpy as cnp
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport (arr_in, arr_like, arr_out, arr_inplace, no_alias, check_rc,
                                  dtype_code, check_dtype, new_like)
from fastnn._ext._runtime cimport get_threads

cnp.import_array()


cdef int _view(cnp.ndarray x, str name, size_t *N, size_t *C, size_t *S) except -1:
    cdef int nd = cnp.PyArray_NDIM(x), i
    if nd < 2:
        raise ValueError(f"{name}: expected at least 2 dimensions (batch, channels, ...), "
                         f"got shape {(<object>x).shape}")
    cdef cnp.npy_intp *d = cnp.PyArray_DIMS(x)
    N[0] = d[0]
    C[0] = d[1]
    S[0] = 1
    for i in range(2, nd):
        S[0] *= d[i]
    return 0


cdef cnp.ndarray _chan(object a, str name, cnp.ndarray x, size_t C, bint inplace):
    if a is None:
        return None
    cdef cnp.ndarray r = arr_inplace(a, name, None, "") if inplace else arr_in(a, name)
    check_dtype(r, name, x, "x")
    if cnp.PyArray_NDIM(r) != 1 or <size_t>cnp.PyArray_DIMS(r)[0] != C:
        raise ValueError(f"{name}: expected shape ({C},) (channels = axis 1 of x), got {(<object>r).shape}")
    return r


cdef inline void *_ptr(cnp.ndarray a):
    return cnp.PyArray_DATA(a) if a is not None else NULL


def batch_norm_stats(x):
    """(mean, var) of x over every axis but 1, shape (C,), x's dtype. var is biased (divides by the
    count). Accumulated in float64 with a per-channel shift, in fixed chunks: bitwise the same for any
    thread count."""
    cdef cnp.ndarray xa = arr_in(x, "x")
    cdef size_t N = 0, C = 0, S = 0
    _view(xa, "x", &N, &C, &S)
    if N * S == 0:
        raise ValueError(f"x: batch-norm statistics need at least one value per channel, got shape "
                         f"{(<object>xa).shape}")
    cdef cnp.npy_intp dims[1]
    dims[0] = C
    cdef cnp.ndarray mean = cnp.PyArray_EMPTY(1, dims, cnp.NPY_FLOAT64, 0)
    cdef cnp.ndarray var = cnp.PyArray_EMPTY(1, dims, cnp.NPY_FLOAT64, 0)
    cdef int dt = dtype_code(xa, "x"), nt = get_threads(), rc
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef double *pm = <double *>cnp.PyArray_DATA(mean)
    cdef double *pv = <double *>cnp.PyArray_DATA(var)
    with nogil:
        rc = fnn_bn_stats(dt, px, N, C, S, pm, pv, nt)
    check_rc(rc)
    if dt == FNN_F32:
        return mean.astype("float32"), var.astype("float32")
    return mean, var


def batch_norm(x, weight, bias, running_mean, running_var, *, training, double momentum=0.1,
               double eps=1e-5, out=None, return_stats=False, save_mean=None, save_invstd=None):
    """Batch normalization with PyTorch's semantics.

    training: mean, var = batch statistics of x (biased var) per channel; running_mean and
    running_var (if given) are updated in place: r = (1 - momentum) r + momentum s, with the unbiased
    variance var * M / (M - 1), M = N * prod(shape[2:]). Eval: the running statistics are used (batch
    statistics when they are None, as PyTorch does without tracked stats).
    y = (x - mean) / sqrt(var + eps) * weight + bias (weight, bias may be None).
    return_stats=True returns (y, save_mean, save_invstd), what batch_norm_backward needs (written
    into save_mean=/save_invstd= when given).
    """
    cdef cnp.ndarray xa = arr_in(x, "x")
    cdef size_t N = 0, C = 0, S = 0
    _view(xa, "x", &N, &C, &S)
    cdef cnp.ndarray w = _chan(weight, "weight", xa, C, False)
    cdef cnp.ndarray b = _chan(bias, "bias", xa, C, False)
    cdef cnp.ndarray rm = _chan(running_mean, "running_mean", xa, C, True)
    cdef cnp.ndarray rv = _chan(running_var, "running_var", xa, C, True)
    if (rm is None) != (rv is None):
        raise ValueError("running_mean, running_var: give both or neither")
    if not eps > 0:
        raise ValueError(f"eps: expected > 0, got {eps}")
    if not (0.0 <= momentum <= 1.0):
        raise ValueError(f"momentum: expected a value in [0, 1], got {momentum}")
    cdef bint use_batch = training or rm is None
    if use_batch and N * S <= 1:
        raise ValueError(f"x: expected more than 1 value per channel when using batch statistics, "
                         f"got shape {(<object>xa).shape}")
    cdef cnp.ndarray y = arr_out(out, "out", xa, "x")
    no_alias(y, "out", xa, "x", True)
    for a, nm in ((rm, "running_mean"), (rv, "running_var")):
        if a is not None:
            no_alias(y, "out", a, nm, False)
    cdef cnp.npy_intp dims[1]
    dims[0] = C
    cdef cnp.ndarray sm = _chan(save_mean, "save_mean", xa, C, True) if save_mean is not None else new_like(xa, 1, dims)
    cdef cnp.ndarray si = _chan(save_invstd, "save_invstd", xa, C, True) if save_invstd is not None else new_like(xa, 1, dims)
    cdef int dt = dtype_code(xa, "x"), nt = get_threads(), rc
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *pw = _ptr(w)
    cdef void *pb = _ptr(b)
    cdef void *prm = _ptr(rm) if training else NULL
    cdef void *prv = _ptr(rv) if training else NULL
    cdef void *py = cnp.PyArray_DATA(y)
    cdef void *psm = cnp.PyArray_DATA(sm)
    cdef void *psi = cnp.PyArray_DATA(si)
    if not use_batch:
        prm = _ptr(rm)
        prv = _ptr(rv)
    with nogil:
        rc = fnn_bn_forward(dt, px, pw, pb, prm, prv, py, psm, psi, N, C, S, 1 if use_batch else 0,
                            momentum, eps, nt)
    check_rc(rc)
    if return_stats:
        return y, sm, si
    return y


def batch_norm_backward(grad_out, x, weight, mean, invstd, *, training=True, need_input_grad=True,
                        grad_weight=None, grad_bias=None, accumulate=False, grad_input=None):
    """Gradients of batch_norm. mean, invstd: the statistics the forward used (its return_stats
    output in training; running_mean and 1/sqrt(running_var + eps) in eval).

    training: grad_x = w invstd (g - mean(g) - xhat mean(g xhat)), xhat = (x - mean) invstd;
    eval: grad_x = g w invstd. grad_weight = sum(g xhat), grad_bias = sum(g) per channel.
    Returns (grad_x or None, grad_weight, grad_bias); into grad_weight=/grad_bias= when given
    (added when accumulate=True)."""
    cdef cnp.ndarray xa = arr_in(x, "x")
    cdef size_t N = 0, C = 0, S = 0
    _view(xa, "x", &N, &C, &S)
    cdef cnp.ndarray ga = arr_like(grad_out, "grad_out", xa, "x")
    cdef cnp.ndarray w = _chan(weight, "weight", xa, C, False)
    cdef cnp.ndarray m = _chan(mean, "mean", xa, C, False)
    cdef cnp.ndarray iv = _chan(invstd, "invstd", xa, C, False)
    if m is None or iv is None:
        raise ValueError("mean, invstd: required (the statistics the forward pass used)")
    if accumulate and (grad_weight is None or grad_bias is None):
        raise ValueError("accumulate: needs grad_weight= and grad_bias= to add into")
    cdef cnp.npy_intp dims[1]
    dims[0] = C
    cdef cnp.ndarray dwt = _chan(grad_weight, "grad_weight", xa, C, True) if grad_weight is not None else new_like(xa, 1, dims)
    cdef cnp.ndarray dbs = _chan(grad_bias, "grad_bias", xa, C, True) if grad_bias is not None else new_like(xa, 1, dims)
    cdef cnp.ndarray dx = arr_out(grad_input, "grad_input", xa, "x") if need_input_grad else None
    if dx is not None:
        no_alias(dx, "grad_input", xa, "x", False)
        no_alias(dx, "grad_input", ga, "grad_out", True)
    cdef int dt = dtype_code(xa, "x"), nt = get_threads(), rc
    cdef void *pg = cnp.PyArray_DATA(ga)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *pw = _ptr(w)
    cdef void *pm = cnp.PyArray_DATA(m)
    cdef void *pi = cnp.PyArray_DATA(iv)
    cdef void *pdx = _ptr(dx)
    cdef void *pdw = cnp.PyArray_DATA(dwt)
    cdef void *pdb = cnp.PyArray_DATA(dbs)
    cdef int tr = 1 if training else 0, ac = 1 if accumulate else 0
    with nogil:
        rc = fnn_bn_backward(dt, pg, px, pw, pm, pi, pdx, pdw, pdb, N, C, S, tr, ac, nt)
    check_rc(rc)
    return dx, dwt, dbs


def channel_sum(x, *, out=None, accumulate=False):
    """Sum of x over every axis but 1 (a bias gradient), deterministic; into out (added if accumulate)."""
    cdef cnp.ndarray xa = arr_in(x, "x")
    cdef size_t N = 0, C = 0, S = 0
    _view(xa, "x", &N, &C, &S)
    cdef cnp.npy_intp dims[1]
    dims[0] = C
    cdef cnp.ndarray o = _chan(out, "out", xa, C, True) if out is not None else new_like(xa, 1, dims)
    if accumulate and out is None:
        raise ValueError("accumulate: needs out= to add into")
    cdef int dt = dtype_code(xa, "x"), nt = get_threads(), rc
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *po = cnp.PyArray_DATA(o)
    cdef int ac = 1 if accumulate else 0
    with nogil:
        rc = fnn_channel_sum(dt, px, po, N, C, S, ac, nt)
    check_rc(rc)
    return o
