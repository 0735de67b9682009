"""fastnn: train small and medium neural networks fast on a multicore CPU.

Hot loops are C with OpenMP (csrc/), bound with Cython (fastnn._ext); the API above them is PyTorch's:
``fastnn.Tensor`` with autograd, ``fastnn.nn``, ``fastnn.optim``, ``fastnn.utils.data``,
``fastnn.vision.transforms``, so course code ports by changing its imports. ``fastnn.ops`` is the
array-level kernel layer, ``fastnn.reference`` its NumPy twin; ``fastnn.fit`` the Keras-style loop.
"""
__version__ = "0.2.0"

import os as _os

# How long an OpenMP worker spins after a kernel before it sleeps: a training step alternates parallel
# kernels with a few hundred microseconds of serial work (small layers, Python), and a worker woken
# from sleep costs ~45 us each time (measured on 2 cores: 30000 spins, ~0.3-1 ms, instead of 3000
# took the 784-256-128-10 MLP from 124k to 150k samples/s); libgomp's own default (300000, ~3 ms)
# spins longer than training needs. A spinning worker would starve fit's background loader thread,
# so fit leaves that thread a core when one runs (see fit's prefetch). libgomp reads the value
# once, when it loads (with our first extension module); the variable is removed again afterwards
# so other libraries' OpenMP runtimes (torch's own libgomp) keep their defaults. A user's own
# setting wins.
_spin = "GOMP_SPINCOUNT" not in _os.environ and "OMP_WAIT_POLICY" not in _os.environ
if _spin:
    _os.environ["GOMP_SPINCOUNT"] = "30000"
try:
    from ._ext import _runtime as _rt  # noqa: F401  (loads libgomp)
except ImportError as _e:  # an unbuilt source tree
    raise ImportError(f"fastnn's compiled kernels are missing ({_e}). Build and install fastnn first: "
                      "`pip install .` (or `pip install -e .` for a development checkout), and run Python "
                      "from outside the source tree.") from None
finally:
    if _spin:
        del _os.environ["GOMP_SPINCOUNT"]

from . import autograd, ops, reference, regularizers  # noqa: E402
from ._random import Generator, default_generator  # noqa: E402
from ._threads import get_num_threads, set_num_threads  # noqa: E402
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: E402
from .tensor import write_out as _write_out  # noqa: E402
from .tensor import (BoolTensor, ByteTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor, Size,  # noqa: E402
                     Tensor, allclose, arange, as_tensor, asarray, bernoulli, cat, concat, concatenate, device,
                     einsum, empty, empty_like, equal, eye, from_numpy, full, full_like, get_default_dtype,
                     hstack, initial_seed, is_floating_point, is_tensor, isclose, linspace, logspace,
                     manual_seed, meshgrid, multinomial, normal, numel, ones, ones_like, rand, rand_like, randint,
                     randint_like, randn, randn_like, randperm, seed, set_default_dtype, stack, tensor, vstack,
                     where, zeros, zeros_like)
from . import nn, optim, data, utils, training, vision  # noqa: E402,F811
from .checkpoint import load, load_checkpoint, save  # noqa: E402
from .nn.functional import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, conv1d, conv2d,  # noqa: E402
                            max_pool1d, max_pool2d)
from .training import evaluate, fit, lr_find, predict  # noqa: E402
from . import diagnostics, transfer, zoo  # noqa: E402
from . import jit, metrics  # noqa: E402


def _function_form(name):
    meth = getattr(Tensor, name)

    def f(input, *args, out=None, **kwargs):
        r = meth(input if isinstance(input, Tensor) else as_tensor(input), *args, **kwargs)
        return r if out is None else _write_out(out, r)
    f.__name__ = name
    f.__doc__ = f"fastnn.{name}(input, ...): the same as input.{name}(...)."
    return f


