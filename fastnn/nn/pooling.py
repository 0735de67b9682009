"""Pooling layers with PyTorch's signatures and semantics: max and average pooling (1-D, 2-D), their
adaptive forms. One kernel (csrc/pool.c) serves them all through per-axis window tables."""
import numpy as np

from .._pairs import adaptive_windows, avg_divisors, pool_bwd, pool_fwd, pool_windows
from .._pairs import tuple_arg as _tuple
from .module import Module, layer_call
from .._docs import parameters

_MAXPOOL_PARAMETERS = """Parameters
----------
kernel_size : int or tuple
    Size of the window.
stride : int or tuple, default None
    Step of the window.
padding : int or tuple, default 0
    Implicit -inf padding on both sides.
dilation : int or tuple, default 1
    Spacing between the window's elements.
return_indices : bool, default False
    Also return the positions of the maxima.
ceil_mode : bool, default False
    Round the output size up instead of down (a last, partial window).
"""

_AVGPOOL_PARAMETERS = """Parameters
----------
kernel_size : int or tuple
    Size of the window.
stride : int or tuple, default None
    Step of the window.
padding : int or tuple, default 0
    Implicit zero padding on both sides.
ceil_mode : bool, default False
    Round the output size up instead of down (a last, partial window).
count_include_pad : bool, default True
    Count the zero padding in the average's divisor.
divisor_override : int, optional
    Divide every window's sum by this instead.
"""

_ADAPTIVE_PARAMETERS = """Parameters
----------
output_size : int or tuple
    Size of the output's spatial axes (None keeps the input's).
return_indices : bool, default False
    Also return the positions of the maxima.
"""


class _Pool(Module):
    _native = True
    _nd = 2
    _op = "max"

    def forward(self, x):
        return layer_call(self, x)

    def _windows(self, spatial):
        """((hs, hn, dh, ws, wn, dw), divisors or None), cached per input size."""
        cache = self.__dict__.setdefault("_win_cache", {})
        w = cache.get(spatial)
        if w is None:
            if len(cache) > 16:
                cache.clear()
            w = cache[spatial] = self._make_windows(spatial)
        return w

    def _fwd(self, x):
        nd = self._nd
        if x.dtype not in (np.float32, np.float64):
            x = self._input(x, np.float32)
        if x.ndim < nd + 1:
            raise ValueError(f"{self._name()}: expected input with at least {nd + 1} dimensions, got {x.shape}")
        win, div = self._windows(x.shape[-nd:])
        (y, idx), ctx = pool_fwd(x, nd, win, self._op, div, self._ws)
        if getattr(self, "return_indices", False):
            return (y, idx.astype(np.int64).reshape(y.shape)), ctx
        return y, ctx

    def _bwd(self, ctx, g, need_input_grad, accumulate=True):
        return pool_bwd(ctx, g[0] if isinstance(g, tuple) else g, self._ws)


class _FixedPool(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        nd = self._nd
        self.kernel_size = _tuple(kernel_size, nd, "kernel_size", 1)
        self.stride = _tuple(stride if stride is not None else self.kernel_size, nd, "stride", 1)
        self.padding = _tuple(padding, nd, "padding", 0)
        self.dilation = _tuple(dilation, nd, "dilation", 1)
        self.ceil_mode = bool(ceil_mode)
        for k, p in zip(self.kernel_size, self.padding):
            if 2 * p > k:
                raise ValueError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                                 f"kernel_size={k}")

    def _axes(self, spatial):
        return [pool_windows(n, k, s, p, d, self.ceil_mode)
                for n, k, s, p, d in zip(spatial, self.kernel_size, self.stride, self.padding, self.dilation)]

    def _make_windows(self, spatial):
        wins = self._axes(spatial)
        if self._nd == 1:
            return (np.zeros(1, np.int64), np.ones(1, np.int64), 1, wins[0][0], wins[0][1], self.dilation[0]), \
                self._divisors(spatial, wins)
        return (wins[0][0], wins[0][1], self.dilation[0], wins[1][0], wins[1][1], self.dilation[1]), \
            self._divisors(spatial, wins)

    def _divisors(self, spatial, wins):
        return None

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class _MaxPool(_FixedPool):
    _config_keys = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)
        self.return_indices = bool(return_indices)


