"""The explicit chain: a Sequential's layers run without Python between them.

A Sequential called on arrays (fit's step), and its fused graph node on tensors, run Sequential's
_fwd/_bwd through this loop: Linear, the element-wise activations, Dropout and Identity run their ops'
forward/backward pairs (fastnn._ext._pairs, the same pairs their own _fwd/_bwd and the functional API
call: the paths are bitwise the same and mix freely); any other layer, or an input the pairs do not
take as is (another dtype, a non-contiguous array: the layer's own method converts or refuses it), runs
its own method. Each layer then costs a few attribute reads instead of ~1.8 us of Python per direction
(a 64-64-10 MLP's step at batch 32 spent a third of its time there).

What the loop reads of a layer -- the chain protocol: the class's ``_chain`` kind (a subclass that defines
its own _fwd or _bwd is opted out, Module.__init_subclass__, and so is an instance whose _fwd or _bwd was
replaced: a profiler's clock, a test's trace); its workspace ``_ws``; for KIND_LINEAR the ``weight`` and
``bias`` parameters; for KIND_UNARY ``_kernel_args() -> (op code, a, b, from_output)``; for
KIND_DROPOUT ``training``, ``p`` and the next seed of its stream, ``_next()``.
"""
cimport numpy as cnp
import numpy as np
from fastnn._ext._pairs cimport (Workspace, dropout_bwd, dropout_fwd, linear_bwd, linear_fwd, unary_bwd,
                                 unary_fwd)

cnp.import_array()

# the kinds of layer this loop runs (a class's `_chain`)
KIND_PY, KIND_LINEAR, KIND_UNARY, KIND_DROPOUT, KIND_IDENTITY = 0, 1, 2, 3, 4


cdef inline bint _usable(object x, object like):
    """A C-contiguous ndarray of like's dtype (else the layer's own method converts or refuses it)."""
    return (type(x) is np.ndarray and cnp.PyArray_TYPE(<cnp.ndarray>x) == cnp.PyArray_TYPE(<cnp.ndarray>like)
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x))


cdef inline bint _float(object x):
    if type(x) is not np.ndarray or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x):
        return False
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    return t == cnp.NPY_FLOAT32 or t == cnp.NPY_FLOAT64


cdef tuple _fwd_linear(object m, object x, bint bf16):
    w, b = m.weight, m.bias
    wa = w._a
    if not _usable(x, wa) or cnp.PyArray_NDIM(<cnp.ndarray>x) < 1 or wa.size == 0 \
            or x.shape[cnp.PyArray_NDIM(<cnp.ndarray>x) - 1] != wa.shape[1]:
        return m._fwd(x)
    return linear_fwd(x, wa, b._a if b is not None else None, <Workspace>m._ws, bf16, None if bf16 else m._packed())


cdef object _bwd_linear(object m, object x, object g, bint need, bint accumulate):
    w, b = m.weight, m.bias
    wa = w._a
    if not _usable(g, wa) or wa.size == 0:
        return m._bwd(x, g, need, accumulate)
    return linear_bwd(x, g, wa, w._g if w.requires_grad else None,
                      b._g if (b is not None and b.requires_grad) else None, need, accumulate, <Workspace>m._ws)


# ---- the chain ----
def forward(mods, x, bint bf16=False):
    """(y, contexts) of the layers `mods` (None entries skipped) applied in order to array x; bf16: the
    linear layers' products in bfloat16 (autocast's; other layers read autocast themselves)."""
    cdef list ctxs = []
    for m in mods:
        if m is None:
            continue
        kind = type(m)._chain
        if kind and "_fwd" in m.__dict__:
            kind = KIND_PY
        if kind == KIND_LINEAR:
            x, c = _fwd_linear(m, x, bf16)
        elif kind == KIND_UNARY:
            if _float(x):
                op, a, b, from_output = m._kernel_args()
                x, c = unary_fwd(op, a, b, from_output, x, <Workspace>m._ws)
            else:
                x, c = m._fwd(x)
        elif kind == KIND_DROPOUT:
            if not (m.training and m.p > 0):
                c = None
            elif _float(x):
                x, c = dropout_fwd(m.p, m._next(), x, <Workspace>m._ws)
            else:
                x, c = m._fwd(x)
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
            g = _bwd_linear(m, ctxs[i], g, need, accumulate)
        elif kind == KIND_UNARY:
            if _usable(g, ctxs[i]):
                op, a, b, from_output = m._kernel_args()
                g = unary_bwd(op, a, b, ctxs[i], g, <Workspace>m._ws)
            else:
                g = m._bwd(ctxs[i], g, need, accumulate)
        elif kind == KIND_DROPOUT:
            if ctxs[i] is not None:
                g = dropout_bwd(ctxs[i], g, <Workspace>m._ws) if _float(g) and g.dtype == ctxs[i][1] \
                    else m._bwd(ctxs[i], g, need, accumulate)
        elif kind == KIND_IDENTITY:
            pass
        else:
            g = m._bwd(ctxs[i], g, need, accumulate)
    return g if need_input_grad else None
