"""Parameters and the arena that holds them.

A model's parameters live in one contiguous buffer per dtype (the arena) and their gradients in a
second; every parameter's array and gradient are views into them. The optimizer updates a whole
contiguous range with one fused kernel call, clipping is one reduction over the gradient buffer, and
zero_grad is one fill. A Parameter lives in one arena at a time: packing a model built from another
model's layers moves those parameters (values preserved) into the new model's arena, and every move
bumps a global generation counter so optimizers notice and follow their parameters.
"""
import copy

import numpy as np

from .._autograd import _Handle
from .._tensor_base import wrote_raw
from ..tensor import Tensor, _arr, _init_slots, _sum_to, _wrap

_generation = [0]  # bumped whenever a parameter moves to a new arena
hooked = [0]       # parameters that ever had a gradient hook (layer backward then routes through them)


def generation():
    return _generation[0]


class Parameter(Tensor):
    """A trainable tensor (a leaf that requires grad by default), as torch.nn.Parameter.

    Besides the Tensor API: ``grad`` is a view of the model's gradient arena (zeros after zero_grad,
    never None while requires_grad; None for a frozen parameter); ``p.data = x`` copies x into the
    arena; ``kind`` ("weight", "bias" or "norm": biases and norm parameters can be exempted from weight
    decay) and an optional ``regularizer`` (a fastnn.regularizers penalty the optimizer applies).

    Parameters
    ----------
    data : array_like or Tensor, default None
        The initial value.
    requires_grad : bool, default True
        Whether the parameter is trained.
    kind : str, default 'weight'
        "weight", "bias" or "norm" (biases and norm parameters can be exempted from weight decay: no_decay_bias).
    regularizer : fastnn.regularizers penalty, optional
        L1, L2 or ElasticNet penalty on the weight, applied by the optimizer.
    """

    __slots__ = ("_g", "_gt", "kind", "regularizer", "_arena", "_offset")

    def __init__(self, data=None, requires_grad=True, kind="weight", regularizer=None):
        if data is None:
            data = np.empty(0, np.float32)
        a = np.ascontiguousarray(_arr(data))  # shares a contiguous array, as torch.nn.Parameter
        if not a.flags.writeable:
            a = a.copy()
        if a.dtype not in (np.float32, np.float64):
            raise TypeError(f"data: expected a float32 or float64 tensor or array, got dtype {a.dtype}")
        self._a, self._node, self._grad, self._hooks = a, None, None, None
        _init_slots(self)
        self.requires_grad = bool(requires_grad)
        self._g = np.zeros(a.shape, a.dtype)  # calloc: no page is touched until a gradient lands
        self._gt = None
        self.kind = kind
        self.regularizer = regularizer  # fastnn.regularizers penalty, applied by the optimizer
        self._arena = None
        self._offset = 0

    @property
    def grad(self):
        if not self.requires_grad:
            return None
        gt = self._gt
        if gt is None or gt._a is not self._g:
            gt = self._gt = _wrap(self._g)
        return gt

    @grad.setter
    def grad(self, value):
        if value is None:
            self._g[...] = 0
            return
        v = _arr(value)
        if v.shape != self._g.shape:
            raise RuntimeError(f"grad: assigned grad has shape {tuple(v.shape)}, the parameter {tuple(self._a.shape)}")
        np.copyto(self._g, v, casting="unsafe")

    @property
    def data(self):
        """The values without autograd, sharing memory (and, as in PyTorch, not the version counter):
        what is derived from them (packed weights) is derived again after writes through it."""
        wrote_raw()
        return _wrap(self._a)

    @data.setter
    def data(self, value):
        """Copy value into the parameter's storage (it stays a view of the model's arena)."""
        v = _arr(value)
        if v.shape != self._a.shape:
            raise ValueError(f"Parameter.data: expected shape {tuple(self._a.shape)}, got {tuple(v.shape)} "
                             "(a parameter keeps its shape; build a new layer to change it)")
        if v.dtype.kind not in "fiub":
            raise TypeError(f"Parameter.data: expected a numeric array, got dtype {v.dtype}")
        np.copyto(self._a, v, casting="unsafe")
        wrote_raw()

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = bool(requires_grad)
        return self

    def _accumulate(self, g):
        g = self._hooked(g)
        if g.shape != self._g.shape:
            g = _sum_to(g, self._g)
        np.add(self._g, g, out=self._g, casting="unsafe")

    def register_hook(self, hook):
        hooked[0] += 1
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _Handle(self._hooks, hook)

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._a.copy(), self.requires_grad, self.kind, self.regularizer))

    def __deepcopy__(self, memo):
        p = Parameter(self._a, self.requires_grad, self.kind, copy.deepcopy(self.regularizer, memo))
        p._g[...] = self._g
        memo[id(self)] = p
        return p


