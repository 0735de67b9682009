"""The explicit chain without Python between its layers, and the workspaces layers draw from.

A Sequential called on arrays (fit's step), and its fused graph node on tensors, run Sequential's
_fwd/_bwd: here Linear, the element-wise activations, Dropout and Identity call their kernels
directly, with the same kernels, arguments, workspace buffers and per-call contexts as their own
_fwd/_bwd -- so the two paths give bitwise the same results and mix freely -- and any other layer
(or an input these do not take as is: another dtype, a non-contiguous array) runs its own method.
Each layer then costs a few attribute reads instead of ~1.8 us of Python per direction (a 64-64-10
MLP's step at batch 32 spent a third of its time there).

A layer class opts in with ``_chain`` (one of the kinds below); a subclass that defines its own
_fwd or _bwd is opted out (Module.__init_subclass__), and so is an instance whose _fwd or _bwd was
replaced (a profiler's clock, a test's trace).
"""
cimport numpy as cnp
import numpy as np
from cpython.pythread cimport PyThread_get_thread_ident
from libc.stdint cimport uint64_t
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport check_rc
from fastnn._ext._runtime cimport get_threads
from fastnn._ext._blas cimport linear_into, linear_backward_into

cnp.import_array()

cdef extern from *:
    """
    /* an item of a list whose only holder is the list (a borrowed look: no reference taken) */
    static int fnn_only_in_list(PyObject *lst, Py_ssize_t i) { return Py_REFCNT(PyList_GET_ITEM(lst, i)) == 1; }
    """
    int fnn_only_in_list(object lst, Py_ssize_t i)

# the kinds of layer this module runs (a class's `_chain`)
KIND_PY, KIND_LINEAR, KIND_UNARY, KIND_DROPOUT, KIND_IDENTITY = 0, 1, 2, 3, 4
# the element-wise ops' kernel codes (fnn_unary)
SIGMOID, TANH, RELU, LEAKY_RELU, ELU, SELU, GELU, GELU_TANH, SILU, SOFTPLUS = (
    FNN_SIGMOID, FNN_TANH, FNN_RELU, FNN_LEAKY_RELU, FNN_ELU, FNN_SELU, FNN_GELU, FNN_GELU_TANH, FNN_SILU,
    FNN_SOFTPLUS)

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

    cdef public dict entries
    cdef public Py_ssize_t nbytes
    cdef dict used          # key -> the clock at its last use (the least recently used go first)
    cdef Py_ssize_t clock

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


cdef inline bint _usable(object x, int typenum):
    """A C-contiguous ndarray of this dtype (else the layer's own method converts or refuses it)."""
    return (type(x) is np.ndarray and cnp.PyArray_TYPE(<cnp.ndarray>x) == typenum
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x))


cdef inline int _float_type(object x):
    """float32 / float64 type number of a usable array, else -1."""
    if type(x) is not np.ndarray or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x):
        return -1
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    return t if t == cnp.NPY_FLOAT32 or t == cnp.NPY_FLOAT64 else -1


cdef inline int _code(int typenum):
    return FNN_F32 if typenum == cnp.NPY_FLOAT32 else FNN_F64


cdef inline void *_data(object a):
    return cnp.PyArray_DATA(<cnp.ndarray>a)


