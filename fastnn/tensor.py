"""fastnn.Tensor: a NumPy array plus the autograd graph, with PyTorch's names, defaults and semantics.

A Tensor wraps one NumPy array (``t.numpy()`` and ``fastnn.from_numpy`` share its memory; views share
memory as in PyTorch). Operations on tensors that require a gradient record the graph (see
:mod:`fastnn.autograd`); NumPy arrays are accepted wherever a tensor is, and ``np.asarray(t)`` gives the
array back. Float32 is the default floating dtype (Python floats become float32; NumPy arrays keep
their dtype), int64 the default integer dtype, as in PyTorch.

Differences from PyTorch, all deliberate: CPU only (``.cuda()`` raises NotImplementedError); an
in-place operation on a tensor that is part of a graph rebinds the tensor to a new array (gradients are
exact, but views taken earlier do not see that update); no float16 arithmetic in the kernels.
"""
import builtins
import collections
import math
import numbers
import warnings

import numpy as np

from . import _missing
from . import _autograd as _ag
from . import ops
from ._random import default_generator, numpy_rng
from ._workspace import shared as _shared
from ._autograd import Node, _apply_view, _mode, _viewof_bwd, edge, refresh_view

# NumPy's floating-point warnings (0/0, overflow in exp, ...) from tensor arithmetic: PyTorch gives nan/inf
# silently, and so does fastnn (a filter costs nothing until a warning fires; an errstate per op would cost
# ~2 us). Only warnings raised from fastnn's own tensor code are silenced.
warnings.filterwarnings("ignore", message=r"(invalid value|divide by zero|overflow|underflow) encountered",
                        category=RuntimeWarning, module=r"fastnn\.(tensor|autograd|nn\.functional)$")

_F32, _F64, _I64, _BOOL = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_)
_new = object.__new__
_bint, _bfloat, _bbool, _bslice = builtins.int, builtins.float, builtins.bool, builtins.slice

# ---------------------------------------------------------------------------------------------------
# dtypes, sizes, devices

float32 = float = _F32
float64 = double = _F64
float16 = half = np.dtype(np.float16)
int64 = long = _I64
int32 = int = np.dtype(np.int32)
int16 = short = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool = _BOOL
_default_float = [_F32]


def get_default_dtype():
    return _default_float[0]


def set_default_dtype(d):
    d = np.dtype(d)
    if d not in (_F32, _F64):
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {d}")
    _default_float[0] = d


def _dtype(d):
    if d is None:
        return None
    try:
        return np.dtype(d)
    except TypeError:
        raise TypeError(f"dtype: expected a dtype (fastnn.float32, numpy dtype, ...), got {d!r}") from None


