"""Tensor methods: reductions, sorting, statistics."""
import builtins
import collections
import math

import numpy as np

from ._dtypes import _I64, _bbool, _bfloat, _bint, _default_float, _dtype
from ._grad_fns import (_amax_bwd, _cumprod_bwd, _cumsum_bwd, _identity_bwd, _logsumexp_bwd, _mean_bwd,
                        _minmax_all_bwd, _minmax_dim_bwd, _norm_bwd, _prod_bwd, _sum_bwd, _var_bwd)
from ._tensor_base import TensorBase, _arr, _dims, _np_kw, _out, _wrap
from ._tensor_math import _minmax2

MinMax = collections.namedtuple("MinMax", ["values", "indices"])


_MinMaxPair = collections.namedtuple("aminmax", ["min", "max"])


_NP = object()  # "out not given" (NumPy passes out=None)


class ReduceOps:
    """Reductions of fastnn.Tensor (sum, mean, var, max, norm, cumsum, sort, quantile, ...)."""

    __slots__ = ()

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
        if isinstance(dim, TensorBase):  # max(other): the element-wise form
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


