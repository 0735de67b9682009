"""Matrix products: fastnn's own kernels (csrc/gemm.inc), or scipy's BLAS (sgemm/dgemm) with
set_backend("blas"). Transposes by flag, never by copy. SciPy is loaded only when its BLAS is selected
(fastnn._ext._scipy_blas hands over the routines' addresses).
"""
cimport numpy as cnp
import numpy as np
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport (arr_in, arr_inplace, arr_out, check_dtype, check_rc,
                                  dtype_code, no_alias, out_shaped)
from fastnn._ext._runtime cimport get_ftz, get_threads

cnp.import_array()

cdef int INT_MAX = 2147483647


# True when scipy's BLAS was found and pinned to one thread (fastnn._threads): products are then
# split over fastnn's own OpenMP team; else the BLAS library threads them itself.
cdef bint _split = False

# OpenBLAS's own get/set thread-count functions (found by fastnn._threads): a caller's
# threadpool_limits may re-thread scipy's BLAS at any time, and each of fastnn's GEMM threads would
# then start a BLAS team (oversubscribed, and no longer bitwise reproducible). Every product re-pins.
ctypedef int (*_get_fn)() noexcept nogil
ctypedef void (*_set_fn)(int) noexcept nogil
cdef _get_fn _bl_get = NULL
cdef _set_fn _bl_set = NULL


def set_split(bint on):
    global _split
    _split = on


def get_split():
    return _split


def set_pin(size_t get_ptr, size_t set_ptr):
    """The addresses of OpenBLAS's get/set_num_threads for scipy's BLAS (0, 0: none known)."""
    global _bl_get, _bl_set
    _bl_get = <_get_fn>get_ptr if get_ptr and set_ptr else NULL
    _bl_set = <_set_fn>set_ptr if get_ptr and set_ptr else NULL


cdef void repin() noexcept nogil:
    if _split and _bl_get != NULL and _bl_get() != 1:
        _bl_set(1)


cdef bint split_mode() noexcept nogil:
    return _split


# fastnn's own product kernels (True, the default) or scipy's BLAS (for comparison and as a fallback)
cdef bint _own = True
cdef void *_sgemm = NULL  # scipy's routines, once selected
cdef void *_dgemm = NULL


def set_backend(name):
    """Matrix products (linear layers, convolutions, RBMs, matmul) through "fastnn" (its own kernels,
    the default) or "blas" (scipy's sgemm/dgemm, imported now). Both are bitwise independent of the
    thread count. fastnn.set_num_threads (and fit) pin scipy's BLAS to one thread and split products
    over fastnn's team; until then BLAS threads its products itself."""
    global _own, _sgemm, _dgemm
    if name not in ("fastnn", "blas"):
        raise ValueError(f"name: expected 'fastnn' or 'blas', got {name!r}")
    if name == "blas" and _sgemm == NULL:
        from fastnn._ext import _scipy_blas
        s, d = _scipy_blas.addresses()
        _sgemm, _dgemm = <void *><size_t>s, <void *><size_t>d
    _own = name == "fastnn"


def get_backend():
    return "fastnn" if _own else "blas"


_ISA = {4: "x86-64-v4 (AVX-512)", 3: "x86-64-v3 (AVX2+FMA)", 0: "the build's target"}


def kernel_info():
    """What fastnn's own products run on: instruction set and float micro-tile (rows x columns), and the
    path of bf16 products ("avx512_bf16": vdpbf16ps; "emulated": float32 multiply-adds giving the same
    bits)."""
    cdef int level, mr, nr
    fnn_gemm_describe(&level, &mr, &nr)
    return {"backend": get_backend(), "isa": _ISA.get(level, str(level)), "tile": f"{mr}x{nr}",
            "bf16": "avx512_bf16" if fnn_gemm_bf16_path() == 2 else "emulated"}


cdef void *gemm_fn(int dt) noexcept nogil:
    """The BLAS routine products call, or NULL for fastnn's own kernels."""
    if _own or dt == FNN_BF16:  # bf16 products run on fastnn's kernels only
        return NULL
    return _sgemm if dt == FNN_F32 else _dgemm


cdef int gemm_threads() noexcept nogil:
    """Threads a product may use: fastnn's team, unless BLAS runs its own (scipy's BLAS not pinned)."""
    return get_threads() if (_own or _split) else 1


cdef void gemm_rm(int dt, bint ta, bint tb, int M, int N, int K, double alpha, const void *A,
                  int lda, const void *B, int ldb, double beta, void *C, int ldc) noexcept nogil:
    """Row-major C (M x N) = alpha op(A) op(B) + beta C; lda etc. are row lengths in memory."""
    repin()
    fnn_gemm(dt, gemm_fn(dt), ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, gemm_threads(), get_ftz())


