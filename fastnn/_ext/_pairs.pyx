"""The hot ops as forward/backward pairs over arrays, and the workspaces their outputs come from.

One pair per op, called by everything that runs the op: the layer (nn.Linear, the element-wise
activations, nn.Dropout: their _fwd/_bwd), the functional API on tensors (F.linear, F.relu, ...,
Tensor.relu) and the explicit chain (fastnn._ext._chain, which keeps only its loop). So the three paths
are bitwise the same by construction.

    linear_fwd(x, w, b, ws, bf16) -> (y, ctx)   linear_bwd(ctx, g, w, gw, gb, need_input_grad, accumulate, ws)
    unary_fwd(op, a, b, from_output, x, ws)      unary_bwd(op, a, b, ctx, g, ws)
    dropout_fwd(p, seed, x, ws)                  dropout_bwd(ctx, g, ws)

Inputs are float32/float64 arrays of one dtype (callers convert; a non-contiguous input is copied once);
shapes are checked before any kernel runs. Outputs come from the workspace `ws`: reused only when
nobody outside the pool holds them, so whatever a pair returned stays the caller's.
"""
cimport numpy as cnp
import numpy as np
from cpython.pythread cimport PyThread_get_thread_ident
from libc.stdint cimport uint64_t
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport arr_in, check_rc, dtype_code
from fastnn._ext._runtime cimport get_threads
from fastnn._ext._blas cimport linear_dims, linear_into, linear_backward_into, packed_bytes, product_code

cnp.import_array()

cdef extern from *:
    """
    /* an item of a list whose only holder is the list (a borrowed look: no reference taken) */
    static int fnn_only_in_list(PyObject *lst, Py_ssize_t i) { return Py_REFCNT(PyList_GET_ITEM(lst, i)) == 1; }
    """
    int fnn_only_in_list(object lst, Py_ssize_t i)

# the element-wise ops' kernel codes (fnn_unary), by name from the kernels' own list (csrc/fastnn.h's
# FNN_UNARY_OPS: a new activation needs no line here)
CODES = {fnn_unary_name(i).decode(): i for i in range(FNN_N_UNARY)}
SIGMOID, TANH, RELU, LEAKY_RELU, ELU, SELU, GELU, GELU_TANH, SILU, SOFTPLUS = (
    CODES["sigmoid"], CODES["tanh"], CODES["relu"], CODES["leaky_relu"], CODES["elu"], CODES["selu"], CODES["gelu"],
    CODES["gelu_tanh"], CODES["silu"], CODES["softplus"])

cdef Py_ssize_t MAX_ENTRIES = 48  # (key, shape, dtype, thread) entries a pool keeps (least recently used go)
cdef Py_ssize_t PER_ENTRY = 4     # arrays kept per entry (a module called several times per step)
# bytes of arrays a pool keeps: a model called with many batch sizes must not grow without bound
# (the least recently used entries go first); set_workspace_limit changes it
cdef Py_ssize_t MAX_BYTES = 64 << 20


def set_workspace_limit(Py_ssize_t nbytes):
    """Bytes of reusable arrays each layer's workspace may keep (default 64 MiB); returns the old limit."""
    global MAX_BYTES
    if nbytes < 0:
        raise ValueError(f"nbytes: expected >= 0, got {nbytes}")
    old = MAX_BYTES
    MAX_BYTES = nbytes
    return old


cdef class Workspace:
    """Reusable output arrays that are never handed out while someone holds them.

    A workspace keeps a few arrays per (key, shape, dtype, thread). An array is reused only when the
    pool's list is its only holder (its reference count says so): whatever an op returned to a
    caller, kept in a graph context or put in a list stays untouched. Pools are per thread, so two
    threads never get the same free array; a steady training step then allocates no arrays."""

    def __init__(self):
        self.entries = {}
        self.used = {}
        self.nbytes = 0
        self.clock = 0

    cpdef object get(self, key, shape, dtype):
        """An array of (shape, dtype) that nobody outside this pool holds."""
        k = (key, shape, dtype, PyThread_get_thread_ident())
        cdef list lst = self.entries.get(k)
        cdef Py_ssize_t i
        if lst is None:
            lst = []
            self.entries[k] = lst
        # a use stamp, not a re-insertion: a steady step must not grow (and reallocate) the dicts
        self.clock += 1
        self.used[k] = self.clock
        for i in range(len(lst)):
            if fnn_only_in_list(lst, i):
                return lst[i]
        a = np.empty(shape, dtype)
        if len(lst) < PER_ENTRY and a.nbytes <= MAX_BYTES:
            lst.append(a)
            self.nbytes += a.nbytes
            if self.nbytes > MAX_BYTES or len(self.entries) > MAX_ENTRIES:
                self._evict(k)
        return a

    cdef _evict(self, keep):
        """Drop the least recently used entries until the pool is within its limits."""
        while (self.nbytes > MAX_BYTES or len(self.entries) > MAX_ENTRIES) and len(self.entries) > 1:
            oldest = min((kk for kk in self.entries if kk != keep), key=self.used.__getitem__)
            for x in self.entries.pop(oldest):
                self.nbytes -= x.nbytes
            del self.used[oldest]

    def clear(self):
        self.entries.clear()
        self.used.clear()
        self.nbytes = 0