class Size(tuple):
    """A tensor's shape: a tuple (as torch.Size)."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"fastnn.Size({list(self)})"


class device:
    """A device description, as torch.device: "cpu", "cuda", "cuda:1", "mps", ... can be named (code such as
    ``torch.device("cuda") if torch.cuda.is_available() else ...`` runs), but only the CPU holds tensors:
    putting a tensor or a module anywhere else raises NotImplementedError."""

    _TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "privateuseone")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, numbers.Integral) and not isinstance(type, _bbool):
            type, index = "cuda", _bint(type)  # torch.device(0) is cuda:0
        t = str(type)
        if ":" in t:
            t, _, i = t.partition(":")
            if index is not None or not i.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = _bint(i)
        if t not in self._TYPES:
            raise RuntimeError(f"Expected one of {', '.join(self._TYPES)} device type at start of device string: {t}")
        if index is not None and (isinstance(index, _bbool) or not isinstance(index, numbers.Integral) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index!r}")
        self.type, self.index = t, (None if index is None else _bint(index))

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"


_CPU = device("cpu")


def _check_device(d):
    """Tensors live on the CPU only: any other device raises NotImplementedError (naming it)."""
    if d is not None:
        dev = d if isinstance(d, device) else device(d)
        if dev.type != "cpu":
            raise NotImplementedError(f"device {str(dev)!r}: fastnn runs on the CPU only (use 'cpu')")


# ---------------------------------------------------------------------------------------------------
# helpers

def _wrap(a):
    """A new tensor over array a (no graph)."""
    if type(a) is not np.ndarray:
        a = np.asarray(a)
    t = _new(Tensor)
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
    t = _new(Tensor)
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


def _overwrite(s, values, src=None):
    """New values in place of s's (fill_, zero_, copy_, random fills) as a graph op: zero gradient for s's
    old values, the gradient (summed over broadcasting) for src when it is a tensor."""
    y = np.empty_like(s._a)
    try:
        y[...] = np.asarray(values).reshape(np.shape(values)) if np.ndim(values) else values
    except ValueError:
        raise RuntimeError(f"the source of shape {list(np.shape(values))} does not broadcast to "
                           f"{list(s._a.shape)}") from None
    if isinstance(src, Tensor):
        return _out(y, _overwrite_bwd, (s._a.shape, src._a.shape, src._a.dtype), s, src)
    return _out(y, _zero_grad_bwd, (s._a.shape,), s)


def _overwrite_bwd(ctx, g, edges):
    sshape, srcshape, srcdtype = ctx
    gs = np.zeros(sshape, g.dtype) if edges[0] is not None else None
    gsrc = _sum_to(g, np.empty(srcshape, srcdtype)) if len(edges) > 1 and edges[1] is not None else None
    return gs, gsrc


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
    s = _new(Tensor)
    s._a, s._node, s.requires_grad, s._grad, s._hooks = t._a.copy(), t._node, t.requires_grad, None, None
    s._ver = s._base = s._view = None
    return s


def _arr(x):
    """The array of a tensor, array or array-like."""
    if isinstance(x, Tensor):
        return x._a
    return np.asarray(x)


def _is_basic_index(idx):
    if not isinstance(idx, tuple):
        idx = (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (_bslice, numbers.Integral)) and not isinstance(i, _bbool)
               for i in idx)


def _index(idx):
    """An index with tensors replaced by their arrays."""
    if isinstance(idx, Tensor):
        return idx._a
    if isinstance(idx, tuple):
        return tuple(i._a if isinstance(i, Tensor) else i for i in idx)
    if isinstance(idx, list) and any(isinstance(i, Tensor) for i in idx):
        return [i._a if isinstance(i, Tensor) else i for i in idx]
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
    if not isinstance(out, Tensor):
        raise TypeError(f"out: expected a fastnn Tensor, got {type(out).__name__}")
    r = result._a if isinstance(result, Tensor) else np.asarray(result)
    if _mode.enabled and (out.requires_grad or (isinstance(result, Tensor) and result.requires_grad)):
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
        if isinstance(s, Tensor):
            s = s.item()
        if isinstance(s, _bool_types) or not isinstance(s, numbers.Integral):
            raise TypeError(f"{name}: expected ints, got {s!r}")
        out.append(_bint(s))
    return tuple(out)


_bool_types = (_bbool, np.bool_)

# ---------------------------------------------------------------------------------------------------
# backward functions: fn(ctx, grad_out, edges) -> one gradient per input (None where not needed)


def _add_bwd(ctx, g, edges):
    a, b, alpha = ctx
    ga = _sum_to(g, a) if edges[0] is not None else None
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    return ga, _sum_to(g if alpha == 1 else g * alpha, b)


def _sub_bwd(ctx, g, edges):
    a, b, alpha = ctx
    ga = _sum_to(g, a) if edges[0] is not None else None
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    return ga, _sum_to(-g if alpha == 1 else g * -alpha, b)


def _rsub_bwd(ctx, g, edges):
    a, _ = ctx
    return (_sum_to(-g, a),)


def _mul_bwd(ctx, g, edges):
    a, b = ctx
    ga = _sum_to(g * b, a) if edges[0] is not None else None
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    return ga, _sum_to(g * a, b)


def _div_bwd(ctx, g, edges):
    a, b = ctx
    ga = _sum_to(g / b, a) if edges[0] is not None else None
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    return ga, _sum_to(-g * a / (b * b), b)


def _rdiv_bwd(ctx, g, edges):
    s, b = ctx  # y = s / b
    return (_sum_to(-g * s / (b * b), b),)


def _pow_bwd(ctx, g, edges):
    a, e, y = ctx
    ga = None
    if edges[0] is not None:
        if isinstance(e, np.ndarray):
            ga = _sum_to(g * e * np.where(e == 0, 1.0, a ** (e - 1)).astype(y.dtype, copy=False), a)
        elif e == 0:
            ga = np.zeros_like(a)
        else:
            ga = _sum_to(g * (e * a ** (e - 1)), a)
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0.0)
    return ga, _sum_to(g * y * lg, e)


def _rpow_bwd(ctx, g, edges):
    s, y = ctx  # y = s ** x (s a number or an array)
    with np.errstate(divide="ignore", invalid="ignore"):
        ls = np.where(np.asarray(s) > 0, np.log(np.where(np.asarray(s) > 0, s, 1)), 0.0)
    return (_sum_to(g * y * ls, y).astype(y.dtype, copy=False),)


def _zero_grad_bwd(ctx, g, edges):
    """Piecewise-constant ops (floor, sign, round, div with a rounding mode): zero gradient, as torch."""
    return tuple(None if e is None else np.zeros(shape, g.dtype) for e, shape in zip(edges, ctx))


def _not_differentiable_bwd(ctx, g, edges):
    raise RuntimeError(f"derivative for {ctx} is not implemented")


def _remainder_bwd(ctx, g, edges):
    a, b, rnd = ctx
    ga = _sum_to(g, a) if edges[0] is not None else None
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ga, _sum_to(-g * rnd(a / b), b)


def _neg_bwd(ctx, g, edges):
    return (-g,)


def _matmul_bwd(ctx, g, edges):
    a, b = ctx
    if a.ndim == 1 and b.ndim == 1:  # dot product
        return (g * b if edges[0] is not None else None), (g * a if edges[1] is not None else None)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    ga = gb = None
    if edges[0] is not None:
        ga = _sum_to(_mm(g2, b2, tb=True), a2).reshape(a.shape)
    if edges[1] is not None:
        gb = _sum_to(_mm(a2, g2, ta=True), b2).reshape(b.shape)
    return ga, gb


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


def _reshape_bwd(ctx, g, edges):
    return (g.reshape(ctx),)


def _permute_bwd(ctx, g, edges):
    return (np.transpose(g, np.argsort(ctx)),)


def _transpose_bwd(ctx, g, edges):
    d0, d1 = ctx
    return (np.swapaxes(g, d0, d1),)


def _expand_bwd(ctx, g, edges):
    return (_sum_to(g, ctx),)


def _repeat_bwd(ctx, g, edges):
    shape, reps = ctx
    nd = len(reps)
    shape = (1,) * (nd - len(shape)) + tuple(shape)
    inter = []
    for r, s in zip(reps, shape):
        inter += [r, s]
    g = g.reshape(inter).sum(axis=tuple(range(0, 2 * nd, 2)))
    return (g.reshape(ctx[0]),)


def _flip_bwd(ctx, g, edges):
    return (np.flip(g, ctx),)


def _roll_bwd(ctx, g, edges):
    shifts, dims = ctx
    neg = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
    return (np.roll(g, neg, dims),)


def _getitem_bwd(ctx, g, edges):
    a, idx, basic = ctx
    gx = np.zeros(a.shape, g.dtype if a.dtype.kind != "f" else a.dtype)
    if basic:
        gx[idx] = g
    else:
        np.add.at(gx, idx, g)
    return (gx,)


def _setitem_bwd(ctx, g, edges):
    idx, vshape, basic, vdtype = ctx
    ga = None
    if edges[0] is not None:
        ga = g.copy()
        ga[idx] = 0
    gv = None
    if len(edges) > 1 and edges[1] is not None:
        gv = g[idx]
        gv = _sum_to(gv, np.empty(vshape, vdtype)) if gv.shape != vshape else gv.astype(vdtype, copy=False)
    return (ga, gv) if len(edges) > 1 else (ga,)


def _cat_bwd(ctx, g, edges):
    dim, sizes = ctx
    cuts = np.cumsum(sizes)[:-1]
    return tuple(np.split(g, cuts, axis=dim))


def _stack_bwd(ctx, g, edges):
    dim, n = ctx
    return tuple(np.take(g, i, axis=dim) for i in range(n))


def _where_bwd(ctx, g, edges):
    cond, a, b = ctx
    z = np.zeros((), g.dtype)
    ga = _sum_to(np.where(cond, g, z), a) if edges[0] is not None else None
    gb = _sum_to(np.where(cond, z, g), b) if len(edges) > 1 and edges[1] is not None else None
    return ga, gb


def _sum_bwd(ctx, g, edges):
    shape, dim, keepdim, dt = ctx
    g = _expand_reduced(g, shape, dim, keepdim)
    return (g if g.dtype == dt else g.astype(dt),)


def _mean_bwd(ctx, g, edges):
    shape, dim, keepdim, n = ctx
    return (_expand_reduced(g / n, shape, dim, keepdim),)


def _var_bwd(ctx, g, edges):
    x, dim, keepdim, denom, y, is_std = ctx
    m = x.mean(axis=dim, keepdims=True)
    if is_std:
        yk = y if keepdim or dim is None else np.expand_dims(y, dim)
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.where(yk > 0, 1.0 / (denom * np.where(yk > 0, yk, 1)), 0.0)
    else:
        coef = 2.0 / denom
    gk = g if keepdim or dim is None else np.expand_dims(g, dim)
    return ((gk * coef * (x - m)).astype(x.dtype, copy=False),)


def _minmax_all_bwd(ctx, g, edges):
    x, y = ctx
    mask = x == y
    return ((mask * (g / mask.sum())).astype(x.dtype, copy=False),)


def _minmax_dim_bwd(ctx, g, edges):
    shape, dtype, idx, dim, keepdim = ctx
    gx = np.zeros(shape, dtype)
    gk = g if keepdim else np.expand_dims(g, dim)
    ik = idx if keepdim else np.expand_dims(idx, dim)
    np.put_along_axis(gx, ik, gk, axis=dim)
    return (gx,)


def _norm_bwd(ctx, g, edges):
    x, p, dim, keepdim, y = ctx
    yk = y if keepdim or dim is None else np.expand_dims(y, dim)
    gk = g if keepdim or dim is None else np.expand_dims(g, dim)
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 2:
            gx = np.where(yk > 0, x / np.where(yk > 0, yk, 1), 0.0) * gk
        elif p == 1:
            gx = np.sign(x) * gk
        elif p == math.inf:
            mask = np.abs(x) == yk
            gx = np.sign(x) * mask / mask.sum(axis=dim, keepdims=True) * gk
        else:
            gx = np.where(yk > 0, np.sign(x) * np.abs(x) ** (p - 1) / np.where(yk > 0, yk, 1) ** (p - 1), 0.0) * gk
    return (gx.astype(x.dtype, copy=False),)


def _prod_bwd(ctx, g, edges):
    x, dim, keepdim = ctx
    ax = -1 if dim is None else dim
    xm = x.reshape(-1) if dim is None else np.moveaxis(x, dim, -1)
    left = np.cumprod(np.concatenate([np.ones_like(xm[..., :1]), xm[..., :-1]], -1), -1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([xm[..., 1:], np.ones_like(xm[..., :1])], -1), -1), -1), -1)
    others = left * right
    if dim is None:
        return ((others.reshape(x.shape) * g).astype(x.dtype, copy=False),)
    gk = g if keepdim else np.expand_dims(g, dim)
    return ((np.moveaxis(others, -1, ax) * gk).astype(x.dtype, copy=False),)


def _logsumexp_bwd(ctx, g, edges):
    x, dim, keepdim, y = ctx
    yk = y if keepdim else np.expand_dims(y, dim)
    gk = g if keepdim else np.expand_dims(g, dim)
    return ((np.exp(x - yk) * gk).astype(x.dtype, copy=False),)


def _cumsum_bwd(ctx, g, edges):
    dim = ctx
    return (np.flip(np.cumsum(np.flip(g, dim), axis=dim), dim),)


def _cumprod_bwd(ctx, g, edges):
    # d y_j / d x_i = y_j / x_i for j >= i; zeros in x handled by recomputing the products without x_i
    x, dim, y = ctx
    if np.all(x != 0):
        return ((np.flip(np.cumsum(np.flip(g * y, dim), axis=dim), dim) / x).astype(x.dtype, copy=False),)
    xm, gm = np.moveaxis(x, dim, -1), np.moveaxis(g, dim, -1)
    n = xm.shape[-1]
    gx = np.zeros_like(xm)
    for i in range(n):
        rest = xm.copy()
        rest[..., i] = 1
        cp = np.cumprod(rest, -1)
        gx[..., i] = (cp[..., i:] * gm[..., i:]).sum(-1)
    return (np.moveaxis(gx, -1, dim).astype(x.dtype, copy=False),)


def _cast_bwd(ctx, g, edges):
    return (g.astype(ctx),)


def _identity_bwd(ctx, g, edges):
    return (g,)


def _clamp_bwd(ctx, g, edges):
    x, lo, hi = ctx
    m = np.ones(x.shape, np.bool_)
    if lo is not None:
        m &= x >= lo
    if hi is not None:
        m &= x <= hi
    return (g * m,)


def _minimum_bwd(ctx, g, edges):  # also maximum: ctx carries which side won
    a, b, first = ctx
    half = (a == b) * 0.5
    wa = first + half
    ga = _sum_to(g * wa, a) if edges[0] is not None else None
    gb = _sum_to(g * (1 - wa), b) if edges[1] is not None else None
    return ga, gb


def _gather_bwd(ctx, g, edges):
    shape, dtype, dim, idx = ctx
    gx = np.zeros(shape, dtype)
    np.add.at(gx, _along(idx, dim), g)
    return (gx,)


def _along(idx, dim):
    """Full index tuple addressing x[..., idx[...], ...] along `dim` (for scatter-adds)."""
    grids = np.indices(idx.shape, sparse=True)
    return tuple(idx if d == dim else grids[d] for d in range(idx.ndim))


def _index_select_bwd(ctx, g, edges):
    shape, dtype, dim, idx = ctx
    gx = np.zeros(shape, dtype)
    sl = [_bslice(None)] * len(shape)
    sl[dim] = idx
    np.add.at(gx, tuple(sl), g)
    return (gx,)


def _masked_fill_bwd(ctx, g, edges):
    mask = ctx
    return (np.where(mask, 0, g).astype(g.dtype, copy=False),)


def _softmax_bwd(ctx, g, edges):
    y, dim, log = ctx
    if log:
        return ((g - np.exp(y) * g.sum(axis=dim, keepdims=True)).astype(y.dtype, copy=False),)
    return ((y * (g - (g * y).sum(axis=dim, keepdims=True))).astype(y.dtype, copy=False),)


def _kernel_act_bwd(ctx, g, edges):
    b, v, args = ctx
    return (b(np.ascontiguousarray(g, v.dtype), v, *args, out=_shared.get(b, v.shape, v.dtype)),)


# What each backward function reads, for the version check (_out): by default the inputs' values;
# these read none of them (shapes, masks or indices fixed at forward time) ...
_READS_NOTHING = {_add_bwd, _sub_bwd, _rsub_bwd, _neg_bwd, _reshape_bwd, _permute_bwd, _transpose_bwd,
                  _expand_bwd, _repeat_bwd, _flip_bwd, _roll_bwd, _getitem_bwd, _setitem_bwd, _cat_bwd, _stack_bwd,
                  _where_bwd, _sum_bwd, _mean_bwd, _minmax_dim_bwd, _cumsum_bwd, _cast_bwd, _identity_bwd,
                  _gather_bwd, _index_select_bwd, _masked_fill_bwd, _viewof_bwd, _copyslices_bwd}
# ... these read some inputs: a product's gradient for one factor reads the others (x * 2 reads nothing
# of x; a layer's weight gradient reads x, its input gradient the weight) ...


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


_READS_SOME = {_mul_bwd: products, _matmul_bwd: products, _div_bwd: _division}
# ... and these read the op's output too
_READS_OUTPUT = {_var_bwd, _minmax_all_bwd, _norm_bwd, _logsumexp_bwd, _cumprod_bwd, _softmax_bwd, _kernel_act_bwd,
                 _pow_bwd}


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


def _einsum_bwd(ctx, g, edges):
    ins, out_sub, arrays = ctx
    res = []
    for i, e in enumerate(edges):
        if e is None:
            res.append(None)
            continue
        others = [arrays[j] for j in range(len(arrays)) if j != i]
        osubs = [ins[j] for j in range(len(arrays)) if j != i]
        spec = ",".join([out_sub] + osubs) + "->" + ins[i]
        gi = np.einsum(spec, g, *others)
        # indices of operand i absent from the others and the output were summed: broadcast back
        res.append(np.broadcast_to(gi, arrays[i].shape).astype(arrays[i].dtype, copy=False))
    return tuple(res)


def _unary_factory(name, f, b):
    """A Tensor method y = f(x) whose backward is b(x, y, g)."""

    def bwd(ctx, g, edges):
        x, y = ctx
        return (b(x, y, g),)

    bwd.__name__ = f"_{name}_bwd"
    _READS_OUTPUT.add(bwd)

    def method(self):
        a = self._a
        if a.dtype.kind != "f":
            a = a.astype(_default_float[0])
        y = np.asarray(f(a))
        return _out(y, bwd, (a, y), self)

    method.__name__ = name
    return method


_UNARY = {
    "exp": (np.exp, lambda x, y, g: g * y),
    "log": (np.log, lambda x, y, g: g / x),
    "log2": (np.log2, lambda x, y, g: g / (x * math.log(2))),
    "log10": (np.log10, lambda x, y, g: g / (x * math.log(10))),
    "log1p": (np.log1p, lambda x, y, g: g / (1 + x)),
    "expm1": (np.expm1, lambda x, y, g: g * (y + 1)),
    "sqrt": (np.sqrt, lambda x, y, g: g / (2 * y)),
    "rsqrt": (lambda x: 1 / np.sqrt(x), lambda x, y, g: -0.5 * g * y * y * y),
    "sin": (np.sin, lambda x, y, g: g * np.cos(x)),
    "cos": (np.cos, lambda x, y, g: -g * np.sin(x)),
    "tan": (np.tan, lambda x, y, g: g * (1 + y * y)),
    "asin": (np.arcsin, lambda x, y, g: g / np.sqrt(1 - x * x)),
    "acos": (np.arccos, lambda x, y, g: -g / np.sqrt(1 - x * x)),
    "atan": (np.arctan, lambda x, y, g: g / (1 + x * x)),
    "sinh": (np.sinh, lambda x, y, g: g * np.cosh(x)),
    "cosh": (np.cosh, lambda x, y, g: g * np.sinh(x)),
    "square": (np.square, lambda x, y, g: 2 * g * x),
    "reciprocal": (np.reciprocal, lambda x, y, g: -g * y * y),
    "abs": (np.abs, lambda x, y, g: g * np.sign(x)),
    "erf": (lambda x: _erf(x), lambda x, y, g: g * (2 / math.sqrt(math.pi)) * np.exp(-x * x)),
    "erfinv": (lambda x: _erfinv(x), lambda x, y, g: g * (math.sqrt(math.pi) / 2) * np.exp(y * y)),
}
_ZERO_GRAD = {"sign": np.sign, "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc}


def _erf(x):
    from scipy.special import erf
    return erf(x)


def _erfinv(x):
    from scipy.special import erfinv
    return erfinv(x)


# activations through fastnn's kernels (float32/float64): name -> (forward, backward, from_output)
_KERNEL_ACT = {
    "sigmoid": (ops.sigmoid, ops.sigmoid_backward, True),
    "tanh": (ops.tanh, ops.tanh_backward, True),
    "relu": (ops.relu, ops.relu_backward, False),
}


def kernel_act(x, f, b, args=(), from_output=False):
    """y = f(x, *args) through a fastnn kernel (into a shared workspace), backward b(g, x or y, *args)."""
    a = x._a
    if a.dtype not in (_F32, _F64):
        a = a.astype(_default_float[0])
    y = f(a, *args, out=_shared.get(f, a.shape, a.dtype))
    return _out(y, _kernel_act_bwd, (b, y if from_output else a, args), x)


def _kernel_act(x, name, args=()):
    f, b, from_out = _KERNEL_ACT[name]
    return kernel_act(x, f, b, args, from_out)


# ---------------------------------------------------------------------------------------------------

MinMax = collections.namedtuple("MinMax", ["values", "indices"])
_MinMaxPair = collections.namedtuple("aminmax", ["min", "max"])
_NP = object()  # "out not given" (NumPy passes out=None)


class Tensor:
    """An n-dimensional array with PyTorch's API and autograd (see the module docstring).

    ``Tensor(data)`` / ``Tensor(*sizes)`` follow torch.Tensor's legacy constructor (float32);
    prefer ``fastnn.tensor(data)``."""

    __slots__ = ("_a", "_node", "requires_grad", "_grad", "_hooks", "_ver", "_base", "_view", "_vver", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to the Tensor's reflected operator
    _dtype_default = None

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        _check_device(device)
        dt = _dtype(dtype) or self._dtype_default or _F32
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            a = np.array(_arr(args[0]) if isinstance(args[0], Tensor) else args[0], dtype=dt)
        else:
            a = np.zeros(_size_args(args), dt)
        self._a, self._node, self._grad, self._hooks = a, None, None, None
        _init_slots(self)
        self.requires_grad = builtins.bool(requires_grad)

    # ---- identity, conversion ----
    @property
    def shape(self):
        return Size(self._a.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._a.shape)
        return self._a.shape[dim]

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def device(self):
        return _CPU

    is_cuda = False
    is_sparse = False
    is_quantized = False
    is_meta = False

    @property
    def ndim(self):
        return self._a.ndim

    def dim(self):
        return self._a.ndim

    ndimension = dim

    def numel(self):
        return self._a.size

    nelement = numel

    def element_size(self):
        return self._a.itemsize

    @property
    def itemsize(self):
        return self._a.itemsize

    @property
    def nbytes(self):
        return self._a.nbytes

    def data_ptr(self):
        return self._a.ctypes.data

    def is_floating_point(self):
        return self._a.dtype.kind == "f"

    def is_contiguous(self, memory_format=None):
        return self._a.flags.c_contiguous

    def is_complex(self):
        return self._a.dtype.kind == "c"

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            v = _arr(value)
            if v.shape != self._a.shape:
                raise RuntimeError(f"grad: expected shape {tuple(self._a.shape)}, got {tuple(v.shape)}")
            value = value if isinstance(value, Tensor) else _wrap(v)
        self._grad = value

    @property
    def data(self):
        """The same array, detached from the graph (writes through it are not recorded)."""
        return _wrap(self._a)

    @data.setter
    def data(self, value):
        self._a = np.asarray(_arr(value))

    @property
    def T(self):
        return self.permute(*range(self._a.ndim - 1, -1, -1))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def numpy(self, force=False):
        """The array itself (shared memory). As in PyTorch, refused for a tensor that requires grad
        (use .detach().numpy())."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._a

    def __array__(self, dtype=None, copy=None):
        a = self._a
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def item(self):
        if self._a.size != 1:
            raise RuntimeError(f"a Tensor with {self._a.size} elements cannot be converted to Scalar")
        return self._a.reshape(-1)[0].item()

    def tolist(self):
        return self._a.tolist()

    def __len__(self):
        if self._a.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._a.shape[0]

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._a.shape[0]))

    def __bool__(self):
        if self._a.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self._a.reshape(-1)[0])

    def __float__(self):
        return _bfloat(self.item())

    def __int__(self):
        return _bint(self.item())

    def __index__(self):
        if self._a.dtype.kind not in "iub" or self._a.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return _bint(self.item())

    def __complex__(self):
        return complex(self.item())

    def __format__(self, spec):
        if self._a.size == 1 and spec:
            return format(self.item(), spec)
        return format(str(self), spec)

    __hash__ = object.__hash__

    def __getattr__(self, name):  # only for names not found: PyTorch's get a clear NotImplementedError
        return _missing.lookup(_missing.TENSOR, "Tensor", name)

    def __repr__(self):
        a = self._a
        body = np.array2string(a, separator=", ", prefix="tensor(", formatter=_float_format(a))
        extra = []
        if a.dtype not in (_default_float[0], _I64, _BOOL) or a.size == 0:
            extra.append(f"dtype=fastnn.{a.dtype}")
        if self._node is not None:
            extra.append(f"grad_fn={self._node!r}".replace(" object at " + f"{id(self._node):#x}", ""))
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        if self._node is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy/pickle protocol; call .detach() first")
        return (_rebuild, (type(self), self._a, self.requires_grad))

    def __deepcopy__(self, memo):
        if self._node is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol at the moment; call .detach() first")
        t = _rebuild(type(self), self._a.copy(), self.requires_grad)
        if self._grad is not None:
            t._grad = _wrap(self._grad._a.copy())
        memo[id(self)] = t
        return t

    # ---- dtype and device moves ----
    def _as(self, dt):
        dt = np.dtype(dt)
        if dt == self._a.dtype:
            return self
        y = self._a.astype(dt)
        if dt.kind == "f" and self._a.dtype.kind == "f":
            return _out(y, _cast_bwd, self._a.dtype, self)
        return _wrap(y)

    def float(self):
        return self._as(_F32)

    def double(self):
        return self._as(_F64)

    def half(self):
        return self._as(np.float16)

    def long(self):
        return self._as(_I64)

    def int(self):
        return self._as(np.int32)

    def short(self):
        return self._as(np.int16)

    def byte(self):
        return self._as(np.uint8)

    def char(self):
        return self._as(np.int8)

    def bool(self):
        return self._as(_BOOL)

    def type(self, dtype=None):
        if dtype is None:
            return {_F32: "fastnn.FloatTensor", _F64: "fastnn.DoubleTensor", _I64: "fastnn.LongTensor",
                    _BOOL: "fastnn.BoolTensor"}.get(self._a.dtype, f"fastnn.{self._a.dtype}")
        if isinstance(dtype, type) and issubclass(dtype, Tensor):
            dtype = dtype._dtype_default or _F32
        return self._as(_dtype(dtype))

    def type_as(self, other):
        return self._as(other.dtype)

    def to(self, *args, **kwargs):
        """to(dtype) / to(device) / to(device, dtype) / to(other_tensor); only the CPU exists."""
        dt = kwargs.pop("dtype", None)
        _check_device(kwargs.pop("device", None))
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to(): unexpected argument(s) {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dt = a.dtype
            elif isinstance(a, (str, device)):
                _check_device(a)
            elif a is not None:
                dt = _dtype(a)
        r = self._as(dt) if dt is not None else self
        return r.clone() if copy and r is self else r

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        raise NotImplementedError("Tensor.cuda(): fastnn runs on the CPU only; drop .cuda() or use .to('cpu')")

    def pin_memory(self):
        return self

    def share_memory_(self):
        return self

    def contiguous(self, memory_format=None):
        if self._a.flags.c_contiguous:
            return self
        return _out(np.ascontiguousarray(self._a), _identity_bwd, None, self)

    def clone(self, memory_format=None):
        return _out(self._a.copy(), _identity_bwd, None, self)

    def detach(self):
        t = _wrap(self._a)
        t._ver = _counter(self)  # shares memory and the version counter, as in PyTorch
        return t

    def detach_(self):
        self._node, self.requires_grad = None, False
        return self

    def requires_grad_(self, requires_grad=True):
        if self._node is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. Use .detach() "
                               "to get a tensor that does not require grad")
        if requires_grad and self._a.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = builtins.bool(requires_grad)
        return self

    def retain_grad(self):
        if self._node is None:
            return
        import weakref

        self._node.retained = weakref.ref(self)

    def register_hook(self, hook):
        """hook(grad) -> None or a replacement, called when this tensor's gradient is computed."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is not None:
            return self._node.register_hook(hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _ag._Handle(self._hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        _ag.backward(self, gradient, retain_graph, create_graph, inputs, wrap=_wrap)

    def _hooked(self, g):
        """g after this leaf's gradient hooks (each may return a replacement)."""
        for h in self._hooks or ():
            r = h(_wrap(g))
            if r is not None:
                g = _arr(r)
        return g

    def _accumulate(self, g):
        """Add g into this leaf's .grad (an own copy the first time: incoming arrays may be shared)."""
        g = self._hooked(g)
        if g.shape != self._a.shape:
            g = _sum_to(g, self._a)
        if self._grad is None:
            self._grad = _wrap(np.array(g, dtype=self._a.dtype, copy=True))
        else:
            ga = self._grad._a
            if ga.flags.writeable:
                np.add(ga, g, out=ga, casting="unsafe")
            else:
                self._grad = _wrap((ga + g).astype(self._a.dtype, copy=False))

    # ---- arithmetic ----
    def _bin(self, other, f):
        """(a, b, y) for y = f(a, b): b a weak scalar or an array."""
        a = self._a
        b = other._a if isinstance(other, Tensor) else _weak(other)
        if isinstance(b, (list, tuple)):
            b = np.asarray(b)
        y = f(a, b)
        if type(y) is not np.ndarray:
            y = np.asarray(y)
        if y.dtype != a.dtype:
            y = _promote(y, a, b if isinstance(b, np.ndarray) else None if isinstance(b, (numbers.Number, np.generic)) else np.asarray(b))
        return a, b, y

    def add(self, other, alpha=1):
        if alpha != 1:
            other = other * alpha
        a, b, y = self._bin(other, np.add)
        if isinstance(other, Tensor):
            return _out(y, _add_bwd, (a, b, 1), self, other)
        return _out(y, _add_bwd, (a, b, 1), self)

    __add__ = add

    def __radd__(self, other):
        return self.add(other)

    def sub(self, other, alpha=1):
        if alpha != 1:
            other = other * alpha
        a, b, y = self._bin(other, np.subtract)
        if isinstance(other, Tensor):
            return _out(y, _sub_bwd, (a, b, 1), self, other)
        return _out(y, _sub_bwd, (a, b, 1), self)

    __sub__ = subtract = sub

    def __rsub__(self, other):
        a, b, y = self._bin(other, lambda x, o: np.subtract(o, x))
        return _out(y, _rsub_bwd, (a, b), self)

    def mul(self, other):
        a, b, y = self._bin(other, np.multiply)
        if isinstance(other, Tensor):
            return _out(y, _mul_bwd, (a, b), self, other)
        return _out(y, _mul_bwd, (a, b), self)

    __mul__ = multiply = mul

    def __rmul__(self, other):
        return self.mul(other)

    def div(self, other, rounding_mode=None):
        if rounding_mode is not None:
            if rounding_mode not in ("floor", "trunc"):
                raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                                 f"{rounding_mode!r}")
            f = np.floor_divide if rounding_mode == "floor" else lambda x, o: np.trunc(np.true_divide(x, o))
            a, b, y = self._bin(other, f)
            if rounding_mode == "trunc" and a.dtype.kind in "iub" and _arr(b).dtype.kind in "iub":
                y = y.astype(np.result_type(a, _arr(b)))
            return _out(y, _zero_grad_bwd, (a.shape, np.shape(b)), *self._with(other))  # piecewise constant
        a, b, y = self._true_div(other, False)
        if isinstance(other, Tensor):
            return _out(y, _div_bwd, (a, b), self, other)
        return _out(y, _div_bwd, (a, b), self)

    __truediv__ = divide = true_divide = div

    def _true_div(self, other, reflected):
        """a / b with torch's promotion: integers (and bools) divide in the default float dtype."""
        a = self._a
        b = other._a if isinstance(other, Tensor) else _weak(other)
        if isinstance(b, (list, tuple)):
            b = np.asarray(b)
        bk = b.dtype.kind if isinstance(b, np.ndarray) else ("f" if isinstance(b, numbers.Real) and not
                                                             isinstance(b, numbers.Integral) else "i")
        if a.dtype.kind in "iub" and bk in "iub":  # int / int: the default float, computed in it
            fd = _default_float[0]
            a = a.astype(fd)
            b = b.astype(fd) if isinstance(b, np.ndarray) else fd.type(b)
        y = np.true_divide(b, a) if reflected else np.true_divide(a, b)
        if type(y) is not np.ndarray:
            y = np.asarray(y)
        if y.dtype != self._a.dtype or y.dtype.kind != "f":
            y = _promote(y, a, b if isinstance(b, np.ndarray) else None)
        if y.dtype.kind != "f":
            y = y.astype(_default_float[0])
        return a, b, y

    def _with(self, other):
        return (self, other) if isinstance(other, Tensor) else (self,)

    def __rtruediv__(self, other):
        a, b, y = self._true_div(other, True)
        return _out(y, _rdiv_bwd, (b, a), self)

    def __floordiv__(self, other):
        a, b, y = self._bin(other, np.floor_divide)
        return _out(y, _not_differentiable_bwd, "floor_divide", *self._with(other))

    floor_divide = __floordiv__

    def __rfloordiv__(self, other):
        return _out(self._bin(other, lambda x, o: np.floor_divide(o, x))[2], _not_differentiable_bwd,
                    "floor_divide", self)

    def __mod__(self, other):
        """Python's (and torch.remainder's) modulus: the result has the divisor's sign. Gradient 1 for the
        dividend, -floor(a / b) for the divisor."""
        a, b, y = self._bin(other, np.mod)
        return _out(y, _remainder_bwd, (a, b, np.floor), *self._with(other))

    remainder = __mod__

    def __rmod__(self, other):
        return _out(self._bin(other, lambda x, o: np.mod(o, x))[2], _not_differentiable_bwd,
                    "remainder with a tensor divisor", self)

    def fmod(self, other):
        """C's fmod: the result has the dividend's sign (torch.fmod). Gradient 1 for the dividend,
        -trunc(a / b) for the divisor."""
        a, b, y = self._bin(other, np.fmod)
        return _out(y, _remainder_bwd, (a, b, np.trunc), *self._with(other))

    def pow(self, exponent):
        a, b, y = self._bin(exponent, np.power)
        if isinstance(exponent, Tensor):
            return _out(y, _pow_bwd, (a, b, y), self, exponent)
        return _out(y, _pow_bwd, (a, b, y), self)

    __pow__ = pow

    def __rpow__(self, other):
        a, b, y = self._bin(other, lambda x, o: np.power(o, x))
        return _out(y, _rpow_bwd, (b, y), self)

    def neg(self):
        return _out(np.negative(self._a), _neg_bwd, None, self)

    __neg__ = negative = neg

    def __pos__(self):
        return self

    def matmul(self, other):
        if not isinstance(other, Tensor):
            other = _wrap(np.asarray(other))
        a, b = self._a, other._a
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError("matmul: both arguments need at least 1 dimension")
        if a.dtype != b.dtype and a.dtype.kind == "f" and b.dtype.kind == "f":
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}")
        if a.shape[-1] != (b.shape[-2] if b.ndim > 1 else b.shape[0]):
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shp(a)} and {_shp(b)})")
        if a.ndim == 1 and b.ndim == 1:
            y = np.dot(a, b)
        elif a.ndim == 1:
            y = _mm(a[None, :], b)[..., 0, :]
        elif b.ndim == 1:
            y = _mm(a, b[:, None])[..., 0]
        else:
            y = _mm(a, b)
        return _out(y, _matmul_bwd, (a, b), self, other)

    __matmul__ = mm = matmul

    def __rmatmul__(self, other):
        return _wrap(np.asarray(other)).matmul(self)

    def dot(self, other):
        if self._a.ndim != 1 or _arr(other).ndim != 1:
            raise RuntimeError("1D tensors expected in dot")
        return self.matmul(other)

    def mv(self, vec):
        return self.matmul(vec)

    def bmm(self, other):
        if self._a.ndim != 3 or _arr(other).ndim != 3:
            raise RuntimeError("bmm: expected 3-D tensors")
        return self.matmul(other)

    def outer(self, other):
        return self.reshape(-1, 1) * (other if isinstance(other, Tensor) else _wrap(np.asarray(other))).reshape(1, -1)

    # ---- in-place (true in-place unless the graph must see the change) ----
    def _tracked(self, other=None):
        if not _mode.enabled:
            return False
        if self.requires_grad or (isinstance(other, Tensor) and other.requires_grad):
            if self._node is None and self.requires_grad:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            return True
        return False

    def _become(self, compute):
        """An in-place op recorded in the graph: r = compute(stand-in for self) is written into this
        tensor's own memory (its views see it), this tensor takes r's history, and when it is a view the
        base's history gets the change too (PyTorch's CopySlices)."""
        base = self._base
        if base is not None and base._node is None and base.requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        r = compute(_shadow(self))
        if r._a.shape != self._a.shape:
            raise RuntimeError(f"output with shape {list(self._a.shape)} doesn't match the broadcast shape "
                               f"{list(r._a.shape)}")
        if base is not None:
            old = edge(base)
        np.copyto(self._a, r._a, casting="unsafe")
        _bump(self)
        n = self._node = r._node
        self.requires_grad = r.requires_grad
        if n is not None and n.saved:  # a backward that reads its output reads this tensor now (torch's rule)
            n.saved = [(self._ver, self._ver[0], self) if t is r else e for e in n.saved for _, _, t in (e,)]
        if base is not None:
            self._vver = self._ver[0]
            if r.requires_grad or base.requires_grad:
                base._node = Node(_copyslices_bwd, (self._view, self._a.shape, self._a.dtype), (old, edge(r)))
                base.requires_grad = True
        return self

    def _inplace(self, other, op, ufunc):
        if self._tracked(other):
            return self._become(lambda s: op(s, other))
        b = other._a if isinstance(other, Tensor) else _weak(other)
        ufunc(self._a, b, out=self._a, casting="unsafe")
        _bump(self)
        return self

    def add_(self, other, alpha=1):
        return self._inplace(other * alpha if alpha != 1 else other, Tensor.add, np.add)

    def sub_(self, other, alpha=1):
        return self._inplace(other * alpha if alpha != 1 else other, Tensor.sub, np.subtract)

    def mul_(self, other):
        return self._inplace(other, Tensor.mul, np.multiply)

    def div_(self, other):
        return self._inplace(other, Tensor.div, np.true_divide)

    def pow_(self, other):
        return self._inplace(other, Tensor.pow, np.power)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def neg_(self):
        return self.mul_(-1)

    def addmm_(self, *a, **k):
        raise NotImplementedError("Tensor.addmm_")

    def copy_(self, src, non_blocking=False):
        if self._tracked(src):
            return self._become(lambda s: _overwrite(s, _arr(src), src))
        np.copyto(self._a, _arr(src), casting="unsafe")
        _bump(self)
        return self

    def zero_(self):
        if self._tracked():
            return self._become(lambda s: _overwrite(s, 0))
        self._a[...] = 0
        _bump(self)
        return self

    def fill_(self, value):
        if self._tracked(value):
            if isinstance(value, Tensor) and value._a.size != 1:
                raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                                   f"{value._a.ndim} dimensions.")
            return self._become(lambda s: _overwrite(s, _arr(value), value))
        self._a[...] = _arr(value)
        _bump(self)
        return self

    def clamp_(self, min=None, max=None):
        if self._tracked():
            return self._become(lambda s: s.clamp(min, max))
        np.clip(self._a, _arr(min) if min is not None else None, _arr(max) if max is not None else None,
                out=self._a)
        _bump(self)
        return self

    clip_ = clamp_

    def clamp_min_(self, min):
        return self.clamp_(min=min)

    def clamp_max_(self, max):
        return self.clamp_(max=max)

    def _random_(self, values):
        if self._tracked():
            return self._become(lambda s: _overwrite(s, values))
        self._a[...] = values
        _bump(self)
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return self._random_(numpy_rng(generator).uniform(a, b, self._a.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return self._random_(numpy_rng(generator).normal(mean, std, self._a.shape))

    def bernoulli_(self, p=0.5, generator=None):
        return self._random_(numpy_rng(generator).random(self._a.shape) < _arr(p))

    def exponential_(self, lambd=1.0, generator=None):
        return self._random_(numpy_rng(generator).exponential(1.0 / lambd, self._a.shape))

    def random_(self, low=0, high=None, generator=None):
        if high is None:
            low, high = 0, low if low else 2 ** 24
        return self._random_(numpy_rng(generator).integers(low, high, self._a.shape))

    def masked_fill_(self, mask, value):
        if self._tracked(value):
            return self._become(lambda s: s.masked_fill(mask, value))
        self._a[np.broadcast_to(_arr(mask), self._a.shape)] = _arr(value)
        _bump(self)
        return self

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        if self._tracked(src):
            return self._become(lambda s: s.scatter(dim, index, src, value=value))
        idx = _scatter_index(index, self._a, dim)
        v = _arr(src if src is not None else value)
        if v.ndim:
            v = v[tuple(_bslice(0, s) for s in idx.shape)]
        if reduce == "add":
            np.add.at(self._a, _along(idx, dim % self._a.ndim), np.broadcast_to(v, idx.shape))
        else:
            np.put_along_axis(self._a, idx, v, axis=dim)
        _bump(self)
        return self

    def scatter_add_(self, dim, index, src):
        return self.scatter_(dim, index, src, reduce="add")

    def index_fill_(self, dim, index, value):
        sl = [_bslice(None)] * self._a.ndim
        sl[dim] = _arr(index)
        if self._tracked(value):
            idx = tuple(sl)
            return self._become(lambda s: s._setitem_value(idx, value))
        self._a[tuple(sl)] = _arr(value)
        _bump(self)
        return self

    def fill_diagonal_(self, value, wrap=False):
        if self._tracked():
            def fill(s):
                mask = np.zeros(self._a.shape, np.bool_)
                np.fill_diagonal(mask, True, wrap=wrap)
                return s.masked_fill(_wrap(mask), value)
            return self._become(fill)
        np.fill_diagonal(self._a, value, wrap=wrap)
        _bump(self)
        return self

    # ---- comparisons and logic (no gradient) ----
    def _cmp(self, other, f):
        if other is None:  # torch: t == None is False, t != None is True
            return f is np.not_equal
        if isinstance(other, Tensor):
            b = other._a
        elif isinstance(other, (list, tuple)):
            b = np.asarray(other)
        elif isinstance(other, (numbers.Number, np.ndarray, np.generic)):
            b = other
        else:
            return NotImplemented  # let the other operand decide (pytest.approx, ...)
        return _wrap(f(self._a, b))

    def __eq__(self, other):
        return self._cmp(other, np.equal)

    def __ne__(self, other):
        return self._cmp(other, np.not_equal)

    def __lt__(self, other):
        return self._cmp(other, np.less)

    def __le__(self, other):
        return self._cmp(other, np.less_equal)

    def __gt__(self, other):
        return self._cmp(other, np.greater)

    def __ge__(self, other):
        return self._cmp(other, np.greater_equal)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne

    def __and__(self, other):
        return self._cmp(other, np.bitwise_and if self._a.dtype.kind in "iu" else np.logical_and)

    def __or__(self, other):
        return self._cmp(other, np.bitwise_or if self._a.dtype.kind in "iu" else np.logical_or)

    def __xor__(self, other):
        return self._cmp(other, np.bitwise_xor if self._a.dtype.kind in "iu" else np.logical_xor)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self):
        return _wrap(np.invert(self._a) if self._a.dtype.kind in "iub" else np.logical_not(self._a))

    def logical_and(self, other):
        return self._cmp(other, np.logical_and)

    def logical_or(self, other):
        return self._cmp(other, np.logical_or)

    def logical_xor(self, other):
        return self._cmp(other, np.logical_xor)

    def logical_not(self):
        return _wrap(np.logical_not(self._a))

    def isnan(self):
        return _wrap(np.isnan(self._a))

    def isinf(self):
        return _wrap(np.isinf(self._a))

    def isfinite(self):
        return _wrap(np.isfinite(self._a))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _wrap(np.isclose(self._a, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return builtins.bool(np.allclose(self._a, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def equal(self, other):
        o = _arr(other)
        return self._a.shape == o.shape and builtins.bool(np.array_equal(self._a, o))

    # ---- element-wise math ----
    def relu(self):
        return _kernel_act(self, "relu")

    def sigmoid(self):
        return _kernel_act(self, "sigmoid")

    def tanh(self):
        return _kernel_act(self, "tanh")

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        lo = _arr(min) if isinstance(min, Tensor) else min
        hi = _arr(max) if isinstance(max, Tensor) else max
        y = np.clip(self._a, lo, hi)
        if y.dtype != self._a.dtype and self._a.dtype.kind == "f":
            y = y.astype(self._a.dtype)
        return _out(y, _clamp_bwd, (self._a, lo, hi), self)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def maximum(self, other):
        return _minmax2(self, other, np.maximum)

    def minimum(self, other):
        return _minmax2(self, other, np.minimum)

    def softmax(self, dim=None, dtype=None):
        return _softmax(self, dim, False, dtype)

    def log_softmax(self, dim=None, dtype=None):
        return _softmax(self, dim, True, dtype)

    def round(self, decimals=0):
        return _out(np.round(self._a, decimals), _zero_grad_bwd, (self._a.shape,), self)

    def lerp(self, end, weight):
        return self + (end - self) * weight

    def where(self, condition, other):
        return where(condition, self, other)

    def masked_fill(self, mask, value):
        m = np.broadcast_to(_arr(mask), self._a.shape)
        v = _arr(value)
        y = np.where(m, v, self._a).astype(self._a.dtype, copy=False)
        return _out(y, _masked_fill_bwd, m, self)

    # ---- reductions ----
    def sum(self, dim=None, keepdim=False, dtype=None, axis=None, out=None, keepdims=None, **np_kw):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims)
        dim = _dims(dim, self._a.ndim)
        a = self._a
        dt = _dtype(dtype) or (_I64 if a.dtype.kind in "biu" else None)
        y = np.sum(a, axis=dim, keepdims=keepdim, dtype=dt)
        return _out(y, _sum_bwd, (a.shape, dim, keepdim, a.dtype), self)

    def mean(self, dim=None, keepdim=False, dtype=None, axis=None, out=None, keepdims=None, **np_kw):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims)
        dim = _dims(dim, self._a.ndim)
        a = self._a
        if a.dtype.kind not in "fc" and dtype is None:
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating "
                               f"point or complex dtype. Got: {a.dtype}")
        y = np.mean(a, axis=dim, keepdims=keepdim, dtype=_dtype(dtype))
        n = a.size // max(np.asarray(y).size, 1) if a.size else 1
        return _out(y, _mean_bwd, (a.shape, dim, keepdim, n), self)

    def _var(self, dim, unbiased, keepdim, correction, is_std):
        if isinstance(dim, (_bbool, np.bool_)):  # std(False): the old positional unbiased argument
            dim, unbiased = None, dim
        dim = _dims(dim, self._a.ndim)
        c = correction if correction is not None else (1 if unbiased in (None, True) else 0)
        a = self._a
        if a.dtype.kind not in "fc":
            raise RuntimeError(f"{'std' if is_std else 'var'}(): expected a floating point tensor, got {a.dtype}")
        n = a.size if dim is None else (np.prod([a.shape[d] for d in (dim if isinstance(dim, tuple) else (dim,))]))
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.var(a, axis=dim, ddof=c, keepdims=keepdim)
        if is_std:
            y = np.sqrt(y)
        y = np.asarray(y, a.dtype)
        return _out(y, _var_bwd, (a, dim, keepdim, builtins.max(n - c, 0), y, is_std), self)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "var")
        return self._var(dim, unbiased, keepdim, correction, False)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "std")
        return self._var(dim, unbiased, keepdim, correction, True)

    def var_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "var_mean")
        return self._var(dim, unbiased, keepdim, correction, False), self.mean(dim, keepdim)

    def std_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "std_mean")
        return self._var(dim, unbiased, keepdim, correction, True), self.mean(dim, keepdim)

    def _minmax(self, dim, keepdim, pick, argpick, other=None, name="max"):
        if isinstance(dim, Tensor):  # max(other): the element-wise form
            other, dim = dim, None
        if other is not None:
            return _minmax2(self, other, np.maximum if name == "max" else np.minimum)
        a = self._a
        if dim is None:
            if a.size == 0:
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0")
            y = np.asarray(pick(a))
            return _out(y, _minmax_all_bwd, (a, y), self)
        if isinstance(dim, tuple):
            raise TypeError(f"{name}(): dim must be one int, got {dim} (amax/amin reduce over several dims)")
        d = dim % a.ndim if a.ndim else 0
        idx = argpick(a, axis=d, keepdims=True) if a.ndim else np.zeros((), np.int64)
        vals = np.take_along_axis(a, idx, axis=d) if a.ndim else a
        if not keepdim and a.ndim:
            idx, vals = np.squeeze(idx, d), np.squeeze(vals, d)
        v = _out(vals, _minmax_dim_bwd, (a.shape, a.dtype, idx if keepdim or not a.ndim else idx, d, keepdim), self)
        return MinMax(v, _wrap(idx.astype(np.int64)))

    # out=_NP: NumPy's np.max(t, axis=...) calls t.max(axis=..., out=None) and wants the values only
    def max(self, dim=None, keepdim=False, other=None, axis=None, out=_NP, keepdims=None, **np_kw):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "max")
        r = self._minmax(dim, keepdim, np.max, np.argmax, other, "max")
        return r.values if out is not _NP and isinstance(r, MinMax) else r

    def min(self, dim=None, keepdim=False, other=None, axis=None, out=_NP, keepdims=None, **np_kw):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "min")
        r = self._minmax(dim, keepdim, np.min, np.argmin, other, "min")
        return r.values if out is not _NP and isinstance(r, MinMax) else r

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "amax")
        if dim is None or isinstance(dim, tuple):
            d = _dims(dim, self._a.ndim)
            if d == ():
                d = None
            y = np.asarray(np.max(self._a, axis=d, keepdims=True))
            mask = self._a == y
            r = np.max(self._a, axis=d, keepdims=keepdim)
            return _out(np.asarray(r), _amax_bwd, (mask, d, keepdim), self)
        return self.max(dim, keepdim).values

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "amin")
        return -(-self).amax(dim, keepdim)

    def aminmax(self, *, dim=None, keepdim=False, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "aminmax")
        return _MinMaxPair(self.amin(dim, keepdim), self.amax(dim, keepdim))

    def _arg(self, dim, keepdim, f):
        a = self._a
        if dim is None:
            y = np.asarray(f(a), np.int64)
            return _wrap(y.reshape((1,) * a.ndim) if keepdim else y)
        return _wrap(f(a, axis=dim, keepdims=keepdim).astype(np.int64))

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "argmax")
        return self._arg(dim, keepdim, np.argmax)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "argmin")
        return self._arg(dim, keepdim, np.argmin)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        p = 2 if p in ("fro", None) else (math.inf if p in ("inf", _bfloat("inf")) else p)
        if p == "nuc":
            raise NotImplementedError("norm(p='nuc')")
        dim = _dims(tuple(dim) if isinstance(dim, list) else dim, self._a.ndim)
        a = self._a if self._a.dtype.kind == "f" else self._a.astype(_default_float[0])
        if p == 2:
            y = np.sqrt(np.sum(a * a, axis=dim, keepdims=keepdim))
        elif p == 1:
            y = np.sum(np.abs(a), axis=dim, keepdims=keepdim)
        elif p == math.inf:
            y = np.max(np.abs(a), axis=dim, keepdims=keepdim)
        elif p == 0:
            return _wrap(np.asarray(np.count_nonzero(a, axis=dim, keepdims=keepdim), a.dtype))
        else:
            y = np.sum(np.abs(a) ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)
        y = np.asarray(y, a.dtype)
        return _out(y, _norm_bwd, (a, p, dim, keepdim, y), self)

    def prod(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "prod")
        if isinstance(dim, tuple):
            raise TypeError(f"prod(): dim must be one int, got {dim}")
        a = self._a
        d = _dims(dim, a.ndim)
        dt = _dtype(dtype) or (_I64 if a.dtype.kind in "biu" else None)
        y = np.prod(a, axis=d, keepdims=keepdim, dtype=dt)
        return _out(y, _prod_bwd, (a, d, keepdim), self)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "logsumexp")
        if dim is None:
            raise TypeError("logsumexp(): missing the required argument 'dim'")
        a = self._a if self._a.dtype.kind == "f" else self._a.astype(_default_float[0])
        d = _dims(dim, a.ndim)
        m = np.max(a, axis=d, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        y = np.log(np.sum(np.exp(a - m), axis=d, keepdims=True)) + m
        if not keepdim:
            y = np.squeeze(y, d)
        y = np.asarray(y, a.dtype)
        return _out(y, _logsumexp_bwd, (a, d, keepdim, y), self)

    def nansum(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "nansum")
        nan = self.isnan()
        return self.masked_fill(nan, 0).sum(dim, keepdim, dtype) if self._a.dtype.kind == "f" else \
            self.sum(dim, keepdim, dtype)

    def nanmean(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "nanmean")
        if self._a.dtype.kind != "f":
            raise RuntimeError(f"nanmean(): expected a floating point tensor, got {self._a.dtype}")
        keep = ~self.isnan()
        return self.nansum(dim, keepdim, dtype) / keep.sum(dim, keepdim)

    def _cum(self, dim, dtype, name):
        if dim is None:
            raise TypeError(f"{name}(): missing the required argument 'dim'")
        a = self._a
        d = dim % a.ndim if a.ndim else 0
        dt = _dtype(dtype) or (_I64 if a.dtype.kind in "biu" else None)
        return a, d, dt

    def cumsum(self, dim=None, dtype=None, *, axis=None):
        a, d, dt = self._cum(axis if dim is None else dim, dtype, "cumsum")
        y = np.cumsum(a, axis=d, dtype=dt) if a.ndim else a.astype(dt or a.dtype)
        return _out(y, _cumsum_bwd, d, self) if a.ndim else _out(y, _identity_bwd, None, self)

    def cumprod(self, dim=None, dtype=None, *, axis=None):
        a, d, dt = self._cum(axis if dim is None else dim, dtype, "cumprod")
        if not a.ndim:
            return _out(a.astype(dt or a.dtype), _identity_bwd, None, self)
        y = np.cumprod(a, axis=d, dtype=dt)
        return _out(y, _cumprod_bwd, (a, d, y), self)

    def all(self, dim=None, keepdim=False, axis=None, out=None, keepdims=None, where=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "all")
        return _wrap(np.asarray(np.all(self._a, axis=_dims(dim, self._a.ndim), keepdims=keepdim)))

    def any(self, dim=None, keepdim=False, axis=None, out=None, keepdims=None, where=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "any")
        return _wrap(np.asarray(np.any(self._a, axis=_dims(dim, self._a.ndim), keepdims=keepdim)))

    def count_nonzero(self, dim=None, *, axis=None):
        dim, _ = _np_kw(dim, False, axis, None, "count_nonzero")
        return _wrap(np.asarray(np.count_nonzero(self._a, axis=_dims(dim, self._a.ndim)), np.int64))

    def nonzero(self, as_tuple=False):
        nz = np.nonzero(self._a)
        if as_tuple:
            return tuple(_wrap(i.astype(np.int64)) for i in nz)
        return _wrap(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64))

    def median(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "median")
        a = self._a
        if dim is None:
            s = np.sort(a.reshape(-1))
            return self.reshape(-1)[_bint(np.argsort(a.reshape(-1), kind="stable")[(s.size - 1) // 2])]
        d = dim % a.ndim
        order = np.argsort(a, axis=d, kind="stable")
        k = (a.shape[d] - 1) // 2
        idx = np.take(order, [k], axis=d)
        vals = self.gather(d, _wrap(idx))
        if not keepdim:
            vals, idx = vals.squeeze(d), np.squeeze(idx, d)
        return MinMax(vals, _wrap(idx.astype(np.int64)))

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear", axis=None, keepdims=None):
        """torch.quantile: q a float or a 1-d tensor in [0, 1]; interpolation linear/lower/higher/nearest/
        midpoint; differentiable (a sort, a gather and a lerp)."""
        dim, keepdim = _np_kw(dim, keepdim, axis, keepdims, "quantile")
        if self._a.dtype.kind != "f":
            raise RuntimeError(f"quantile(): expected a floating point tensor, got {self._a.dtype}")
        qa = np.asarray(_arr(q), np.float64)
        if qa.ndim > 1 or np.any((qa < 0) | (qa > 1)):
            raise RuntimeError("quantile(): q must be a scalar or a 1-d tensor with values in [0, 1]")
        if interpolation not in ("linear", "lower", "higher", "nearest", "midpoint"):
            raise ValueError(f"quantile(): interpolation must be linear, lower, higher, nearest or midpoint, "
                             f"got {interpolation!r}")
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else dim % self._a.ndim
        s = x.sort(d).values
        n = s.shape[d]
        pos = qa.reshape(-1) * (n - 1)
        lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
        if interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        elif interpolation == "nearest":
            lo = hi = np.round(pos).astype(np.int64)  # round half to even, as torch
        frac = np.where(hi > lo, 0.5 if interpolation == "midpoint" else pos - lo, 0.0)
        a, b = s.index_select(d, _wrap(lo)), s.index_select(d, _wrap(hi))
        shape = [1] * s.ndim
        shape[d] = len(pos)
        r = a + (b - a) * _wrap(frac.reshape(shape).astype(self._a.dtype))
        r = r.movedim(d, 0)  # torch puts the q dimension first
        if keepdim:
            r = r.unsqueeze(d + 1) if dim is not None else r.reshape((len(pos),) + (1,) * self._a.ndim)
        return r[0] if qa.ndim == 0 else r

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        if not builtins.bool(self.isnan().any()):
            return self.quantile(q, dim, keepdim, interpolation=interpolation)
        raise NotImplementedError("nanquantile() of a tensor holding NaN")

    def sort(self, dim=-1, descending=False, stable=False):
        a = self._a
        idx = np.argsort(-a if descending and a.dtype.kind != "b" else a, axis=dim, kind="stable")
        if descending and a.dtype.kind == "b":
            idx = np.flip(idx, dim)
        return MinMax(self.gather(dim, _wrap(idx)), _wrap(idx.astype(np.int64)))

    def argsort(self, dim=-1, descending=False, stable=False):
        return self.sort(dim, descending).indices

    def topk(self, k, dim=-1, largest=True, sorted=True):
        a = self._a
        d = dim % a.ndim
        if not 0 <= k <= a.shape[d]:
            raise RuntimeError(f"topk: k ({k}) out of range for dimension {d} of size {a.shape[d]}")
        idx = np.argsort(-a if largest else a, axis=d, kind="stable")
        idx = np.take(idx, np.arange(k), axis=d)
        return MinMax(self.gather(d, _wrap(idx)), _wrap(idx.astype(np.int64)))

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        res = np.unique(self._a, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
        if isinstance(res, tuple):
            out = [_wrap(res[0])]
            for r in res[1:]:
                out.append(_wrap(r.reshape(self._a.shape) if r.size == self._a.size and return_inverse and r is res[1]
                                 else r).long())
            return tuple(out)
        return _wrap(res)

    def bincount(self, weights=None, minlength=0):
        return _wrap(np.bincount(self._a, None if weights is None else _arr(weights), minlength))

    # ---- shape ----
    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, numbers.Integral)):
            return _wrap(self._a.view(_dtype(shape[0])))  # view(dtype)
        return self.reshape(*shape)

    def reshape(self, *shape):
        shape = _size_args(shape, "shape")
        a = self._a
        try:
            y = a.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {a.size}") from None
        return _make_view(_out(y, _reshape_bwd, a.shape, self), self, ("r", y.shape))

    def view_as(self, other):
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim=0, end_dim=-1):
        a = self._a
        if a.ndim == 0:
            return self.reshape(1)
        s, e = start_dim % a.ndim, end_dim % a.ndim
        if s >= e:
            return self
        return self.reshape(a.shape[:s] + (-1,) + a.shape[e + 1:])

    def unflatten(self, dim, sizes):
        a = self._a
        d = dim % a.ndim
        return self.reshape(a.shape[:d] + tuple(sizes) + a.shape[d + 1:])

    def squeeze(self, dim=None):
        a = self._a
        if dim is None:
            return self.reshape(tuple(s for s in a.shape if s != 1))
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        if a.ndim == 0:
            return self
        dims = {d % a.ndim for d in dims if a.shape[d % a.ndim] == 1}
        return self.reshape(tuple(s for i, s in enumerate(a.shape) if i not in dims))

    def unsqueeze(self, dim):
        a = self._a
        d = dim % (a.ndim + 1)
        return self.reshape(a.shape[:d] + (1,) + a.shape[d:])

    def permute(self, *dims):
        dims = _size_args(dims, "dims")
        a = self._a
        if len(dims) != a.ndim:
            raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match "
                               f"the length of the desired ordering of dimensions i.e. input.dim() = {a.ndim} "
                               f"is not equal to len(dims) = {len(dims)}")
        dims = tuple(d % a.ndim for d in dims)
        return _make_view(_out(np.transpose(a, dims), _permute_bwd, dims, self), self, ("p", dims))

    def transpose(self, dim0, dim1):
        a = self._a
        if a.ndim == 0:
            return self
        d0, d1 = dim0 % a.ndim, dim1 % a.ndim
        perm = list(range(a.ndim))
        perm[d0], perm[d1] = d1, d0
        return _make_view(_out(np.swapaxes(a, d0, d1), _transpose_bwd, (d0, d1), self), self, ("p", tuple(perm)))

    swapaxes = swapdims = transpose

    def t(self):
        if self._a.ndim > 2:
            raise RuntimeError("t() expects a tensor with <= 2 dimensions")
        return self.transpose(0, 1) if self._a.ndim == 2 else self

    def movedim(self, source, destination):
        nd = self._a.ndim
        src = [s % nd for s in (source if isinstance(source, (tuple, list)) else [source])]
        dst = [d % nd for d in (destination if isinstance(destination, (tuple, list)) else [destination])]
        order = [i for i in range(nd) if i not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return self.permute(*order)

    def expand(self, *sizes):
        sizes = _size_args(sizes)
        a = self._a
        lead = len(sizes) - a.ndim
        shape = tuple(a.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        try:
            y = np.broadcast_to(a, shape)
        except ValueError:
            raise RuntimeError(f"The expanded size of the tensor ({shape}) must match the existing size "
                               f"{tuple(a.shape)} at non-singleton dimensions") from None
        return _out(y, _expand_bwd, a, self)

    def expand_as(self, other):
        return self.expand(other.shape)

    broadcast_to = expand

    def repeat(self, *sizes):
        reps = _size_args(sizes)
        a = self._a
        if len(reps) < a.ndim:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
        y = np.tile(a.reshape((1,) * (len(reps) - a.ndim) + a.shape), reps)
        return _out(y, _repeat_bwd, (a.shape, reps), self)

    def tile(self, *sizes):
        reps = _size_args(sizes)
        reps = (1,) * (self._a.ndim - len(reps)) + reps
        return self.repeat(*reps)

    def repeat_interleave(self, repeats, dim=None):
        idx = np.repeat(np.arange(self._a.size if dim is None else self._a.shape[dim]), _arr(repeats))
        src = self.reshape(-1) if dim is None else self
        return src.index_select(0 if dim is None else dim, _wrap(idx))

    def flip(self, *dims):
        dims = _size_args(dims, "dims")
        d = tuple(x % self._a.ndim for x in dims)
        return _out(np.flip(self._a, d), _flip_bwd, d, self)

    def fliplr(self):
        return self.flip(1)

    def flipud(self):
        return self.flip(0)

    def roll(self, shifts, dims=None):
        s = tuple(shifts) if isinstance(shifts, (list, tuple)) else shifts
        d = tuple(dims) if isinstance(dims, (list, tuple)) else dims
        return _out(np.roll(self._a, s, d), _roll_bwd, (s, d), self)

    def narrow(self, dim, start, length):
        sl = [_bslice(None)] * self._a.ndim
        sl[dim] = _bslice(start, start + length)
        return self[tuple(sl)]

    def select(self, dim, index):
        sl = [_bslice(None)] * self._a.ndim
        sl[dim] = index
        return self[tuple(sl)]

    def chunk(self, chunks, dim=0):
        n = self._a.shape[dim]
        step = -(-n // chunks)
        return tuple(self.narrow(dim, i, builtins.min(step, n - i)) for i in range(0, n, step))

    def split(self, split_size_or_sections, dim=0):
        n = self._a.shape[dim]
        if isinstance(split_size_or_sections, numbers.Integral):
            s = split_size_or_sections
            sizes = [builtins.min(s, n - i) for i in range(0, n, s)]
        else:
            sizes = list(split_size_or_sections)
            if builtins.sum(sizes) != n:
                raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n}")
        out, i = [], 0
        for s in sizes:
            out.append(self.narrow(dim, i, s))
            i += s
        return tuple(out)

    def unbind(self, dim=0):
        return tuple(self.select(dim, i) for i in range(self._a.shape[dim]))

    # ---- indexing ----
    def __getitem__(self, idx):
        i = _index(idx)
        a = self._a
        try:
            y = a[i]
        except IndexError as e:
            raise IndexError(str(e)) from None
        basic = _is_basic_index(i)
        if basic:  # a view of self's memory (with Ellipsis, a full integer index gives a 0-d view too)
            vi = (i if isinstance(i, tuple) else (i,))
            if Ellipsis not in vi:
                vi = vi + (Ellipsis,)
                y = a[vi]
            return _make_view(_out(y, _getitem_bwd, (a, i, True), self), self, ("i", vi))
        if isinstance(i, np.ndarray) and i.dtype == np.bool_:
            basic = True  # a mask picks each element once
        return _out(y, _getitem_bwd, (a, i, basic), self)

    def __setitem__(self, idx, value):
        i = _index(idx)
        if self._tracked(value):
            self._become(lambda s: s._setitem_value(i, value))
            return
        self._a[i] = _arr(value) if isinstance(value, Tensor) else value
        _bump(self)

    def _setitem_value(self, i, value):
        """A new tensor: self with value written at index i (the graph op behind __setitem__)."""
        v = value if isinstance(value, Tensor) else _wrap(np.asarray(value, self._a.dtype))
        new = self._a.copy()
        new[i] = v._a
        basic = _is_basic_index(i) or (isinstance(i, np.ndarray) and i.dtype == np.bool_)
        if isinstance(value, Tensor):
            return _out(new, _setitem_bwd, (i, v._a.shape, basic, v._a.dtype), self, value)
        return _out(new, _setitem_bwd, (i, v._a.shape, basic, v._a.dtype), self)

    def gather(self, dim, index):
        a = self._a
        d = dim % a.ndim
        idx = _arr(index)
        y = np.take_along_axis(a, idx, axis=d)
        return _out(y, _gather_bwd, (a.shape, a.dtype, d, idx), self)

    def scatter(self, dim, index, src=None, value=None, reduce=None):
        base = self.clone() if self.requires_grad else _wrap(self._a.copy())
        if isinstance(src, Tensor) and src.requires_grad or self.requires_grad:
            idx = _scatter_index(index, self._a, dim)
            d = dim % self._a.ndim
            mask = np.zeros(self._a.shape, np.bool_)
            np.put_along_axis(mask, idx, True, axis=d)
            s = src if src is not None else value
            vals = np.zeros(self._a.shape, self._a.dtype)
            sv = _arr(s)
            if sv.ndim:
                sv = sv[tuple(_bslice(0, q) for q in idx.shape)]
            np.put_along_axis(vals, idx, sv, axis=d)
            placed = _wrap(vals) if not isinstance(s, Tensor) else _scatter_src(s, idx, d, self._a.shape)
            return base.masked_fill(_wrap(mask), 0) + placed
        return base.scatter_(dim, index, src, value, reduce)

    def index_select(self, dim, index):
        a = self._a
        d = dim % a.ndim
        idx = _arr(index).astype(np.int64, copy=False)
        return _out(np.take(a, idx, axis=d), _index_select_bwd, (a.shape, a.dtype, d, idx), self)

    def take(self, index):
        return self.reshape(-1)[_arr(index)]

    def new_zeros(self, *size, dtype=None, **kw):
        return zeros(*size, dtype=dtype or self.dtype)

    def new_ones(self, *size, dtype=None, **kw):
        return ones(*size, dtype=dtype or self.dtype)

    def new_full(self, size, fill_value, dtype=None, **kw):
        return full(size, fill_value, dtype=dtype or self.dtype)

    def new_empty(self, *size, dtype=None, **kw):
        return empty(*size, dtype=dtype or self.dtype)

    def new_tensor(self, data, dtype=None, **kw):
        return tensor(data, dtype=dtype or self.dtype)

    def apply_(self, fn):
        flat = self._a.reshape(-1)
        for i in range(flat.size):
            flat[i] = fn(flat[i].item())
        return self


def _amax_bwd(ctx, g, edges):
    mask, dim, keepdim = ctx
    gk = g if keepdim or dim is None else np.expand_dims(g, dim)
    return ((mask * gk / mask.sum(axis=dim, keepdims=True)).astype(g.dtype, copy=False),)


def _scatter_src_bwd(ctx, g, edges):
    idx, d, sshape = ctx
    gs = np.take_along_axis(g, idx, axis=d)
    full = np.zeros(sshape, g.dtype)
    full[tuple(_bslice(0, q) for q in idx.shape)] = gs
    return (full,)


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


def _scatter_src(s, idx, d, shape):
    vals = np.zeros(shape, s._a.dtype)
    sv = s._a[tuple(_bslice(0, q) for q in idx.shape)]
    np.put_along_axis(vals, idx, sv, axis=d)
    return _out(vals, _scatter_src_bwd, (idx, d, s._a.shape), s)


def _float_format(a):
    """PyTorch's float printing: "1., 2." for whole numbers, 4 decimals, scientific for extreme ranges."""
    if a.dtype.kind != "f" or a.size == 0:
        return None
    fin = a[np.isfinite(a)]
    if fin.size and np.all(fin == np.round(fin)) and np.abs(fin).max() < 1e8:
        return {"float_kind": lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)}
    nz = np.abs(fin[fin != 0])
    if nz.size and (nz.max() >= 1e8 or nz.min() < 1e-4):
        return {"float_kind": lambda v: f"{v:.4e}"}
    return {"float_kind": lambda v: f"{v:.4f}" if np.isfinite(v) else str(v)}


def _shp(a):
    return "x".join(str(s) for s in a.shape)


def _rebuild(cls, a, requires_grad):
    if cls is Tensor:
        t = _wrap(np.array(a, copy=True))
        t.requires_grad = requires_grad
        return t
    return cls(np.array(a, copy=True), requires_grad=requires_grad)


def _minmax2(x, other, f):
    o = other if isinstance(other, Tensor) else _wrap(np.asarray(_weak(other)))
    a, b = x._a, o._a
    y = f(a, b)
    if y.dtype != a.dtype:
        y = _promote(y, a, b)
    first = (a > b) if f is np.maximum else (a < b)
    return _out(y, _minimum_bwd, (a, b, first), x, o)


def _softmax(x, dim, log, dtype=None):
    if dim is None:
        dim = 0 if x._a.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    a = x._a
    if dtype is not None:
        a = a.astype(_dtype(dtype))
    if a.dtype.kind != "f":
        a = a.astype(_default_float[0])
    d = dim % a.ndim if a.ndim else 0
    if a.ndim == 0:
        y = np.zeros_like(a) if log else np.ones_like(a)
    elif a.dtype in (_F32, _F64):  # the fused kernel on rows; other axes moved last
        m = np.moveaxis(a, d, -1)
        rows = np.ascontiguousarray(m).reshape(-1, m.shape[-1]) if m.size else m.reshape(0, m.shape[-1])
        y = (ops.log_softmax if log else ops.softmax)(rows)
        y = np.moveaxis(y.reshape(m.shape), -1, d)
    else:
        z = a - a.max(axis=d, keepdims=True)
        y = z - np.log(np.exp(z).sum(axis=d, keepdims=True)) if log else np.exp(z) / np.exp(z).sum(axis=d, keepdims=True)
    return _out(y, _softmax_bwd, (y, d, log), x)


for _name, (_f, _b) in _UNARY.items():
    setattr(Tensor, _name, _unary_factory(_name, _f, _b))
def _zero_grad_op(name, f):
    def op(self):
        return _out(np.asarray(f(self._a)), _zero_grad_bwd, (self._a.shape,), self)
    op.__name__ = name
    return op


for _name, _f in _ZERO_GRAD.items():
    setattr(Tensor, _name, _zero_grad_op(_name, _f))


def _frac(self):
    a = self._a
    return _out(a - np.trunc(a), _identity_bwd, None, self)


Tensor.frac = _frac
Tensor.absolute = Tensor.abs
Tensor.arcsin, Tensor.arccos, Tensor.arctan = Tensor.asin, Tensor.acos, Tensor.atan
Tensor.__abs__ = Tensor.abs
Tensor.fix = Tensor.trunc


def _inplace_unary(name):
    def f(self, *a, **k):
        if self._tracked():
            return self._become(lambda s: getattr(s, name)(*a, **k))
        return self._become_plain(getattr(self, name)(*a, **k))
    f.__name__ = name + "_"
    return f


def _become_plain(self, r):
    self._a[...] = r._a
    _bump(self)
    return self


Tensor._become_plain = _become_plain
for _name in ["exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu", "neg", "sign", "floor", "ceil", "round",
              "trunc", "reciprocal", "square", "log1p", "expm1", "sin", "cos"]:
    setattr(Tensor, _name + "_", _inplace_unary(_name))


class FloatTensor(Tensor):
    __slots__ = ()
    _dtype_default = _F32


class DoubleTensor(Tensor):
    __slots__ = ()
    _dtype_default = _F64


class LongTensor(Tensor):
    __slots__ = ()
    _dtype_default = _I64


class IntTensor(Tensor):
    __slots__ = ()
    _dtype_default = np.dtype(np.int32)


class BoolTensor(Tensor):
    __slots__ = ()
    _dtype_default = _BOOL


class ByteTensor(Tensor):
    __slots__ = ()
    _dtype_default = np.dtype(np.uint8)


def _typed_new(cls, *args, **kwargs):
    """FloatTensor(...) etc. make plain Tensors of their dtype."""
    t = _new(Tensor)
    Tensor.__init__(t, *args, dtype=kwargs.pop("dtype", None) or cls._dtype_default, **kwargs)
    return t


for _cls in (FloatTensor, DoubleTensor, LongTensor, IntTensor, BoolTensor, ByteTensor):
    _cls.__new__ = _typed_new

# ---------------------------------------------------------------------------------------------------
# creation


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of data (lists, numbers, arrays, tensors). Python floats give
    float32, Python ints int64; NumPy arrays keep their dtype."""
    _check_device(device)
    dt = _dtype(dtype)
    if isinstance(data, Tensor):
        a = np.array(data._a, dtype=dt, copy=True)
    elif isinstance(data, np.ndarray):
        a = np.array(data, dtype=dt, copy=True)
    else:
        a = np.array(_unwrap_nested(data), dtype=dt)
        if dt is None and a.dtype == _F64:
            a = a.astype(_default_float[0])
        elif dt is None and a.dtype.kind in "iu" and a.dtype != _I64 and not isinstance(data, np.generic):
            a = a.astype(_I64)
    if a.dtype.kind in "OUS":
        raise TypeError(f"tensor: could not infer a numeric dtype from {type(data).__name__}")
    t = _wrap(a)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _unwrap_nested(d):
    if isinstance(d, Tensor):
        return d._a
    if isinstance(d, (list, tuple)):
        return [_unwrap_nested(x) for x in d]
    return d


def as_tensor(data, dtype=None, device=None):
    """data as a tensor, sharing memory with a NumPy array (or tensor) of the right dtype."""
    _check_device(device)
    dt = _dtype(dtype)
    if isinstance(data, Tensor):
        return data if dt is None or dt == data.dtype else data.to(dt)
    if isinstance(data, np.ndarray):
        return _wrap(data if dt is None or dt == data.dtype else data.astype(dt))
    return tensor(data, dtype=dt)


asarray = as_tensor


def from_numpy(a):
    """A tensor sharing a's memory (writes through either show in both)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    if a.dtype.kind not in "fiub" or a.dtype.kind == "c":
        raise TypeError(f"can't convert np.ndarray of type {a.dtype}: supported types are floats, ints, uint8 and bool")
    return _wrap(a)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(t):
    return t.is_floating_point()


def numel(t):
    return t.numel()


def _factory(fill):
    def make(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None, pin_memory=False,
             memory_format=None):
        _check_device(device)
        dt = _dtype(dtype) or _default_float[0]
        t = _wrap(fill(_size_args(size), dt))
        if requires_grad:
            t.requires_grad_(True)
        return t
    return make


zeros = _factory(np.zeros)
ones = _factory(np.ones)
empty = _factory(np.zeros)  # zeros: an "uninitialized" tensor never leaks old memory


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    fv = _arr(fill_value) if isinstance(fill_value, Tensor) else fill_value
    dt = _dtype(dtype) or (_BOOL if isinstance(fv, _bool_types) else _I64 if isinstance(fv, numbers.Integral)
                           else _default_float[0])
    t = _wrap(np.full(_size_args((size,) if isinstance(size, numbers.Integral) else size), fv, dt))
    return t.requires_grad_(True) if requires_grad else t


def _like(fn):
    def make(input, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
        return fn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad, **kw)
    return make


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False, **kw):
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad)


