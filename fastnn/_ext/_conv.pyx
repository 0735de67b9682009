# cython: wraparound=True
# (shapes are indexed from the end here; the global default turns negative indexing off)
"""2-D convolution (NCHW; a 1-D one is H = 1) over scipy's BLAS: forward and backward (float32 / float64).

Padding is given per side -- (top, bottom, left, right) -- so "same" padding with an even kernel is
exact; the output size follows from it as in PyTorch."""
cimport numpy as cnp
import numpy as np
from libc.stdint cimport INT32_MAX
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport (arr_in, arr_inplace, check_dtype, check_rc, dtype_code, no_alias, out_shaped)
from fastnn._ext._runtime cimport get_ftz, get_threads
from fastnn._ext._blas cimport gemm_fn, gemm_threads, repin

cnp.import_array()


cdef inline bint _is_int(object v):
    return type(v) is int or (isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)))


cdef tuple _ints(object v, Py_ssize_t n, str name, long lo, str expected):
    """v as a tuple of n ints >= lo (an int alone is repeated), else a ValueError naming the argument."""
    cdef Py_ssize_t i
    cdef list out
    if _is_int(v):
        if v < lo:
            raise ValueError(f"{name}: expected values >= {lo}, got {v!r}")
        return (int(v),) * n
    if not isinstance(v, (tuple, list)) or len(v) != n:
        raise ValueError(f"{name}: expected {expected}, got {v!r}")
    out = [None] * n
    for i in range(n):
        a = v[i]
        if not _is_int(a):
            raise ValueError(f"{name}: expected {expected}, got {v!r}")
        if a < lo:
            raise ValueError(f"{name}: expected values >= {lo}, got {v!r}")
        out[i] = int(a)
    return tuple(out)