cdef int _dim(cnp.npy_intp v, str name) except -1:
    if v > INT_MAX:
        raise ValueError(f"{name}: dimension {v} exceeds the BLAS limit of 2**31 - 1")
    return <int>v


cdef int _ld(int v) nogil:
    return v if v > 1 else 1


def matmul(a, b, *, bint trans_a=False, bint trans_b=False, double alpha=1.0, double beta=0.0, out=None,
           bint bf16=False):
    """out = alpha op(a) @ op(b) + beta out, op = transpose when trans_a / trans_b (no copies).
    a, b: 2-D float32 or float64 of one dtype. beta != 0 needs out= (it scales out's contents).
    bf16: float32 operands rounded to bfloat16 and multiplied with float32 accumulation (ignored for
    float64, as autocast ignores it)."""
    cdef cnp.ndarray A = arr_in(a, "a")
    cdef cnp.ndarray B = arr_in(b, "b")
    check_dtype(B, "b", A, "a")
    if cnp.PyArray_NDIM(A) != 2 or cnp.PyArray_NDIM(B) != 2:
        raise ValueError(f"a, b: expected 2-D arrays, got shapes {(<object>A).shape} and {(<object>B).shape}")
    cdef int ar = _dim(cnp.PyArray_DIMS(A)[0], "a"), ac = _dim(cnp.PyArray_DIMS(A)[1], "a")
    cdef int br = _dim(cnp.PyArray_DIMS(B)[0], "b"), bc = _dim(cnp.PyArray_DIMS(B)[1], "b")
    cdef int M = ac if trans_a else ar, K = ar if trans_a else ac
    cdef int K2 = bc if trans_b else br, N = br if trans_b else bc
    if K != K2:
        raise ValueError(f"a, b: inner dimensions differ: op(a) is ({M}, {K}), op(b) is ({K2}, {N})")
    cdef cnp.ndarray C
    cdef cnp.npy_intp dims[2]
    dims[0] = M
    dims[1] = N
    if out is None:
        if beta != 0.0:
            raise ValueError("beta: a nonzero beta scales out's contents; pass out=")
        C = cnp.PyArray_ZEROS(2, dims, cnp.PyArray_TYPE(A), 0) if K == 0 else cnp.PyArray_EMPTY(2, dims, cnp.PyArray_TYPE(A), 0)
    else:
        C = arr_inplace(out, "out", None, "")
        check_dtype(C, "out", A, "a")
        if cnp.PyArray_NDIM(C) != 2 or cnp.PyArray_DIMS(C)[0] != M or cnp.PyArray_DIMS(C)[1] != N:
            raise ValueError(f"out: expected shape ({M}, {N}), got {(<object>C).shape}")
        no_alias(C, "out", A, "a", False)
        no_alias(C, "out", B, "b", False)
    cdef int dt = product_code(A, "a", bf16)
    cdef const void *pa = cnp.PyArray_DATA(A)
    cdef const void *pb = cnp.PyArray_DATA(B)
    cdef void *pc = cnp.PyArray_DATA(C)
    with nogil:
        gemm_rm(dt, trans_a, trans_b, M, N, K, alpha, pa, _ld(ac), pb, _ld(bc), beta, pc, _ld(N))
    return C


cdef int product_code(cnp.ndarray A, str name, bint bf16) except -1:
    """The products' dtype code for A: FNN_BF16 where bf16 is asked for float32, else A's own."""
    cdef int dt = dtype_code(A, name)
    return FNN_BF16 if bf16 and dt == FNN_F32 else dt


cdef int linear_dims(cnp.ndarray X, cnp.ndarray W, int *N, int *I, int *O) except -1:
    """x (..., in) as N rows of `in` features; weight (out, in)."""
    if cnp.PyArray_NDIM(W) != 2:
        raise ValueError(f"weight: expected shape (out_features, in_features), got {(<object>W).shape}")
    O[0] = _dim(cnp.PyArray_DIMS(W)[0], "weight")
    I[0] = _dim(cnp.PyArray_DIMS(W)[1], "weight")
    cdef int nd = cnp.PyArray_NDIM(X), i
    if nd < 1 or cnp.PyArray_DIMS(X)[nd - 1] != I[0]:
        raise ValueError(f"x: expected shape (..., {I[0]}) for weight {(<object>W).shape}, got {(<object>X).shape}")
    cdef cnp.npy_intp rows = 1
    for i in range(nd - 1):
        rows *= cnp.PyArray_DIMS(X)[i]
    N[0] = _dim(rows, "x")
    return 0


