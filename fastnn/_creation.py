"""Creating tensors: tensor(), as_tensor, from_numpy, zeros/ones/full/arange/rand..., cat/stack/where,
einsum, seeding -- torch's top-level factory functions."""
import numbers

import numpy as np

from ._dtypes import _BOOL, _F32, _F64, _I64, _check_device, _default_float, _dtype
from ._grad_fns import _cat_bwd, _einsum_bwd, _stack_bwd, _where_bwd
from ._random import default_generator, numpy_rng
from ._tensor_base import TensorBase, _arr, _bool_types, _out, _promote, _size_args, _weak, _wrap, write_out


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of data (lists, numbers, arrays, tensors). Python floats give
    float32, Python ints int64; NumPy arrays keep their dtype."""
    _check_device(device)
    dt = _dtype(dtype)
    if isinstance(data, TensorBase):
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
    if isinstance(d, TensorBase):
        return d._a
    if isinstance(d, (list, tuple)):
        return [_unwrap_nested(x) for x in d]
    return d


def as_tensor(data, dtype=None, device=None):
    """data as a tensor, sharing memory with a NumPy array (or tensor) of the right dtype."""
    _check_device(device)
    dt = _dtype(dtype)
    if isinstance(data, TensorBase):
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
    return isinstance(obj, TensorBase)


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
    fv = _arr(fill_value) if isinstance(fill_value, TensorBase) else fill_value
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
    vals = [_arr(v).item() if isinstance(v, TensorBase) else v for v in (start, end, step)]
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
    draw = numpy_rng(generator).random(_size_args(size), dtype=dt if dt in (_F32, _F64) else _F64)
    t = _wrap(draw.astype(dt, copy=False))
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
    dt = _arr(input).dtype if _arr(input).dtype.kind == "f" else _default_float[0]
    a = (numpy_rng(generator).random(probs.shape) < probs).astype(dt)
    return _wrap(a)


def normal(mean, std=1.0, size=None, generator=None, dtype=None, device=None):
    g = numpy_rng(generator)
    if size is not None:
        return _wrap(g.normal(mean, std, _size_args(size)).astype(_dtype(dtype) or _default_float[0]))
    m, s = _arr(mean), _arr(std)
    shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    dt = m.dtype if isinstance(mean, TensorBase) else (s.dtype if isinstance(std, TensorBase) else _default_float[0])
    return _wrap(g.normal(m, s, shape).astype(dt))


def multinomial(input, num_samples, replacement=False, generator=None):
    p = _arr(input).astype(np.float64)
    g = numpy_rng(generator)
    rows = p.reshape(-1, p.shape[-1])
    out = np.stack([g.choice(r.size, num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return _wrap(out.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64))


def _tensors(seq, name):
    ts = [t if isinstance(t, TensorBase) else _wrap(np.asarray(t)) for t in seq]
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
    x = input if isinstance(input, TensorBase) else _wrap(np.asarray(_weak(input)))
    y = other if isinstance(other, TensorBase) else _wrap(np.asarray(_weak(other)))
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
