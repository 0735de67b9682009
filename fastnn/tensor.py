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
import numbers
import warnings

import numpy as np

from . import _autograd as _ag
from . import _grad_fns  # noqa: F401  (registers what the backward functions read)
from . import _missing
from ._autocast import bfloat16_dtype
from ._dtypes import _BOOL, _CPU, _F32, _F64, _I64, Size, _bfloat, _bint, _check_device, _default_float, _dtype, device
from ._grad_fns import _cast_bwd, _identity_bwd
from ._tensor_base import TensorBase, _arr, _counter, _init_slots, _new, _out, _size_args, _sum_to, _wrap
from ._tensor_inplace import InplaceOps
from ._tensor_math import MathOps
from ._tensor_reduce import ReduceOps
from ._tensor_shape import ShapeOps

# NumPy's floating-point warnings (0/0, overflow in exp, ...) from tensor arithmetic: PyTorch gives nan/inf
# silently, and so does fastnn (a filter costs nothing until a warning fires; an errstate per op would cost
# ~2 us). Only warnings raised from fastnn's own tensor code are silenced.
warnings.filterwarnings("ignore", message=r"(invalid value|divide by zero|overflow|underflow) encountered",
                        category=RuntimeWarning,
                        module=r"fastnn\.(tensor|_tensor_\w+|_grad_fns|_creation|_autograd|autograd|nn\.functional)$")


class Tensor(TensorBase, MathOps, ReduceOps, ShapeOps, InplaceOps, results=True):
    """An n-dimensional array with PyTorch's API and autograd (see the module docstring).

    ``Tensor(data)`` / ``Tensor(*sizes)`` follow torch.Tensor's legacy constructor (float32);
    prefer ``fastnn.tensor(data)``."""

    __slots__ = ()
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

    def bfloat16(self):
        """A bfloat16 copy (storage: ml_dtypes' dtype; fastnn's kernels take float32 and float64, so compute
        in bfloat16 runs through ``fastnn.autocast`` instead)."""
        return self._as(bfloat16_dtype())

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


def _rebuild(cls, a, requires_grad):
    if cls is Tensor:
        t = _wrap(np.array(a, copy=True))
        t.requires_grad = requires_grad
        return t
    return cls(np.array(a, copy=True), requires_grad=requires_grad)


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


# the family's other names, for the floors above (fastnn.tensor is the family's face)

from ._creation import (allclose, arange, as_tensor, asarray, bernoulli, cat, concat, concatenate, einsum, empty,
                        empty_like, equal, eye, from_numpy, full, full_like, hstack, initial_seed, is_floating_point,
                        is_tensor, isclose, linspace, logspace, manual_seed, meshgrid, multinomial, normal, numel,
                        ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like, randperm, seed,
                        stack, tensor, vstack, where, zeros, zeros_like)  # noqa: E402,F401
from ._dtypes import (bool, double, float, float16, float32, float64, get_default_dtype, half, int, int8, int16, int32,
                      int64, long, set_default_dtype, short, uint8)  # noqa: E402,F401,F811
from ._tensor_base import _bump, _saved, apply_inplace, products, reads, write_out  # noqa: E402,F401
from ._tensor_math import _softmax, kernel_act  # noqa: E402,F401
