"""Tensor methods: shape and views, indexing, gather and scatter."""
import builtins
import numbers

import numpy as np

from ._creation import empty, full, ones, tensor, zeros
from ._dtypes import _bslice, _dtype
from ._grad_fns import (_expand_bwd, _flip_bwd, _gather_bwd, _getitem_bwd, _index_select_bwd, _permute_bwd,
                        _repeat_bwd, _reshape_bwd, _roll_bwd, _scatter_src_bwd, _setitem_bwd, _transpose_bwd)
from ._tensor_base import (TensorBase, _arr, _bump, _index, _is_basic_index, _make_view, _out, _scatter_index,
                           _size_args, _wrap)


class ShapeOps:
    """Shape, view and indexing methods of fastnn.Tensor."""

    __slots__ = ()

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
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                               "tensor")
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
        self._a[i] = _arr(value) if isinstance(value, TensorBase) else value
        _bump(self)

    def _setitem_value(self, i, value):
        """A new tensor: self with value written at index i (the graph op behind __setitem__)."""
        v = value if isinstance(value, TensorBase) else _wrap(np.asarray(value, self._a.dtype))
        new = self._a.copy()
        new[i] = v._a
        basic = _is_basic_index(i) or (isinstance(i, np.ndarray) and i.dtype == np.bool_)
        if isinstance(value, TensorBase):
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
        if isinstance(src, TensorBase) and src.requires_grad or self.requires_grad:
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
            placed = _wrap(vals) if not isinstance(s, TensorBase) else _scatter_src(s, idx, d, self._a.shape)
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


def _scatter_src(s, idx, d, shape):
    vals = np.zeros(shape, s._a.dtype)
    sv = s._a[tuple(_bslice(0, q) for q in idx.shape)]
    np.put_along_axis(vals, idx, sv, axis=d)
    return _out(vals, _scatter_src_bwd, (idx, d, s._a.shape), s)