cdef inline void *_data(object a):
    return cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline cnp.ndarray _grad_in(object g, cnp.ndarray ref, tuple shape):
    """The incoming gradient as a C-contiguous array of ref's dtype and the expected shape (converted once
    when it is not: a gradient of another dtype, a non-contiguous view)."""
    cdef cnp.ndarray a
    if type(g) is np.ndarray and cnp.PyArray_TYPE(<cnp.ndarray>g) == cnp.PyArray_TYPE(ref) \
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>g) and cnp.PyArray_ISALIGNED(<cnp.ndarray>g):
        a = <cnp.ndarray>g
    else:
        a = np.ascontiguousarray(g, dtype=(<object>ref).dtype)
    if (<object>a).shape != shape:
        raise ValueError(f"grad_out: expected shape {shape}, got {(<object>a).shape}")
    return a


cdef inline int _same_dtype(cnp.ndarray a, str an, cnp.ndarray b, str bn) except -1:
    if cnp.PyArray_TYPE(a) != cnp.PyArray_TYPE(b):
        raise TypeError(f"{an}: expected dtype {(<object>b).dtype} (the {bn}'s), got {(<object>a).dtype}")
    return 0


cdef inline int _into(object arr, str name, cnp.ndarray ref, tuple shape) except -1:
    """An output array given by the caller (a parameter's gradient in the arena): its exact layout."""
    if type(arr) is not np.ndarray or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>arr) \
            or (<object>arr).shape != shape or not (<cnp.ndarray>arr).flags.writeable:
        raise ValueError(f"{name}: expected a writable C-contiguous array of shape {shape}")
    return _same_dtype(<cnp.ndarray>arr, name, ref, "x")


# ---- linear: y = x @ w.T + b ----
cpdef tuple linear_fwd(object x, object w, object b, Workspace ws, bint bf16=False, object packed=None):
    """y = x @ w.T + b (w: (out, in) as PyTorch; b: (out,) or None) into a workspace array; the context
    is x (backward reads it for the weight's gradient), or (x, True) when bf16 ran the products in
    bfloat16 (float32 inputs only; the backward's products then run in bf16 too, as under autocast).
    packed: w as _blas.pack_weight packed it (inference reuses it), or None."""
    cdef cnp.ndarray X = arr_in(x, "x"), W = arr_in(w, "weight"), B = None
    _same_dtype(X, "x", W, "weight")
    cdef int N, I, O
    linear_dims(X, W, &N, &I, &O)
    if b is not None:
        B = arr_in(b, "bias")
        _same_dtype(B, "bias", W, "weight")
        if cnp.PyArray_NDIM(B) != 1 or cnp.PyArray_DIMS(B)[0] != O:
            raise ValueError(f"bias: expected shape ({O},), got {(<object>B).shape}")
    y = ws.get("linear.y", (<object>X).shape[:cnp.PyArray_NDIM(X) - 1] + (O,), (<object>X).dtype)
    cdef const void *px = cnp.PyArray_DATA(X)
    cdef const void *pw = cnp.PyArray_DATA(W)
    cdef const void *pb = cnp.PyArray_DATA(B) if B is not None else NULL
    cdef void *py = _data(y)
    cdef int dt = product_code(X, "x", bf16)
    cdef const void *pk = NULL
    if packed is not None:  # its size proves it was packed for this shape and dtype
        if type(packed) is not np.ndarray or (<object>packed).dtype != np.uint8 \
                or <size_t>cnp.PyArray_NBYTES(<cnp.ndarray>packed) != packed_bytes(dt, O, I):
            raise ValueError(f"packed: expected the weight {(<object>W).shape} as pack_weight packs it")
        pk = cnp.PyArray_DATA(<cnp.ndarray>packed)
    with nogil:
        linear_into(dt, px, pw, pb, py, N, I, O, pk)
    return y, ((X, True) if dt == FNN_BF16 else X)


