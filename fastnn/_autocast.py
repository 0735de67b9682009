"""Mixed precision: ``fastnn.autocast("cpu", dtype=fastnn.bfloat16)``, as ``torch.autocast``.

Inside the context, the products of float32 linear layers and convolutions (forward and the backward of
what ran inside) round their factors to bfloat16 and accumulate in float32; everything else -- element-wise
ops, reductions, softmax and losses, batch-norm statistics, the optimizer and the master weights -- stays
float32, as PyTorch's CPU autocast keeps them. One difference: fastnn's outputs stay float32 tensors
(PyTorch's are bfloat16), so code that mixes them with float32 needs no casts. The state is per thread
and per asyncio task (a ContextVar), as PyTorch's is per thread.
"""
import contextvars
import functools

import numpy as np

_state = contextvars.ContextVar("fastnn_autocast", default=False)


def bfloat16_dtype():
    """NumPy's bfloat16 dtype (from ml_dtypes, imported on first use: it costs ~0.1 s)."""
    import ml_dtypes
    return np.dtype(ml_dtypes.bfloat16)


def products_bf16():
    """True inside an enabled autocast: float32 products run in bfloat16."""
    return _state.get()


def _is_bf16(dtype):
    if dtype is None:
        return True  # PyTorch's CPU default is bfloat16
    if isinstance(dtype, str):
        return dtype in ("bfloat16", "bf16")
    try:
        return np.dtype(dtype).name == "bfloat16"
    except TypeError:
        return False


class autocast:
    """Run float32 products in bfloat16 inside a ``with`` block or a decorated function.

    Parameters
    ----------
    device_type : str
        ``"cpu"`` (fastnn's only device; ``"cuda"`` is refused).
    dtype : dtype, optional
        ``fastnn.bfloat16`` (the default, as PyTorch's on the CPU). float16 is refused: fastnn has no
        float16 products.
    enabled : bool
        False turns autocast off inside the block (an enclosing one included), as in PyTorch.
    cache_enabled : bool, optional
        Accepted for PyTorch's signature; weights are converted once per product.

    Examples
    --------
    >>> import fastnn as torch
    >>> model = torch.nn.Linear(4, 2)
    >>> with torch.autocast("cpu", dtype=torch.bfloat16):
    ...     y = model(torch.ones(3, 4))
    >>> y.dtype
    dtype('float32')
    """

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str) or device_type.split(":")[0] != "cpu":
            raise ValueError(f"autocast: device_type: fastnn runs on the CPU only; expected 'cpu', got {device_type!r}")
        if not _is_bf16(dtype):
            raise ValueError(f"autocast: dtype: fastnn's mixed precision is bfloat16 (fastnn.bfloat16); got {dtype!r}")
        if not isinstance(enabled, (bool, np.bool_)):
            raise TypeError(f"autocast: enabled: expected a bool, got {enabled!r}")
        self.device = "cpu"
        self._enabled = bool(enabled)
        self._tokens = []

    @property
    def fast_dtype(self):
        return bfloat16_dtype()

    def __enter__(self):
        self._tokens.append(_state.set(self._enabled))
        return self

    def __exit__(self, *exc):
        _state.reset(self._tokens.pop())
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)
        return wrapped


def is_autocast_enabled(device_type=None):
    """True inside an enabled autocast (torch.is_autocast_enabled)."""
    return products_bf16()


def get_autocast_dtype(device_type="cpu"):
    """The dtype autocast runs products in: bfloat16 (torch.get_autocast_dtype)."""
    return bfloat16_dtype()