cdef size_t packed_bytes(int dt, int O, int I) noexcept nogil:
    """The size pack_weight gives a weight (O, I) of dtype code dt."""
    return fnn_gemm_packed_bytes(dt, O, I)


cpdef object pack_weight(object w):
    """w (out, in), float32 or float64, packed into the panels fastnn's products read (a uint8 array), for
    linear_into's pwk; None where they take none (the BLAS backend). Valid while w's values do not change."""
    cdef cnp.ndarray W = arr_in(w, "weight")
    if cnp.PyArray_NDIM(W) != 2:
        raise ValueError(f"weight: expected shape (out_features, in_features), got {(<object>W).shape}")
    cdef int dt = dtype_code(W, "weight")
    cdef int O = _dim(cnp.PyArray_DIMS(W)[0], "weight"), I = _dim(cnp.PyArray_DIMS(W)[1], "weight")
    cdef size_t nbytes = fnn_gemm_packed_bytes(dt, O, I)
    if not _own or nbytes == 0:
        return None
    out = np.empty(nbytes, np.uint8)
    cdef const void *pw = cnp.PyArray_DATA(W)
    cdef void *po = cnp.PyArray_DATA(<cnp.ndarray>out)
    with nogil:
        fnn_gemm_pack_b(dt, 1, O, I, pw, I, po)
    return out


cdef void linear_into(int dt, const void *px, const void *pw, const void *pb, void *py, int N, int I,
                      int O, const void *pwk=NULL) noexcept nogil:
    """y (N x O) = x (N x I) @ w.T (w: O x I) + b (O, or NULL), all C-contiguous and checked by the caller.
    dt: the products' code (FNN_BF16 for float32 arrays multiplied in bf16); pwk: w packed (pack_weight)
    or NULL -- the same bits, without packing w again."""
    if pwk != NULL and gemm_fn(dt) == NULL and dt != FNN_BF16 and I > 0:
        repin()
        fnn_gemm_bias_pk(dt, 1, N, O, I, px, _ld(I), pw, _ld(I), pwk, py, _ld(O), pb, gemm_threads(), get_ftz())
        return
    if pb != NULL:
        repin()
        fnn_gemm_bias(dt, gemm_fn(dt), False, True, N, O, I, px, _ld(I), pw, _ld(I), py, _ld(O), pb,
                      gemm_threads(), get_ftz())
    else:
        if I == 0:
            fnn_scale_(array_code(dt), py, <size_t>N * O, 0.0, 1)
        gemm_rm(dt, False, True, N, O, I, 1.0, px, _ld(I), pw, _ld(I), 0.0, py, _ld(O))


cdef int linear_backward_into(int dt, const void *pg, const void *px, const void *pw, void *pdx, void *pdw,
                              void *pdb, int N, int I, int O, bint accumulate) noexcept nogil:
    """The gradients of linear_into into whichever of dx (N x I), dw (O x I), db (O) is not NULL;
    dw and db assigned, or added onto with accumulate. Returns a kernel status (0: done)."""
    cdef double beta = 1.0 if accumulate else 0.0
    cdef int rc = 0
    if pdw != NULL:
        if N == 0 and not accumulate:
            fnn_scale_(array_code(dt), pdw, <size_t>O * I, 0.0, 1)
        gemm_rm(dt, True, False, O, I, N, 1.0, pg, _ld(O), px, _ld(I), beta, pdw, _ld(I))
    if pdb != NULL:
        rc = fnn_channel_sum(array_code(dt), pg, pdb, N, O, 1, 1 if accumulate else 0, get_threads())
    if pdx != NULL:
        if O == 0:
            fnn_scale_(array_code(dt), pdx, <size_t>N * I, 0.0, 1)
        gemm_rm(dt, False, False, N, I, O, 1.0, pg, _ld(O), pw, _ld(I), 0.0, pdx, _ld(I))
    return rc