@parameters(_MAXPOOL_PARAMETERS)
class MaxPool1d(_MaxPool):
    """Max over windows of (N, C, L); stride defaults to kernel_size."""
    _nd = 1


@parameters(_MAXPOOL_PARAMETERS)
class MaxPool2d(_MaxPool):
    """Max over kernel_size windows of (N, C, H, W) (stride defaults to kernel_size). Gradients go to the
    first maximum of each window in scan order (PyTorch's choice on ties); a NaN propagates.
    """
    _nd = 2


class _AvgPool(_FixedPool):
    _op = "avg"
    _config_keys = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        if divisor_override is not None and divisor_override <= 0:
            raise ValueError(f"divisor_override: expected a positive number, got {divisor_override!r}")
        self.divisor_override = divisor_override

    def _divisors(self, spatial, wins):
        if self.divisor_override:
            return np.full(int(np.prod([w[2] for w in wins])), float(self.divisor_override))
        d = [avg_divisors(n, k, s, p, w[2], self.count_include_pad)
             for n, k, s, p, w in zip(spatial, self.kernel_size, self.stride, self.padding, wins)]
        return (d[0] if self._nd == 1 else np.outer(d[0], d[1]).reshape(-1)).astype(np.float64)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


@parameters(_AVGPOOL_PARAMETERS)
class AvgPool1d(_AvgPool):
    """Mean over windows of (N, C, L)."""
    _nd = 1


@parameters(_AVGPOOL_PARAMETERS)
class AvgPool2d(_AvgPool):
    """Mean over kernel_size windows of (N, C, H, W); count_include_pad counts the zero padding."""
    _nd = 2


class _Adaptive(_Pool):
    _config_keys = ("output_size",)

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        if isinstance(output_size, (int, np.integer)) or output_size is None:
            output_size = (output_size,) * self._nd
        self.output_size = tuple(None if o is None else int(o) for o in output_size)
        if len(self.output_size) != self._nd or any(o is not None and o < 1 for o in self.output_size):
            raise ValueError(f"output_size: expected {self._nd} positive ints (or None), got {output_size!r}")
        self.return_indices = bool(return_indices)

    def _make_windows(self, spatial):
        out = [n if o is None else o for n, o in zip(spatial, self.output_size)]
        w = [adaptive_windows(n, o) for n, o in zip(spatial, out)]
        if self._nd == 1:
            return (np.zeros(1, np.int64), np.ones(1, np.int64), 1, w[0][0], w[0][1], 1), w[0][1].astype(np.float64)
        return (w[0][0], w[0][1], 1, w[1][0], w[1][1], 1), np.outer(w[0][1], w[1][1]).reshape(-1).astype(np.float64)

    def extra_repr(self):
        return f"output_size={self.output_size if self._nd > 1 else self.output_size[0]}"


@parameters(_ADAPTIVE_PARAMETERS)
class AdaptiveAvgPool1d(_Adaptive):
    """Mean over adaptive windows of (N, C, L) giving output_size values."""
    _nd, _op = 1, "avg"


@parameters(_ADAPTIVE_PARAMETERS)
class AdaptiveAvgPool2d(_Adaptive):
    """Mean over adaptive windows of (N, C, H, W) giving output_size (1: global average pooling)."""
    _nd, _op = 2, "avg"


@parameters(_ADAPTIVE_PARAMETERS)
class AdaptiveMaxPool1d(_Adaptive):
    """Max pooling to a fixed output length, whatever the input's (torch.nn.AdaptiveMaxPool1d)."""
    _nd, _op = 1, "max"
    _config_keys = ("output_size", "return_indices")


@parameters(_ADAPTIVE_PARAMETERS)
class AdaptiveMaxPool2d(_Adaptive):
    """Max over adaptive windows of (N, C, H, W) giving output_size."""
    _nd, _op = 2, "max"
    _config_keys = ("output_size", "return_indices")
