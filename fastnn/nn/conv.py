"""Convolutions with PyTorch's signatures, defaults, weight layouts and numerics: Conv1d on (N, C, L),
Conv2d on (N, C, H, W). The kernels are csrc/conv.c: Winograd F(2x2, 3x3) for 3x3 stride-1 layers,
direct loops for depthwise ones, bounded im2col tiles over BLAS for the rest (bench/README.md)."""
import math

import numpy as np

from .._random import numpy_rng
from . import init as _init
from .._autocast import products_bf16
from .._pairs import conv_bwd, conv_fwd, conv_pads, pad_index
from .._pairs import tuple_arg as _tuple
from .module import Module, layer_call
from .parameter import Parameter
from .._checks import positive_int
from .._docs import parameters

_CONV_PARAMETERS = """Parameters
----------
in_channels : int
    Channels of the input.
out_channels : int
    Channels of the output (the number of filters).
kernel_size : int or tuple
    Size of the window.
stride : int or tuple, default 1
    Step of the window.
padding : int, tuple or str, default 0
    Zeros added on both sides of each spatial axis, or "valid" / "same".
dilation : int or tuple, default 1
    Spacing between the window's elements.
groups : int, default 1
    Blocked connections: in_channels and out_channels are split into this many groups.
bias : bool, default True
    Whether the layer learns an additive bias.
padding_mode : str, default 'zeros'
    "zeros", "reflect", "replicate" or "circular".
init : str or callable, default 'default'
    Weight initialization: "default" (PyTorch's), "he_normal", "he_uniform", "xavier_normal", "xavier_uniform",
    "lecun_normal", "normal", or f(weight_array, numpy_rng).
dtype : numpy dtype, default float32
    float32 or float64, for the parameters.
device : str, optional
    Accepted for PyTorch's signature; only the CPU exists.
rng : numpy.random.Generator or int, optional
    Source of the initial weights (default: fastnn's global generator, seeded by fastnn.manual_seed).
regularizer : fastnn.regularizers penalty, optional
    L1, L2 or ElasticNet penalty on the weight, applied by the optimizer.
"""

_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """y = conv(x, weight) + bias (cross-correlation, as PyTorch). weight (out, in / groups, *kernel),
    bias (out,). padding: an int, a tuple, "valid" or "same" (stride 1); padding_mode "zeros", "reflect",
    "replicate" or "circular". init: "default" (PyTorch's kaiming_uniform with a = sqrt(5), bias
    U(+-1/sqrt(fan_in))), or any scheme of Linear ("he_normal", "xavier_uniform", ...) or a callable."""

    _native = True
    _assigns_grads = True  # its backward honours accumulate=False
    _fan_layer = True      # a weight from fan_in to fan_out (what nn.init.lsuv_ rescales)
    _nd = 2
    _config_keys = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                    "padding_mode")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", *, init="default", dtype=np.float32, device=None, rng=None,
                 regularizer=None):
        super().__init__()
        nd = self._nd
        for nm, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            positive_int(v, nm)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"groups: in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                             f"divisible by groups ({groups})")
        if padding_mode not in _MODES:
            raise ValueError(f"padding_mode: expected one of {_MODES}, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _tuple(kernel_size, nd, "kernel_size", 1)
        self.stride = _tuple(stride, nd, "stride", 1)
        self.dilation = _tuple(dilation, nd, "dilation", 1)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, nd, "padding", 0)
        self._pads = conv_pads(self.kernel_size, self.stride, self.dilation, self.padding)
        self.padding_mode = padding_mode
        self._dtype = np.dtype(dtype)
        if self._dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype: expected float32 or float64, got {self._dtype}")
        if not (callable(init) or init in _init.SCHEMES):
            raise ValueError(f"init: expected one of {sorted(_init.SCHEMES)} or a callable, got {init!r}")
        self._init = init
        w = np.empty((self.out_channels, self.in_channels // self.groups) + self.kernel_size, self._dtype)
        self.weight = Parameter(w, regularizer=regularizer)
        self.bias = Parameter(np.zeros(self.out_channels, self._dtype), kind="bias") if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        g = numpy_rng(rng)
        (self._init if callable(self._init) else _init.SCHEMES[self._init])(self.weight._a, g)
        if self.bias is not None:
            fan_in = self.weight._a[0].size
            bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
            self.bias._a[...] = g.uniform(-bound, bound, self.out_channels) if self._init == "default" else 0

    @classmethod
    def _state_shapes(cls, cfg):
        k = _tuple(cfg["kernel_size"], cls._nd, "kernel_size", 1)
        w = (int(cfg["out_channels"]), int(cfg["in_channels"]) // int(cfg.get("groups", 1))) + k
        return {"weight": w, **({"bias": (int(cfg["out_channels"]),)} if cfg.get("bias", True) else {})}

    def get_config(self):
        cfg = {k: getattr(self, k) for k in self._config_keys}
        cfg.update(bias=self.bias is not None, dtype=str(self.weight.dtype))
        return cfg

    def forward(self, x):
        return layer_call(self, x)

    def _geometry(self, spatial):
        """(input as 4-D shape, kernel-padding (t, b, l, r), ops keywords, index maps for non-zero padding)."""
        pads = self._pads
        maps = None
        if self.padding_mode != "zeros" and any(a or b for a, b in pads):
            maps = [pad_index(n, a, b, self.padding_mode) for n, (a, b) in zip(spatial, pads)]
            pads = ((0, 0),) * self._nd
        if self._nd == 1:
            kw = dict(stride=(1,) + self.stride, padding=(0, 0) + pads[0], dilation=(1,) + self.dilation,
                      groups=self.groups)
        else:
            kw = dict(stride=self.stride, padding=pads[0] + pads[1], dilation=self.dilation, groups=self.groups)
        return kw, maps

    def _fwd(self, x):
        w = self.weight._a
        x = self._input(x, w.dtype)
        nd = self._nd
        if x.ndim != nd + 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self._name()} got input of shape {x.shape}; expected (batch, {self.in_channels}"
                             f"{', L' if nd == 1 else ', H, W'})")
        kw, maps = self._geometry(x.shape[2:])
        b = self.bias._a if self.bias is not None else None
        return conv_fwd(x, w, b, kw, maps, nd, self._ws, self._name(), products_bf16())

    def _bwd(self, ctx, g, need_input_grad, accumulate=True):
        w, b = self.weight, self.bias
        gb = b._g if b is not None and b.requires_grad else None
        return conv_bwd(ctx, g, w._a, w._g if w.requires_grad else None, gb, need_input_grad, accumulate, self._ws)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding!r}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s


@parameters(_CONV_PARAMETERS)
class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L): weight (out, in / groups, kernel)."""
    _nd = 1


@parameters(_CONV_PARAMETERS)
class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W): weight (out, in / groups, kH, kW).

    Examples
    --------
    >>> conv = fastnn.nn.Conv2d(3, 32, kernel_size=3, padding=1)
    >>> conv(fastnn.randn(8, 3, 32, 32)).shape
    fastnn.Size([8, 32, 32, 32])
    """
    _nd = 2
