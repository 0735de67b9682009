"""The tensor family's foundation: the slots every tensor has, the result of an op (``_out``: a tensor with
its graph node), version counters, views, type promotion and argument helpers. fastnn.tensor builds
fastnn.Tensor on it, with the method families of _tensor_math, _tensor_reduce, _tensor_shape and
_tensor_inplace; gradient formulas are in _grad_fns."""
import builtins
import numbers

import numpy as np

from . import ops
from ._autograd import Node, _apply_view, _mode, _viewof_bwd, edge, refresh_view
from ._dtypes import _F32, _F64, _bbool, _bint, _bslice, _default_float


class TensorBase:
    """What every tensor is made of: one NumPy array ``_a`` and its place in the graph. Methods come from
    the families fastnn.Tensor combines; a class declared with ``results=True`` (fastnn.Tensor) is the
    class every op's result is made of."""

    __slots__ = ("_a", "_node", "requires_grad", "_grad", "_hooks", "_ver", "_base", "_view", "_vver", "__weakref__")
    _plain = None

    def __init_subclass__(cls, results=False, **kwargs):
        super().__init_subclass__(**kwargs)
        if results:
            TensorBase._plain = cls


_new = object.__new__

def _wrap(a):
    """A new tensor over array a (no graph)."""
    if type(a) is not np.ndarray:
        a = np.asarray(a)
    t = _new(TensorBase._plain)
    t._a, t._node, t.requires_grad, t._grad, t._hooks = a, None, False, None, None
    t._ver = t._base = t._view = None
    return t


def _init_slots(t):
    t._ver = t._base = t._view = None
    t._vver = 0


def _out(y, fn, ctx, *inputs):
    """The result tensor of an op: with a graph node when grad mode is on and an input requires grad.
    The node remembers the version of every input its backward reads (and of the output, for backward
    functions that read it), so an in-place change before backward is caught there."""
    if type(y) is not np.ndarray:
        y = np.asarray(y)
    t = _new(TensorBase._plain)
    t._a, t._grad, t._hooks = y, None, None
    t._ver = t._base = t._view = None
    if _mode.enabled:
        for x in inputs:
            if x.requires_grad:
                n = t._node = Node(fn, ctx, tuple([edge(i) for i in inputs]))
                if fn not in _READS_NOTHING:
                    sel = _READS_SOME.get(fn)
                    saved = [_saved(i) for i in (inputs if sel is None else sel(inputs))]
                    if fn in _READS_OUTPUT:
                        saved.append(_saved(t))
                    n.saved = saved
                t.requires_grad = True
                return t
    t._node, t.requires_grad = None, False
    return t


# ---- version counters (PyTorch's): every in-place change to a tensor's memory bumps the counter its
# views share; a graph node records the versions of what its backward reads, and backward refuses a
# tensor changed since (instead of silently using the new values)

def _counter(t):
    v = t._ver
    if v is None:
        v = t._ver = [0]
    return v


def _saved(t):
    v = _counter(t)
    return (v, v[0], t)


def _bump(t):
    _counter(t)[0] += 1


# Writes into parameters that bypass their version counters (``Parameter.data = ...``, load_state_dict,
# fit's restore, vector_to_parameters) count here, so what is derived from a parameter's values --
# Linear's packed weight for inference -- knows it must be derived again.
raw_writes = [0]


def wrote_raw():
    raw_writes[0] += 1


# ---- views: a tensor made by indexing, reshaping or transposing another shares its memory; an
# in-place change through the view reaches the base (values and gradient history), as in PyTorch

def _make_view(t, base, step):
    """Mark t (fresh from an op on base) as a view of base's memory, reached by applying step."""
    if not np.may_share_memory(t._a, base._a):
        return t
    root = base._base if base._base is not None else base
    t._base, t._view = root, (base._view or ()) + (step,)
    t._ver = _counter(root)
    t._vver = t._ver[0]
    return t


def _copyslices_bwd(ctx, g, edges):
    """The base after an in-place change of its view region: the old base gets the gradient outside the
    region, the new values the gradient inside it."""
    steps, vshape, vdtype = ctx
    gold = None
    if edges[0] is not None:
        gold = g.copy()
        _apply_view(gold, steps)[...] = 0
    gnew = None
    if edges[1] is not None:
        gnew = np.array(_apply_view(g, steps), dtype=vdtype if vdtype.kind == "f" else g.dtype).reshape(vshape)
    return gold, gnew


def apply_inplace(t, fn):
    """torch's inplace=True: the result of fn(t) is written into t's own memory (its views see it), t takes
    the result's gradient history, and t is returned."""
    if t._tracked():
        return t._become(fn)
    r = fn(t)
    if r is not t:
        np.copyto(t._a, _arr(r), casting="unsafe")
        _bump(t)
    return t