def _rebuild_parameter(a, requires_grad, kind, regularizer):
    return Parameter(a, requires_grad, kind, regularizer)


class Arena:
    """Contiguous storage for a list of parameters (one dtype): ``data`` and ``grad`` are 1-D arrays;
    ``slots`` lists (offset, size) in order. The arena keeps no reference to its parameters (they
    point to it), so a dropped model is freed at once, without waiting for the cyclic collector.

    Parameters
    ----------
    params : list of Parameter
        The parameters placed in the arena (one dtype).
    """

    def __init__(self, params):
        params = list(params)
        dtypes = {p._a.dtype for p in params}
        if len(dtypes) > 1:
            raise TypeError(f"parameters: expected one dtype per model, got {sorted(str(d) for d in dtypes)}"
                            " (use model.to(dtype))")
        dtype = dtypes.pop() if dtypes else np.dtype(np.float32)
        total = sum(p._a.size for p in params)
        self.data = np.empty(total, dtype)
        self.grad = np.zeros(total, dtype)
        self.version = [0]  # every parameter's version counter: they are views of this memory
        self.slots = []
        off = 0
        for p in params:
            n, shape = p._a.size, p._a.shape
            self.data[off:off + n] = p._a.reshape(-1)
            if p._g.any():  # (reading untouched zero pages costs no memory; writing them would)
                self.grad[off:off + n] = p._g.reshape(-1)
            p._a = self.data[off:off + n].reshape(shape)
            p._g = self.grad[off:off + n].reshape(shape)
            p._arena, p._offset = self, off
            p._ver = self.version
            self.slots.append((off, n))
            off += n
        _generation[0] += 1

    @property
    def dtype(self):
        return self.data.dtype


class ArenaRange:
    """The contiguous part [lo, hi) of an arena that holds one model's parameters, in order.

    Parameters
    ----------
    arena : Arena
        The arena.
    lo : int
        First slot of the range.
    hi : int
        One past the last slot.
    params : iterable of Parameter or dicts, or a Module
        What to optimize: parameters, parameter groups (dicts with their own options), or a model.
    """

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
                lo, hi = p._offset, p._offset + p._a.size
                if runs and runs[-1][1] == lo:
                    runs[-1][1] = hi
                else:
                    runs.append([lo, hi])
        return [tuple(r) for r in runs]


def in_arena(p):
    """Whether p's arrays really are views of the arena it names (a deep copy or a rebinding of
    p._a would break that)."""
    a = p._arena
    if a is None:
        return False
    n = p._a.size
    return (n == 0 or (p._a.base is a.data and p._g.base is a.grad
                       and p._a.__array_interface__["data"][0] == a.data.__array_interface__["data"][0]
                       + p._offset * a.data.itemsize))


def pack(params):
    """The ArenaRange holding `params` (deduplicated, in order): their current arena when they already
    lie there contiguously in this order (a slice of a packed model), else a new arena.

    Parameters
    ----------
    params : list of Parameter
        The parameters packed into one arena.
    """
    seen, uniq = set(), []
    for p in params:
        if id(p) not in seen:
            seen.add(id(p))
            uniq.append(p)
    if uniq:
        a = uniq[0]._arena
        if a is not None and all(p._arena is a and in_arena(p) for p in uniq):
            contiguous = all(uniq[i]._offset + uniq[i]._a.size == uniq[i + 1]._offset
                             for i in range(len(uniq) - 1))
            if contiguous:
                return ArenaRange(a, uniq[0]._offset, uniq[-1]._offset + uniq[-1]._a.size, uniq)
    arena = Arena(uniq)
    return ArenaRange(arena, 0, arena.data.size, uniq)
