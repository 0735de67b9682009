"""dtypes, sizes and devices of fastnn tensors (torch.float32, torch.Size, torch.device)."""
import builtins
import numbers

import numpy as np

_F32, _F64, _I64, _BOOL = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_)


_bint, _bfloat, _bbool, _bslice = builtins.int, builtins.float, builtins.bool, builtins.slice


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
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


_CPU = device("cpu")


def _check_device(d):
    """Tensors live on the CPU only: any other device raises NotImplementedError (naming it)."""
    if d is not None:
        dev = d if isinstance(d, device) else device(d)
        if dev.type != "cpu":
            raise NotImplementedError(f"device {str(dev)!r}: fastnn runs on the CPU only (use 'cpu')")
