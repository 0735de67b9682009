"""Tensor methods that change a tensor in place (add_, zero_, fill_, masked_fill_, ...)."""

import numpy as np

from ._autograd import Node, _mode, edge
from ._dtypes import _bslice
from ._grad_fns import _along, _zero_grad_bwd
from ._random import numpy_rng
from ._tensor_base import (TensorBase, _arr, _bump, _copyslices_bwd, _out, _scatter_index, _shadow, _sum_to, _weak,
                           _wrap, reads)
from ._tensor_math import MathOps


class InplaceOps:
    """In-place methods of fastnn.Tensor: true in place unless the graph must see the change."""

    __slots__ = ()

    def _tracked(self, other=None):
        if not _mode.enabled:
            return False
        if self.requires_grad or (isinstance(other, TensorBase) and other.requires_grad):
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
        b = other._a if isinstance(other, TensorBase) else _weak(other)
        ufunc(self._a, b, out=self._a, casting="unsafe")
        _bump(self)
        return self

    def add_(self, other, alpha=1):
        return self._inplace(other * alpha if alpha != 1 else other, MathOps.add, np.add)

    def sub_(self, other, alpha=1):
        return self._inplace(other * alpha if alpha != 1 else other, MathOps.sub, np.subtract)

    def mul_(self, other):
        return self._inplace(other, MathOps.mul, np.multiply)

    def div_(self, other):
        return self._inplace(other, MathOps.div, np.true_divide)

    def pow_(self, other):
        return self._inplace(other, MathOps.pow, np.power)

    __iadd__ = add_

    __isub__ = sub_

    __imul__ = mul_

    __itruediv__ = div_

    def neg_(self):
        return self.mul_(-1)

    def addmm_(self, *a, **k):
        raise NotImplementedError("TensorBase.addmm_")

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
            if isinstance(value, TensorBase) and value._a.size != 1:
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


InplaceOps._become_plain = _become_plain
for _name in ["exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu", "neg", "sign", "floor", "ceil", "round",
              "trunc", "reciprocal", "square", "log1p", "expm1", "sin", "cos"]:
    setattr(InplaceOps, _name + "_", _inplace_unary(_name))


def _overwrite(s, values, src=None):
    """New values in place of s's (fill_, zero_, copy_, random fills) as a graph op: zero gradient for s's
    old values, the gradient (summed over broadcasting) for src when it is a tensor."""
    y = np.empty_like(s._a)
    try:
        y[...] = np.asarray(values).reshape(np.shape(values)) if np.ndim(values) else values
    except ValueError:
        raise RuntimeError(f"the source of shape {list(np.shape(values))} does not broadcast to "
                           f"{list(s._a.shape)}") from None
    if isinstance(src, TensorBase):
        return _out(y, _overwrite_bwd, (s._a.shape, src._a.shape, src._a.dtype), s, src)
    return _out(y, _zero_grad_bwd, (s._a.shape,), s)


def _overwrite_bwd(ctx, g, edges):
    sshape, srcshape, srcdtype = ctx
    gs = np.zeros(sshape, g.dtype) if edges[0] is not None else None
    gsrc = _sum_to(g, np.empty(srcshape, srcdtype)) if len(edges) > 1 and edges[1] is not None else None
    return gs, gsrc


reads(_overwrite_bwd, inputs=False)