def _shadow(t):
    """A copy of t's values that stands for t in the graph (an in-place op's input must not change
    under its own backward)."""
    if t._base is not None and t._vver != t._ver[0]:
        refresh_view(t)
    s = _new(TensorBase._plain)
    s._a, s._node, s.requires_grad, s._grad, s._hooks = t._a.copy(), t._node, t.requires_grad, None, None
    s._ver = s._base = s._view = None
    return s


def _arr(x):
    """The array of a tensor, array or array-like."""
    if isinstance(x, TensorBase):
        return x._a
    return np.asarray(x)


def _is_basic_index(idx):
    if not isinstance(idx, tuple):
        idx = (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (_bslice, numbers.Integral)) and not isinstance(i, _bbool)
               for i in idx)


def _index(idx):
    """An index with tensors replaced by their arrays."""
    if isinstance(idx, TensorBase):
        return idx._a
    if isinstance(idx, tuple):
        return tuple(i._a if isinstance(i, TensorBase) else i for i in idx)
    if isinstance(idx, list) and any(isinstance(i, TensorBase) for i in idx):
        return [i._a if isinstance(i, TensorBase) else i for i in idx]
    return idx


def _sum_to(g, a):
    """g reduced to array a's shape (undo broadcasting) and cast to a's float dtype."""
    shape = a.shape
    if g.shape != shape:
        nd = g.ndim - len(shape)
        if nd > 0:
            g = g.sum(axis=tuple(range(nd)))
        axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
        if g.shape != shape:
            g = np.broadcast_to(g, shape)
    if g.dtype != a.dtype and a.dtype.kind == "f":
        g = g.astype(a.dtype)
    return g


def _weak(x):
    """Python and NumPy scalars (and 0-d arrays) act as weakly typed scalars, as in PyTorch."""
    if isinstance(x, np.generic) or (type(x) is np.ndarray and x.ndim == 0):
        return x.item()
    return x


def _promote(y, a, b):
    """PyTorch's result dtype where NumPy's differs: int with a Python float gives the default float
    dtype; a 0-d operand does not widen a dimensioned one of the same kind; int64 + float32 is float32."""
    if y.dtype.kind != "f":
        return y
    if not isinstance(b, np.ndarray):  # Python scalar
        want = a.dtype if a.dtype.kind == "f" else _default_float[0]
    else:
        ka, kb = a.dtype.kind == "f", b.dtype.kind == "f"
        if ka and kb:
            if a.ndim and not b.ndim:
                want = a.dtype
            elif b.ndim and not a.ndim:
                want = b.dtype
            else:
                return y
        else:
            want = a.dtype if ka else b.dtype
    return y if y.dtype == want else y.astype(want)


def _can_cast(src, dst):
    """torch's rule for writing a result into out=: no float into an integer, no int into bool."""
    k = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    return k[src.kind] <= k[dst.kind]


def write_out(out, result):
    """Store result in the caller's out= tensor (or tuple of tensors), as torch does: resized when its
    shape differs, cast to its dtype (never float into int), without autograd."""
    if isinstance(out, (tuple, list)):
        rs = result if isinstance(result, tuple) else (result,)
        if len(out) != len(rs):
            raise TypeError(f"out: expected {len(rs)} tensors, got {len(out)}")
        return type(result)(*[write_out(o, r) for o, r in zip(out, rs)]) if hasattr(result, "_fields") else \
            tuple(write_out(o, r) for o, r in zip(out, rs))
    if not isinstance(out, TensorBase):
        raise TypeError(f"out: expected a fastnn TensorBase, got {type(out).__name__}")
    r = result._a if isinstance(result, TensorBase) else np.asarray(result)
    if _mode.enabled and (out.requires_grad or (isinstance(result, TensorBase) and result.requires_grad)):
        raise RuntimeError("functions with out=... arguments don't support automatic differentiation, but one of "
                           "the arguments requires grad.")
    if not _can_cast(r.dtype, out._a.dtype):
        raise RuntimeError(f"result type {r.dtype} can't be cast to the desired output type {out._a.dtype}")
    if out._a.shape != r.shape:
        out._a = np.empty(r.shape, out._a.dtype)
    np.copyto(out._a, r, casting="unsafe")
    return out