def rand_like(input, dtype=None, generator=None, **kw):
    return rand(*input.shape, dtype=dtype or input.dtype, generator=generator)


def randn_like(input, dtype=None, generator=None, **kw):
    return randn(*input.shape, dtype=dtype or input.dtype, generator=generator)


def randint_like(input, low=0, high=None, dtype=None, generator=None, **kw):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, generator=generator)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    if end is None:
        start, end = 0, start
    vals = [_arr(v).item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    dt = _dtype(dtype) or (_I64 if all(isinstance(v, numbers.Integral) for v in vals) else _default_float[0])
    t = _wrap(np.arange(*vals).astype(dt))
    return t.requires_grad_(True) if requires_grad else t


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    t = _wrap(np.linspace(start, end, steps).astype(_dtype(dtype) or _default_float[0]))
    return t.requires_grad_(True) if requires_grad else t


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _wrap(np.logspace(start, end, steps, base=base).astype(_dtype(dtype) or _default_float[0]))


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    t = _wrap(np.eye(n, m, dtype=_dtype(dtype) or _default_float[0]))
    return t.requires_grad_(True) if requires_grad else t


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    dt = _dtype(dtype) or _default_float[0]
    t = _wrap(numpy_rng(generator).random(_size_args(size), dtype=dt if dt in (_F32, _F64) else _F64).astype(dt, copy=False))
    return t.requires_grad_(True) if requires_grad else t


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    dt = _dtype(dtype) or _default_float[0]
    g = numpy_rng(generator)
    a = g.standard_normal(_size_args(size), dtype=dt if dt in (_F32, _F64) else _F64).astype(dt, copy=False)
    t = _wrap(a)
    return t.requires_grad_(True) if requires_grad else t


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """randint(high, size) or randint(low, high, size): integers in [low, high)."""
    _check_device(device)
    args = list(args)
    if size is None:
        if not args or not isinstance(args[-1], (tuple, list)):
            raise TypeError("randint: expected a size tuple, e.g. randint(0, 10, (5,))")
        size = args.pop()
    low, high = (0, args[0]) if len(args) == 1 else (args[0], args[1])
    a = numpy_rng(generator).integers(low, high, _size_args(size))
    return _wrap(a.astype(_dtype(dtype) or _I64))


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _wrap(numpy_rng(generator).permutation(n).astype(_dtype(dtype) or _I64))


def bernoulli(input, p=None, generator=None):
    probs = _arr(input) if p is None else np.full(_arr(input).shape, p)
    a = (numpy_rng(generator).random(probs.shape) < probs).astype(_arr(input).dtype if _arr(input).dtype.kind == "f" else _default_float[0])
    return _wrap(a)


def normal(mean, std=1.0, size=None, generator=None, dtype=None, device=None):
    g = numpy_rng(generator)
    if size is not None:
        return _wrap(g.normal(mean, std, _size_args(size)).astype(_dtype(dtype) or _default_float[0]))
    m, s = _arr(mean), _arr(std)
    shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    dt = m.dtype if isinstance(mean, Tensor) else (s.dtype if isinstance(std, Tensor) else _default_float[0])
    return _wrap(g.normal(m, s, shape).astype(dt))


def multinomial(input, num_samples, replacement=False, generator=None):
    p = _arr(input).astype(np.float64)
    g = numpy_rng(generator)
    rows = p.reshape(-1, p.shape[-1])
    out = np.stack([g.choice(r.size, num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return _wrap(out.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64))


def _tensors(seq, name):
    ts = [t if isinstance(t, Tensor) else _wrap(np.asarray(t)) for t in seq]
    if not ts:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    return ts


def cat(tensors, dim=0, out=None):
    if out is not None:
        return write_out(out, cat(tensors, dim))
    ts = _tensors(tensors, "cat")
    ts = [t for t in ts if not (t._a.ndim == 1 and t._a.size == 0)] or ts[:1]
    d = dim % ts[0]._a.ndim
    arrays = [t._a for t in ts]
    dts = {a.dtype for a in arrays}
    if len(dts) > 1:
        dt = np.result_type(*arrays)
        arrays = [a.astype(dt) for a in arrays]
    y = np.concatenate(arrays, axis=d)
    return _out(y, _cat_bwd, (d, [a.shape[d] for a in arrays]), *ts)


concat = concatenate = cat


def stack(tensors, dim=0, out=None):
    if out is not None:
        return write_out(out, stack(tensors, dim))
    ts = _tensors(tensors, "stack")
    shapes = {t._a.shape for t in ts}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {sorted(shapes)}")
    d = dim % (ts[0]._a.ndim + 1)
    y = np.stack([t._a for t in ts], axis=d)
    return _out(y, _stack_bwd, (d, len(ts)), *ts)


def hstack(tensors):
    ts = _tensors(tensors, "hstack")
    return cat(ts, 0 if ts[0]._a.ndim == 1 else 1)


def vstack(tensors):
    return cat([t.reshape(1, -1) if _arr(t).ndim == 1 else t for t in _tensors(tensors, "vstack")], 0)


def where(condition, input=None, other=None):
    c = _arr(condition)
    if input is None and other is None:
        return tuple(_wrap(i.astype(np.int64)) for i in np.nonzero(c))
    x = input if isinstance(input, Tensor) else _wrap(np.asarray(_weak(input)))
    y = other if isinstance(other, Tensor) else _wrap(np.asarray(_weak(other)))
    out = np.where(c, x._a, y._a)
    if out.dtype != x._a.dtype:
        out = _promote(out, x._a, y._a)
    return _out(out, _where_bwd, (c, x._a, y._a), x, y)


def equal(a, b):
    return as_tensor(a).equal(b)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return as_tensor(a).allclose(b, rtol, atol, equal_nan)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return as_tensor(a).isclose(b, rtol, atol, equal_nan)


def einsum(equation, *operands):
    """Einstein summation with gradients (no ellipsis; each index at most once per operand)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ts = _tensors(operands, "einsum")
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise NotImplementedError("einsum with '...'")
    if "->" in eq:
        ins, out_sub = eq.split("->")
    else:
        ins = eq
        letters = [c for c in ins.replace(",", "")]
        out_sub = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = ins.split(",")
    if any(len(set(s)) != len(s) for s in ins):
        raise NotImplementedError("einsum with a repeated index within one operand")
    arrays = [t._a for t in ts]
    y = np.einsum(eq if "->" in eq else ",".join(ins) + "->" + out_sub, *arrays)
    return _out(y, _einsum_bwd, (ins, out_sub, arrays), *ts)


def meshgrid(*tensors, indexing="ij"):
    ts = _tensors(tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors, "meshgrid")
    return tuple(_wrap(g) for g in np.meshgrid(*[t._a for t in ts], indexing=indexing))


def manual_seed(seed):
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.manual_seed(None).initial_seed


def initial_seed():
    return default_generator.initial_seed


reads(_amax_bwd, inputs=False)
reads(_zero_grad_bwd, inputs=False)
reads(_overwrite_bwd, inputs=False)
reads(_not_differentiable_bwd, inputs=False)
reads(_scatter_src_bwd, inputs=False)
reads(_rpow_bwd, output=True)