cdef int _setup(cnp.ndarray X, cnp.ndarray Wt, object stride, object padding, object dilation, object groups,
                fnn_conv_t *c) except -1:
    if cnp.PyArray_NDIM(X) != 4:
        raise ValueError(f"x: expected a 4-D input (N, C, H, W), got shape {(<object>X).shape}")
    if cnp.PyArray_NDIM(Wt) != 4:
        raise ValueError(f"weight: expected shape (out_channels, in_channels / groups, kH, kW), got "
                         f"{(<object>Wt).shape}")
    check_dtype(Wt, "weight", X, "x")
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"groups: expected a positive int, got {groups!r}")
    cdef cnp.npy_intp *xd = cnp.PyArray_DIMS(X)
    cdef cnp.npy_intp *wd = cnp.PyArray_DIMS(Wt)
    c.N, c.C, c.H, c.W = xd[0], xd[1], xd[2], xd[3]
    c.OC, c.KH, c.KW, c.groups = wd[0], wd[2], wd[3], groups
    c.bf16 = 0
    if c.C % c.groups or c.OC % c.groups:
        raise ValueError(f"groups: in_channels ({c.C}) and out_channels ({c.OC}) must be divisible by groups "
                         f"({c.groups})")
    if <size_t>wd[1] != c.C // c.groups:
        raise ValueError(f"weight: expected {c.C // c.groups} input channels per group (x has {c.C} channels, "
                         f"groups={c.groups}), got weight of shape {(<object>Wt).shape}")
    sh, sw = _ints(stride, 2, "stride", 1, "an int or a pair of ints")
    dh, dw = _ints(dilation, 2, "dilation", 1, "an int or a pair of ints")
    pt, pb, pl, pr = _ints(padding, 4, "padding", 0, "(top, bottom, left, right) ints")
    if c.KH == 0 or c.KW == 0:
        raise ValueError(f"weight: kernel size must be positive, got {(<object>Wt).shape}")
    cdef long eh = <long>c.H + pt + pb - dh * (<long>c.KH - 1) - 1, ew = <long>c.W + pl + pr - dw * (<long>c.KW - 1) - 1
    if eh < 0 or ew < 0:
        raise ValueError(f"x: input size ({c.H}, {c.W}) plus padding is smaller than the dilated kernel "
                         f"({dh * (c.KH - 1) + 1}, {dw * (c.KW - 1) + 1})")
    c.OH, c.OW = eh // sh + 1, ew // sw + 1
    c.sh, c.sw, c.ph, c.pw, c.dh, c.dw = sh, sw, pt, pl, dh, dw
    cdef double K = <double>(c.C // c.groups) * c.KH * c.KW
    if K > INT32_MAX or <double>c.OH * c.OW > INT32_MAX or <double>(c.OC // c.groups) > INT32_MAX:
        raise ValueError("x, weight: a product dimension exceeds the BLAS limit of 2**31 - 1")
    return 0


_ALGOS = ("auto", "im2col", "winograd")


def set_algorithm(name):
    """How convolutions run: "auto" (by shape, the default), "im2col" everywhere, or "winograd" for every
    3x3 stride-1 convolution (for benchmarks and tests; results agree to rounding)."""
    if name not in _ALGOS:
        raise ValueError(f"name: expected one of {_ALGOS}, got {name!r}")
    fnn_conv_set_algorithm(_ALGOS.index(name))


def get_algorithm():
    return _ALGOS[fnn_conv_get_algorithm()]


def conv2d(x, weight, bias=None, *, stride=1, padding=(0, 0, 0, 0), dilation=1, groups=1, out=None,
           bint bf16=False):
    """y (N, OC, OH, OW) = conv(x, weight) + bias: x (N, C, H, W), weight (OC, C / groups, KH, KW), bias (OC,)
    or None; padding (top, bottom, left, right) of zeros. OH = (H + top + bottom - dh (KH - 1) - 1) // sh + 1.
    bf16: float32 operands' products in bfloat16 with float32 accumulation (depthwise convolutions, which
    run no products, stay float32; float64 ignores it)."""
    cdef cnp.ndarray X = arr_in(x, "x")
    cdef cnp.ndarray Wt = arr_in(weight, "weight")
    cdef fnn_conv_t c
    _setup(X, Wt, stride, padding, dilation, groups, &c)
    cdef cnp.ndarray Bv = None
    if bias is not None:
        Bv = arr_in(bias, "bias")
        check_dtype(Bv, "bias", X, "x")
        if cnp.PyArray_NDIM(Bv) != 1 or <size_t>cnp.PyArray_DIMS(Bv)[0] != c.OC:
            raise ValueError(f"bias: expected shape ({c.OC},), got {(<object>Bv).shape}")
    oshape = (c.N, c.OC, c.OH, c.OW)
    cdef cnp.ndarray Y = out_shaped(out, oshape, X, "x", ((X, "x"), (Wt, "weight"), (Bv, "bias")))
    cdef int dt = dtype_code(X, "x"), rc, nt = gemm_threads(), ftz = get_ftz()
    c.bf16 = 1 if bf16 and dt == FNN_F32 else 0
    cdef const void *px = cnp.PyArray_DATA(X)
    cdef const void *pw = cnp.PyArray_DATA(Wt)
    cdef const void *pb = cnp.PyArray_DATA(Bv) if Bv is not None else NULL
    cdef void *py = cnp.PyArray_DATA(Y)
    with nogil:
        repin()
        rc = fnn_conv2d(dt, gemm_fn(dt), &c, px, pw, pb, py, nt, ftz)
    check_rc(rc)
    return Y


def conv2d_backward(grad_out, x, weight, *, stride=1, padding=(0, 0, 0, 0), dilation=1, groups=1,
                    bint need_input_grad=True, bint need_weight_grad=True, bint need_bias_grad=True,
                    grad_input=None, grad_weight=None, grad_bias=None, bint accumulate=False, bint bf16=False):
    """Gradients of conv2d: (grad_x or None, grad_weight or None, grad_bias or None). Into grad_weight= /
    grad_bias= when given, added onto them with accumulate=True; grad_input is always overwritten. bf16:
    the products in bfloat16, as conv2d's."""
    cdef cnp.ndarray X = arr_in(x, "x")
    cdef cnp.ndarray Wt = arr_in(weight, "weight")
    cdef fnn_conv_t c
    _setup(X, Wt, stride, padding, dilation, groups, &c)
    cdef cnp.ndarray G = arr_in(grad_out, "grad_out")
    check_dtype(G, "grad_out", X, "x")
    oshape = (c.N, c.OC, c.OH, c.OW)
    if (<object>G).shape != oshape:
        raise ValueError(f"grad_out: expected shape {oshape}, got {(<object>G).shape}")
    if accumulate and ((need_weight_grad and grad_weight is None) or (need_bias_grad and grad_bias is None)):
        raise ValueError("accumulate: needs grad_weight= (and grad_bias=) to add into")
    cdef cnp.ndarray dW = None, dB = None, dX = None
    if need_weight_grad:
        if grad_weight is not None:
            dW = arr_inplace(grad_weight, "grad_weight", Wt, "weight")
        else:
            dW = np.empty((<object>Wt).shape, dtype=(<object>X).dtype)
        for a, nm in ((G, "grad_out"), (X, "x"), (Wt, "weight")):
            no_alias(dW, "grad_weight", a, nm, False)
    if need_bias_grad:
        if grad_bias is not None:
            dB = arr_inplace(grad_bias, "grad_bias", None, "")
            check_dtype(dB, "grad_bias", X, "x")
            if cnp.PyArray_NDIM(dB) != 1 or <size_t>cnp.PyArray_DIMS(dB)[0] != c.OC:
                raise ValueError(f"grad_bias: expected shape ({c.OC},), got {(<object>dB).shape}")
        else:
            dB = np.empty((c.OC,), dtype=(<object>X).dtype)
    if need_input_grad:
        if grad_input is not None:
            dX = arr_inplace(grad_input, "grad_input", X, "x")
        else:
            dX = np.empty((<object>X).shape, dtype=(<object>X).dtype)
        for a, nm in ((G, "grad_out"), (X, "x"), (Wt, "weight"), (dW, "grad_weight")):
            if a is not None:
                no_alias(dX, "grad_input", a, nm, False)
    cdef int dt = dtype_code(X, "x"), rc = 0, rb = 0, nt = gemm_threads(), ftz = get_ftz()
    c.bf16 = 1 if bf16 and dt == FNN_F32 else 0
    cdef const void *px = cnp.PyArray_DATA(X)
    cdef const void *pw = cnp.PyArray_DATA(Wt)
    cdef const void *pg = cnp.PyArray_DATA(G)
    cdef void *pdx = cnp.PyArray_DATA(dX) if dX is not None else NULL
    cdef void *pdw = cnp.PyArray_DATA(dW) if dW is not None else NULL
    cdef void *pdb = cnp.PyArray_DATA(dB) if dB is not None else NULL
    with nogil:
        repin()
        if pdx != NULL or pdw != NULL:
            rc = fnn_conv2d_backward(dt, gemm_fn(dt), &c, px, pw, pg, pdx, pdw, 1 if accumulate else 0, nt, ftz)
        if pdb != NULL:
            rb = fnn_channel_sum(dt, pg, pdb, c.N, c.OC, c.OH * c.OW, 1 if accumulate else 0, get_threads())
    check_rc(rc)
    check_rc(rb)
    return dX, dW, dB