def _np_kw(dim, keepdim, axis, keepdims, name="reduction"):
    """The dims and keepdim of a reduction from either spelling PyTorch accepts (dim=/keepdim= or NumPy's
    axis=/keepdims=, so np.sum(t) works too); a list of dims is a tuple."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{name}(): got both 'dim' and its alias 'axis'")
        dim = axis
    if isinstance(dim, list):
        dim = tuple(dim)
    return dim, builtins.bool(keepdims if keepdims is not None else keepdim)


def _dims(dim, ndim):
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        return tuple(d % ndim if ndim else 0 for d in dim)
    return dim % ndim if ndim else 0


def _expand_reduced(g, shape, dim, keepdim):
    """Broadcast a reduction's gradient back over the reduced axes."""
    if dim is not None and not keepdim and len(shape):
        g = np.expand_dims(g, dim)
    return np.broadcast_to(g, shape)


def _size_args(args, name="size"):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for s in args:
        if isinstance(s, TensorBase):
            s = s.item()
        if isinstance(s, _bool_types) or not isinstance(s, numbers.Integral):
            raise TypeError(f"{name}: expected ints, got {s!r}")
        out.append(_bint(s))
    return tuple(out)


_bool_types = (_bbool, np.bool_)


# What each backward function reads, for the version check (_out), filled by reads() where the backward
# functions are defined: by default the inputs' values; _READS_NOTHING read none of them (shapes, masks or
# indices fixed at forward time), _READS_SOME a function of the inputs gives those read (a product's
# gradient for one factor reads the others), _READS_OUTPUT read the op's output too.
_READS_NOTHING = {_copyslices_bwd, _viewof_bwd}
_READS_SOME = {}
_READS_OUTPUT = set()


def products(inputs):
    """The inputs a product-like backward reads: each factor whose partner requires a gradient."""
    a, b = inputs[0], inputs[1] if len(inputs) > 1 else None
    out = []
    if b is not None and b.requires_grad:
        out.append(a)
    if b is not None and a.requires_grad:
        out.append(b)
    return out


def _division(inputs):
    return products(inputs) + ([inputs[1]] if len(inputs) > 1 and not inputs[0].requires_grad else [])


def reads(fn, inputs=True, output=False):
    """Declare what backward function fn reads (ops defined in other modules register theirs): inputs
    True (all), False (none) or a function of the input tensors giving the ones read."""
    if inputs is False:
        _READS_NOTHING.add(fn)
    elif callable(inputs):
        _READS_SOME[fn] = inputs
    if output:
        _READS_OUTPUT.add(fn)
    return fn


def _mm(a, b, ta=False, tb=False):
    """a @ b (with the last two axes of a / b transposed when ta / tb): 2-D float products through
    fastnn's GEMM (one thread pool, deterministic), batched ones per matrix."""
    if a.dtype == b.dtype and a.dtype in (_F32, _F64):
        if a.ndim == 2 and b.ndim == 2:
            return ops.matmul(a, b, trans_a=ta, trans_b=tb)
        if a.ndim >= 2 and b.ndim == 2 and not ta:  # (..., n, k) @ (k, m): one product
            r = ops.matmul(a.reshape(-1, a.shape[-1]), b, trans_b=tb)
            return r.reshape(a.shape[:-1] + r.shape[-1:])
        if a.ndim >= 2 and b.ndim >= 2:
            shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            A = np.broadcast_to(a, shape + a.shape[-2:])
            B = np.broadcast_to(b, shape + b.shape[-2:])
            M = A.shape[-1] if ta else A.shape[-2]
            N = B.shape[-2] if tb else B.shape[-1]
            out = np.empty(shape + (M, N), a.dtype)
            for i in np.ndindex(*shape):
                out[i] = ops.matmul(A[i], B[i], trans_a=ta, trans_b=tb)
            return out
    if ta:
        a = np.swapaxes(a, -1, -2)
    if tb:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


def _scatter_index(index, a, dim):
    """scatter's index as an int64 array of a's rank (a 0-d index into a 1-d tensor is one element, as in
    torch), checked against a's bounds before anything is written."""
    idx = _arr(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"scatter(): Expected dtype int64 for index, got {idx.dtype}")
    if idx.ndim == 0 and a.ndim <= 1:
        idx = idx.reshape(1)
    if idx.ndim != a.ndim:
        raise RuntimeError(f"Index tensor must have the same number of dimensions as self tensor ({idx.ndim} vs "
                           f"{a.ndim})")
    d = dim % a.ndim if a.ndim else 0
    if idx.size and (idx.min() < -a.shape[d] or idx.max() >= a.shape[d]):
        bad = idx.max() if idx.max() >= a.shape[d] else idx.min()
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {a.shape[d]}")
    return idx


def _shp(a):
    return "x".join(str(s) for s in a.shape)