# ---- Linear ----
cdef tuple _linear_fwd(object m, object x):
    cdef cnp.ndarray w = m.weight._a
    cdef int t = cnp.PyArray_TYPE(w)
    cdef int I = <int>cnp.PyArray_DIMS(w)[1], O = <int>cnp.PyArray_DIMS(w)[0], nd
    if not _usable(x, t) or I == 0 or O == 0:
        return m._fwd(x)
    nd = cnp.PyArray_NDIM(<cnp.ndarray>x)  # (wraparound is off in this build: no negative indices)
    if nd < 1 or cnp.PyArray_DIMS(<cnp.ndarray>x)[nd - 1] != I:
        return m._fwd(x)
    bias = m.bias
    cdef const void *pb = _data(bias._a) if bias is not None else NULL
    cdef int N = <int>(cnp.PyArray_SIZE(<cnp.ndarray>x) // I)
    y = (<Workspace>m._ws).get("y", x.shape[:nd - 1] + (O,), x.dtype)
    cdef const void *px = _data(x)
    cdef const void *pw = cnp.PyArray_DATA(w)
    cdef void *py = _data(y)
    cdef int dt = _code(t)
    with nogil:
        linear_into(dt, px, pw, pb, py, N, I, O)
    return y, x


cdef object _linear_bwd(object m, object x, object g, bint need_input_grad, bint accumulate):
    w, b = m.weight, m.bias
    cdef cnp.ndarray wa = w._a
    cdef int t = cnp.PyArray_TYPE(wa)
    cdef int I = <int>cnp.PyArray_DIMS(wa)[1], O = <int>cnp.PyArray_DIMS(wa)[0]
    if not _usable(g, t) or I == 0 or O == 0 or g.shape != x.shape[:cnp.PyArray_NDIM(<cnp.ndarray>x) - 1] + (O,):
        return m._bwd(x, g, need_input_grad, accumulate)
    cdef int N = <int>(cnp.PyArray_SIZE(<cnp.ndarray>x) // I)
    gx = (<Workspace>m._ws).get("gx", x.shape, x.dtype) if need_input_grad else None
    cdef void *pdx = _data(gx) if need_input_grad else NULL
    cdef void *pdw = _data(w._g) if w.requires_grad else NULL
    cdef void *pdb = _data(b._g) if (b is not None and b.requires_grad) else NULL
    cdef const void *pg = _data(g)
    cdef const void *px = _data(x)
    cdef const void *pw = cnp.PyArray_DATA(wa)
    cdef int dt = _code(t), rc
    with nogil:
        rc = linear_backward_into(dt, pg, px, pw, pdx, pdw, pdb, N, I, O, accumulate)
    check_rc(rc)
    return gx


# ---- element-wise activations ----
cdef tuple _unary_fwd(object m, object x):
    cdef int t = _float_type(x)
    if t < 0:
        return m._fwd(x)
    op, a, b = m._unary()
    y = (<Workspace>m._ws).get("y", x.shape, x.dtype)
    cdef int o = op, dt = _code(t), nt = get_threads(), rc
    cdef double da = a, db = b
    cdef size_t n = cnp.PyArray_SIZE(<cnp.ndarray>x)
    cdef const void *px = _data(x)
    cdef void *py = _data(y)
    with nogil:
        rc = fnn_unary(o, dt, px, py, n, da, db, nt)
    check_rc(rc)
    return y, (y if m._from_output else x)


cdef object _unary_bwd(object m, object v, object g):
    if not _usable(g, cnp.PyArray_TYPE(<cnp.ndarray>v)) or g.shape != v.shape:
        return m._bwd(v, g, True)
    op, a, b = m._unary()
    gx = (<Workspace>m._ws).get("gx", v.shape, v.dtype)
    cdef int o = op, dt = _code(cnp.PyArray_TYPE(<cnp.ndarray>v)), nt = get_threads(), rc
    cdef double da = a, db = b
    cdef size_t n = cnp.PyArray_SIZE(<cnp.ndarray>v)
    cdef const void *pg = _data(g)
    cdef const void *pv = _data(v)
    cdef void *pd = _data(gx)
    with nogil:
        rc = fnn_unary_backward(o, dt, pg, pv, pd, n, da, db, nt)
    check_rc(rc)
    return gx


# ---- dropout ----
cdef void _mask_into(int t, object src, object dst, double p, uint64_t seed) except *:
    """dst = src * mask / (1 - p), the mask drawn from `seed` (forward and backward draw the same)."""
    cdef int dt = _code(t), nt = get_threads(), rc
    cdef size_t n = cnp.PyArray_SIZE(<cnp.ndarray>src)
    cdef const void *ps = _data(src)
    cdef void *pd = _data(dst)
    with nogil:
        rc = fnn_dropout(dt, ps, pd, n, p, seed, nt)
    check_rc(rc)


cdef tuple _dropout_fwd(object m, object x):
    if not (m.training and m.p > 0):
        return x, None
    cdef int t = _float_type(x)
    if t < 0:
        return m._fwd(x)
    y = (<Workspace>m._ws).get("y", x.shape, x.dtype)
    seed = m._next()
    _mask_into(t, x, y, m.p, seed)
    return y, (seed, x.dtype, m.p)


cdef object _dropout_bwd(object m, object ctx, object g):
    if ctx is None:
        return g
    seed, dtype, p_ = ctx
    cdef int t = _float_type(g)
    if t < 0 or g.dtype != dtype:
        return m._bwd(ctx, g, True)
    gx = (<Workspace>m._ws).get("gx", g.shape, g.dtype)
    _mask_into(t, g, gx, p_, seed)
    return gx


# ---- the chain ----
def forward(mods, x):
    """(y, contexts) of the layers `mods` (None entries skipped) applied in order to array x."""
    cdef list ctxs = []
    for m in mods:
        if m is None:
            continue
        kind = type(m)._chain
        if kind and "_fwd" in m.__dict__:
            kind = KIND_PY
        if kind == KIND_LINEAR:
            x, c = _linear_fwd(m, x)
        elif kind == KIND_UNARY:
            x, c = _unary_fwd(m, x)
        elif kind == KIND_DROPOUT:
            x, c = _dropout_fwd(m, x)
        elif kind == KIND_IDENTITY:
            c = None
        else:
            x, c = m._fwd(x)
        ctxs.append(c)
    return x, ctxs


def backward(mods, list ctxs, g, bint need_input_grad, bint accumulate):
    """Back through `mods` (None entries skipped) from the gradient g of the output, with the contexts
    of forward(); parameter gradients assigned, or added with `accumulate`. Without need_input_grad it
    stops at the lowest layer with trainable parameters (frozen lower layers cost forward time only)
    and returns None."""
    cdef list ms = [m for m in mods if m is not None]
    cdef Py_ssize_t n = len(ms), lowest = 0, i
    if not need_input_grad:
        lowest = n
        for i in range(n):
            if ms[i].has_trainable():
                lowest = i
                break
    for i in range(n - 1, lowest - 1, -1):
        m = ms[i]
        need = need_input_grad or i > lowest
        kind = type(m)._chain
        if kind and "_bwd" in m.__dict__:
            kind = KIND_PY
        if kind == KIND_LINEAR:
            g = _linear_bwd(m, ctxs[i], g, need, accumulate)
        elif kind == KIND_UNARY:
            g = _unary_bwd(m, ctxs[i], g)
        elif kind == KIND_DROPOUT:
            g = _dropout_bwd(m, ctxs[i], g)
        elif kind == KIND_IDENTITY:
            pass
        else:
            g = m._bwd(ctxs[i], g, need, accumulate)
    return g if need_input_grad else None