cpdef object linear_bwd(object ctx, object g, object w, object gw, object gb, bint need_input_grad,
                        bint accumulate, Workspace ws):
    """The input gradient (a workspace array, or None without need_input_grad); the weight's gradient
    into gw and the bias's into gb where they are not None: assigned, or added with accumulate."""
    cdef bint bf16 = type(ctx) is tuple
    cdef cnp.ndarray X = arr_in(ctx[0] if bf16 else ctx, "x"), W = arr_in(w, "weight")
    _same_dtype(W, "weight", X, "x")
    cdef int N, I, O
    linear_dims(X, W, &N, &I, &O)
    cdef cnp.ndarray G = _grad_in(g, X, (<object>X).shape[:cnp.PyArray_NDIM(X) - 1] + (O,))
    if gw is not None:
        _into(gw, "grad_weight", X, (O, I))
    if gb is not None:
        _into(gb, "grad_bias", X, (O,))
    gx = ws.get("linear.gx", (<object>X).shape, (<object>X).dtype) if need_input_grad else None
    cdef void *pdx = _data(gx) if need_input_grad else NULL
    cdef void *pdw = _data(gw) if gw is not None else NULL
    cdef void *pdb = _data(gb) if gb is not None else NULL
    cdef const void *pg = cnp.PyArray_DATA(G)
    cdef const void *px = cnp.PyArray_DATA(X)
    cdef const void *pw = cnp.PyArray_DATA(W)
    cdef int dt = product_code(X, "x", bf16), rc
    with nogil:
        rc = linear_backward_into(dt, pg, px, pw, pdx, pdw, pdb, N, I, O, accumulate)
    check_rc(rc)
    return gx


# ---- element-wise activations: y = f(x; a, b), the kernel's op code naming f ----
cpdef tuple unary_fwd(int op, double a, double b, bint from_output, object x, Workspace ws):
    """y = f(x) into a workspace array; the context is y for ops whose gradient is a function of the
    output (from_output: sigmoid, tanh), else x."""
    cdef cnp.ndarray X = arr_in(x, "x")
    y = ws.get("unary.y", (<object>X).shape, (<object>X).dtype)
    cdef int dt = dtype_code(X, "x"), nt = get_threads(), rc
    cdef size_t n = cnp.PyArray_SIZE(X)
    cdef const void *px = cnp.PyArray_DATA(X)
    cdef void *py = _data(y)
    with nogil:
        rc = fnn_unary(op, dt, px, py, n, a, b, nt)
    check_rc(rc)
    return y, (y if from_output else X)


cpdef object unary_bwd(int op, double a, double b, object ctx, object g, Workspace ws):
    """The input gradient from the context of unary_fwd (x, or y for from_output ops)."""
    cdef cnp.ndarray V = arr_in(ctx, "ctx")
    cdef cnp.ndarray G = _grad_in(g, V, (<object>V).shape)
    gx = ws.get("unary.gx", (<object>V).shape, (<object>V).dtype)
    cdef int dt = dtype_code(V, "ctx"), nt = get_threads(), rc
    cdef size_t n = cnp.PyArray_SIZE(V)
    cdef const void *pg = cnp.PyArray_DATA(G)
    cdef const void *pv = cnp.PyArray_DATA(V)
    cdef void *pd = _data(gx)
    with nogil:
        rc = fnn_unary_backward(op, dt, pg, pv, pd, n, a, b, nt)
    check_rc(rc)
    return gx


# ---- inverted dropout: y = x * mask / (1 - p), the mask drawn from a counter-based seed ----
cdef object _masked(cnp.ndarray src, double p, uint64_t seed, object key, Workspace ws):
    """src * mask / (1 - p) into a workspace array (forward and backward draw the same mask)."""
    dst = ws.get(key, (<object>src).shape, (<object>src).dtype)
    cdef int dt = dtype_code(src, "x"), nt = get_threads(), rc
    cdef size_t n = cnp.PyArray_SIZE(src)
    cdef const void *ps = cnp.PyArray_DATA(src)
    cdef void *pd = _data(dst)
    with nogil:
        rc = fnn_dropout(dt, ps, pd, n, p, seed, nt)
    check_rc(rc)
    return dst


cpdef tuple dropout_fwd(double p, uint64_t seed, object x, Workspace ws):
    """Inverted dropout of x with probability p, the mask from `seed`; the context (seed, dtype, p) is
    all backward needs (the mask is drawn again, never stored)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p: expected a probability in [0, 1], got {p}")
    cdef cnp.ndarray X = arr_in(x, "x")
    return _masked(X, p, seed, "dropout.y", ws), (seed, (<object>X).dtype, p)


cpdef object dropout_bwd(object ctx, object g, Workspace ws):
    """The input gradient: g through the forward's mask."""
    seed, dtype, p = ctx
    cdef cnp.ndarray G = np.ascontiguousarray(g, dtype=dtype)
    return _masked(G, p, seed, "dropout.gx", ws)
