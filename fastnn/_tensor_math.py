"""Tensor methods: arithmetic, comparisons and logic, element-wise math, products."""
import builtins
import math
import numbers

import numpy as np

from . import ops
from ._ext import _pairs as U
from ._ext._pairs import unary_fwd
from ._creation import where
from ._dtypes import _F32, _F64, _default_float, _dtype
from ._grad_fns import (_add_bwd, _clamp_bwd, _div_bwd, _identity_bwd, _kernel_act_bwd, _masked_fill_bwd, _matmul_bwd,
                        _minimum_bwd, _mul_bwd, _neg_bwd, _not_differentiable_bwd, _pow_bwd, _rdiv_bwd, _remainder_bwd,
                        _rpow_bwd, _rsub_bwd, _softmax_bwd, _sub_bwd, _zero_grad_bwd)
from ._tensor_base import _READS_OUTPUT, TensorBase, _arr, _mm, _out, _promote, _shp, _weak, _wrap
from ._workspace import shared as _shared


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


def kernel_act(x, op, a=0.0, b=0.0, from_output=False):
    """An element-wise activation of tensor x through its kernel pair (fastnn._ext._pairs.unary_fwd; op:
    the kernel's code, a and b its parameters), outputs from the shared workspace."""
    arr = x._a
    if arr.dtype not in (_F32, _F64):
        arr = arr.astype(_default_float[0])
    y, ctx = unary_fwd(op, a, b, from_output, arr, _shared)
    return _out(y, _kernel_act_bwd, (op, a, b, ctx), x)


class MathOps:
    """Arithmetic, comparison and element-wise methods of fastnn.Tensor."""

    __slots__ = ()

    def _bin(self, other, f):
        """(a, b, y) for y = f(a, b): b a weak scalar or an array."""
        a = self._a
        b = other._a if isinstance(other, TensorBase) else _weak(other)
        if isinstance(b, (list, tuple)):
            b = np.asarray(b)
        y = f(a, b)
        if type(y) is not np.ndarray:
            y = np.asarray(y)
        if y.dtype != a.dtype:
            scalar = isinstance(b, (numbers.Number, np.generic))
            y = _promote(y, a, b if isinstance(b, np.ndarray) else None if scalar else np.asarray(b))
        return a, b, y

    def add(self, other, alpha=1):
        if alpha != 1:
            other = other * alpha
        a, b, y = self._bin(other, np.add)
        if isinstance(other, TensorBase):
            return _out(y, _add_bwd, (a, b, 1), self, other)
        return _out(y, _add_bwd, (a, b, 1), self)

    __add__ = add

    def __radd__(self, other):
        return self.add(other)

    def sub(self, other, alpha=1):
        if alpha != 1:
            other = other * alpha
        a, b, y = self._bin(other, np.subtract)
        if isinstance(other, TensorBase):
            return _out(y, _sub_bwd, (a, b, 1), self, other)
        return _out(y, _sub_bwd, (a, b, 1), self)

    __sub__ = subtract = sub

    def __rsub__(self, other):
        a, b, y = self._bin(other, lambda x, o: np.subtract(o, x))
        return _out(y, _rsub_bwd, (a, b), self)

    def mul(self, other):
        a, b, y = self._bin(other, np.multiply)
        if isinstance(other, TensorBase):
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
        if isinstance(other, TensorBase):
            return _out(y, _div_bwd, (a, b), self, other)
        return _out(y, _div_bwd, (a, b), self)

    __truediv__ = divide = true_divide = div

    def _true_div(self, other, reflected):
        """a / b with torch's promotion: integers (and bools) divide in the default float dtype."""
        a = self._a
        b = other._a if isinstance(other, TensorBase) else _weak(other)
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
        return (self, other) if isinstance(other, TensorBase) else (self,)

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
        if isinstance(exponent, TensorBase):
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
        if not isinstance(other, TensorBase):
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
        o = other if isinstance(other, TensorBase) else _wrap(np.asarray(other))
        return self.reshape(-1, 1) * o.reshape(1, -1)

    def _cmp(self, other, f):
        if other is None:  # torch: t == None is False, t != None is True
            return f is np.not_equal
        if isinstance(other, TensorBase):
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

    def relu(self):
        return kernel_act(self, U.RELU)

    def sigmoid(self):
        return kernel_act(self, U.SIGMOID, from_output=True)

    def tanh(self):
        return kernel_act(self, U.TANH, from_output=True)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        lo = _arr(min) if isinstance(min, TensorBase) else min
        hi = _arr(max) if isinstance(max, TensorBase) else max
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


def _minmax2(x, other, f):
    o = other if isinstance(other, TensorBase) else _wrap(np.asarray(_weak(other)))
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
        y = (z - np.log(np.exp(z).sum(axis=d, keepdims=True)) if log
             else np.exp(z) / np.exp(z).sum(axis=d, keepdims=True))
    return _out(y, _softmax_bwd, (y, d, log), x)


def _zero_grad_op(name, f):
    def op(self):
        return _out(np.asarray(f(self._a)), _zero_grad_bwd, (self._a.shape,), self)
    op.__name__ = name
    return op


def _frac(self):
    a = self._a
    return _out(a - np.trunc(a), _identity_bwd, None, self)


for _name, (_f, _b) in _UNARY.items():
    setattr(MathOps, _name, _unary_factory(_name, _f, _b))
for _name, _f in _ZERO_GRAD.items():
    setattr(MathOps, _name, _zero_grad_op(_name, _f))
MathOps.frac = _frac
MathOps.absolute = MathOps.abs
MathOps.arcsin, MathOps.arccos, MathOps.arctan = MathOps.asin, MathOps.acos, MathOps.atan
MathOps.__abs__ = MathOps.abs
MathOps.fix = MathOps.trunc