def linear(x, weight, bias=None, *, out=None):
    """y = x @ weight.T + bias; x (..., in), weight (out, in) as in PyTorch, bias (out,) or None.
    The product's multiply-add chains start from the bias: no pass over y of its own."""
    cdef cnp.ndarray X = arr_in(x, "x")
    cdef cnp.ndarray W = arr_in(weight, "weight")
    check_dtype(W, "weight", X, "x")
    cdef int N, I, O
    linear_dims(X, W, &N, &I, &O)
    cdef cnp.ndarray Bv = None
    if bias is not None:
        Bv = arr_in(bias, "bias")
        check_dtype(Bv, "bias", X, "x")
        if cnp.PyArray_NDIM(Bv) != 1 or cnp.PyArray_DIMS(Bv)[0] != O:
            raise ValueError(f"bias: expected shape ({O},), got {(<object>Bv).shape}")
    oshape = (<object>X).shape[:cnp.PyArray_NDIM(X) - 1] + (O,)
    cdef cnp.ndarray Y = out_shaped(out, oshape, X, "x", ((X, "x"), (W, "weight"), (Bv, "bias")))
    cdef int dt = dtype_code(X, "x")
    cdef const void *px = cnp.PyArray_DATA(X)
    cdef const void *pw = cnp.PyArray_DATA(W)
    cdef const void *pb = cnp.PyArray_DATA(Bv) if Bv is not None else NULL
    cdef void *py = cnp.PyArray_DATA(Y)
    with nogil:
        linear_into(dt, px, pw, pb, py, N, I, O)
    return Y


def linear_backward(grad_out, x, weight, *, need_input_grad=True, need_bias_grad=True,
                    bint need_weight_grad=True, grad_input=None, grad_weight=None, grad_bias=None,
                    bint accumulate=False):
    """Gradients of y = x @ W.T + b: grad_x = g @ W, grad_W = g.T @ x, grad_b = sum of g over rows.
    Returns (grad_x or None, grad_weight or None, grad_bias or None). Into grad_weight=/grad_bias=
    when given, added onto them when accumulate=True (GEMM beta = 1: no temporary).
    need_weight_grad=False skips the weight GEMM (a frozen layer)."""
    cdef cnp.ndarray X = arr_in(x, "x")
    cdef cnp.ndarray W = arr_in(weight, "weight")
    check_dtype(W, "weight", X, "x")
    cdef int N, I, O
    linear_dims(X, W, &N, &I, &O)
    cdef cnp.ndarray G = arr_in(grad_out, "grad_out")
    check_dtype(G, "grad_out", X, "x")
    oshape = (<object>X).shape[:cnp.PyArray_NDIM(X) - 1] + (O,)
    if (<object>G).shape != oshape:
        raise ValueError(f"grad_out: expected shape {oshape}, got {(<object>G).shape}")
    if accumulate and ((need_weight_grad and grad_weight is None) or (need_bias_grad and grad_bias is None)):
        raise ValueError("accumulate: needs grad_weight= (and grad_bias=) to add into")
    cdef cnp.ndarray dW = None
    if need_weight_grad:
        dW = arr_inplace(grad_weight, "grad_weight", W, "weight") if grad_weight is not None \
            else np.empty((O, I), dtype=(<object>X).dtype)
    cdef cnp.ndarray dB = None
    if need_bias_grad:
        if grad_bias is not None:
            dB = arr_inplace(grad_bias, "grad_bias", None, "")
            check_dtype(dB, "grad_bias", X, "x")
            if cnp.PyArray_NDIM(dB) != 1 or cnp.PyArray_DIMS(dB)[0] != O:
                raise ValueError(f"grad_bias: expected shape ({O},), got {(<object>dB).shape}")
        else:
            dB = np.empty((O,), dtype=(<object>X).dtype)
    cdef cnp.ndarray dX = None
    if need_input_grad:
        dX = arr_out(grad_input, "grad_input", X, "x")
        for arr, nm in ((G, "grad_out"), (W, "weight"), (dW, "grad_weight")):
            if arr is not None:
                no_alias(dX, "grad_input", arr, nm, False)
    if dW is not None:
        for arr, nm in ((G, "grad_out"), (X, "x"), (W, "weight")):
            no_alias(dW, "grad_weight", arr, nm, False)
    cdef int dt = dtype_code(X, "x"), rc = 0
    cdef const void *pg = cnp.PyArray_DATA(G)
    cdef const void *px = cnp.PyArray_DATA(X)
    cdef const void *pw = cnp.PyArray_DATA(W)
    cdef void *pdw = cnp.PyArray_DATA(dW) if dW is not None else NULL
    cdef void *pdb = cnp.PyArray_DATA(dB) if dB is not None else NULL
    cdef void *pdx = cnp.PyArray_DATA(dX) if dX is not None else NULL
    with nogil:
        rc = linear_backward_into(dt, pg, px, pw, pdx, pdw, pdb, N, I, O, accumulate)
    check_rc(rc)
    return dX, dW, dB
