"""Parameters and the arena that holds them.

A model's parameters live in one contiguous buffer per dtype (the arena) and their gradients in a
second; every ``Parameter.data`` / ``.grad`` is a view into them. The optimizer updates a whole
contiguous range with one fused kernel call, clipping is one reduction over the gradient buffer, and
zero_grad is one fill. A Parameter lives in one arena at a time: packing a model built from another
model's layers moves those parameters (values preserved) into the new model's arena.
"""
import numpy as np


class Parameter:
    """A trainable array: ``data`` and ``grad`` (NumPy arrays of one shape and dtype),
    ``requires_grad`` (False: frozen, skipped by backward and the optimizer) and ``kind``
    ("weight", "bias" or "norm": biases and norm parameters can be exempted from weight decay) and an
    optional ``regularizer`` (a fastnn.regularizers penalty)."""

    __slots__ = ("data", "grad", "requires_grad", "kind", "regularizer", "_arena", "_offset")

    def __init__(self, data, requires_grad=True, kind="weight", regularizer=None):
        data = np.ascontiguousarray(data)
        if data.dtype not in (np.float32, np.float64):
            raise TypeError(f"data: expected a float32 or float64 array, got dtype {data.dtype}")
        self.data = data
        self.grad = np.zeros_like(data)
        self.requires_grad = bool(requires_grad)
        self.kind = kind
        self.regularizer = regularizer  # fastnn.regularizers penalty, applied by the optimizer
        self._arena = None
        self._offset = 0

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    ndim = property(lambda self: self.data.ndim)

    def __repr__(self):
        return (f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}, kind={self.kind!r}"
                f"{'' if self.requires_grad else ', frozen'})")


class Arena:
    """Contiguous storage for a list of parameters (one dtype): ``data`` and ``grad`` are 1-D arrays;
    ``slots`` lists (parameter, offset, size) in order."""

    def __init__(self, params):
        params = list(params)
        dtypes = {p.dtype for p in params}
        if len(dtypes) > 1:
            raise TypeError(f"parameters: expected one dtype per model, got {sorted(str(d) for d in dtypes)}"
                            " (use model.to(dtype))")
        dtype = dtypes.pop() if dtypes else np.dtype(np.float32)
        total = sum(p.size for p in params)
        self.data = np.empty(total, dtype)
        self.grad = np.zeros(total, dtype)
        self.slots = []
        off = 0
        for p in params:
            n = p.size
            self.data[off:off + n] = p.data.reshape(-1)
            self.grad[off:off + n] = p.grad.reshape(-1)
            p.data = self.data[off:off + n].reshape(p.shape)
            p.grad = self.grad[off:off + n].reshape(p.data.shape)
            p._arena, p._offset = self, off
            self.slots.append((p, off, n))
            off += n

    @property
    def dtype(self):
        return self.data.dtype


class ArenaRange:
    """The contiguous part [lo, hi) of an arena that holds one model's parameters, in order."""

    def __init__(self, arena, lo, hi, params):
        self.arena, self.lo, self.hi, self.params = arena, lo, hi, params

    @property
    def data(self):
        return self.arena.data[self.lo:self.hi]

    @property
    def grad(self):
        return self.arena.grad[self.lo:self.hi]

    @property
    def dtype(self):
        return self.arena.dtype

    def ranges(self, select):
        """Maximal runs [lo, hi) of consecutive parameters with select(p) true (arena offsets)."""
        runs = []
        for p in self.params:
            if select(p):
                lo, hi = p._offset, p._offset + p.size
                if runs and runs[-1][1] == lo:
                    runs[-1][1] = hi
                else:
                    runs.append([lo, hi])
        return [tuple(r) for r in runs]


def pack(params):
    """The ArenaRange holding `params` (deduplicated, in order): their current arena when they already
    lie there contiguously in this order (a slice of a packed model), else a new arena."""
    seen, uniq = set(), []
    for p in params:
        if id(p) not in seen:
            seen.add(id(p))
            uniq.append(p)
    if uniq:
        a = uniq[0]._arena
        if a is not None and all(p._arena is a for p in uniq):
            contiguous = all(uniq[i]._offset + uniq[i].size == uniq[i + 1]._offset
                             for i in range(len(uniq) - 1))
            if contiguous:
                return ArenaRange(a, uniq[0]._offset, uniq[-1]._offset + uniq[-1].size, uniq)
    arena = Arena(uniq)
    return ArenaRange(arena, 0, arena.data.size, uniq)