for _n in ["exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tan", "asin", "acos",
           "atan", "sinh", "cosh", "square", "reciprocal", "abs", "absolute", "erf", "erfinv", "sign", "floor",
           "ceil", "trunc", "frac", "round", "relu", "sigmoid", "tanh", "clamp", "clip", "maximum", "minimum",
           "softmax", "log_softmax", "sum", "mean", "std", "var", "max", "min", "amax", "amin", "argmax", "argmin",
           "norm", "prod", "logsumexp", "cumsum", "cumprod", "all", "any", "count_nonzero", "nonzero", "median",
           "sort", "argsort", "topk", "unique", "bincount", "matmul", "mm", "bmm", "dot", "mv", "outer", "reshape",
           "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose", "swapaxes", "t", "movedim",
           "flip", "fliplr", "flipud", "roll", "narrow", "select", "chunk", "split", "unbind", "gather", "scatter",
           "index_select", "masked_fill", "take", "isnan", "isinf", "isfinite", "logical_and", "logical_or",
           "logical_xor", "logical_not", "add", "sub", "subtract", "mul", "multiply", "div", "divide",
           "true_divide", "floor_divide", "remainder", "fmod", "pow", "neg", "negative", "lerp", "repeat_interleave",
           "tile", "broadcast_to", "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "clone", "detach",
           "clamp_min", "clamp_max", "nansum", "nanmean", "aminmax", "std_mean", "var_mean", "quantile",
           "nanquantile", "zero_", "fill_", "clamp_", "clip_", "clamp_min_", "clamp_max_", "relu_", "sigmoid_",
           "tanh_", "exp_", "log_", "sqrt_", "abs_", "neg_", "floor_", "ceil_", "round_", "trunc_", "square_",
           "reciprocal_", "sin_", "cos_", "log1p_", "expm1_"]:
    globals()[_n] = _function_form(_n)


class _Namespace:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _false(*a, **k):
    return False


def _no_device(*a, **k):
    raise NotImplementedError("fastnn runs on the CPU only: there is no CUDA device")


# `device = "cuda" if torch.cuda.is_available() else "cpu"` and seeding helpers port unchanged
cuda = _Namespace(is_available=_false, device_count=lambda: 0, manual_seed=lambda s: None,
                  manual_seed_all=lambda s: None, current_device=_no_device, synchronize=lambda *a: None,
                  empty_cache=lambda: None, is_initialized=_false)
backends = _Namespace(cudnn=_Namespace(deterministic=True, benchmark=False, enabled=False, is_available=_false),
                      mps=_Namespace(is_available=_false, is_built=_false),
                      mkldnn=_Namespace(is_available=_false))


def __getattr__(name):  # PyTorch's names fastnn lacks: a NotImplementedError naming them
    from . import _missing

    return _missing.lookup(_missing.TORCH, "fastnn", name)


def set_workspace_limit(nbytes):
    """Bytes of reusable arrays each layer keeps between calls (default 64 MiB; the least recently used shapes
    go first when a model meets many batch sizes). Returns the previous limit."""
    from ._ext._chain import set_workspace_limit as _set

    return _set(int(nbytes))


def set_flush_denormal(mode):
    """Flush subnormal floats to zero inside fastnn's products and convolutions (on by default: subnormal
    weights otherwise slow a CNN 5-100x). Returns True, as torch.set_flush_denormal on x86."""
    _rt.set_flush_denormal(1 if mode else 0)
    return True


def get_flush_denormal():
    return _rt.get_flush_denormal()


def use_deterministic_algorithms(mode=True, warn_only=False):
    """Accepted: fastnn's kernels are always deterministic (bitwise the same for any thread count)."""


def are_deterministic_algorithms_enabled():
    return True


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    import numpy as _np

    _np.set_printoptions(precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth,
                         suppress=None if sci_mode is None else not sci_mode)


def compile(model=None, **kwargs):
    """torch.compile stand-in: returns the model unchanged (fastnn's kernels are already compiled)."""
    if model is None:
        return lambda m: m
    return model


# dtypes last: `float`, `int` and `bool` shadow the builtins in this namespace, as in torch's
from .tensor import (bool, double, float, float16, float32, float64, half, int, int8, int16, int32,  # noqa: E402,F811
                     int64, long, short, uint8)

__all__ = ["Tensor", "tensor", "nn", "optim", "utils", "vision", "ops", "data", "training", "autograd",
           "reference", "regularizers", "manual_seed", "Generator", "no_grad", "enable_grad", "inference_mode",
           "set_grad_enabled", "get_num_threads", "set_num_threads", "fit", "evaluate", "predict", "save", "load",
           "load_checkpoint", "__version__"]
