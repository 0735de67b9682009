"""The top-level names of ``import fastnn as torch``: tensor factories and functions, grad modes,
seeding, dtypes, and PyTorch's switches that have a fixed answer on a CPU engine (``torch.cuda``,
``torch.backends``, ``torch.compile``). The package face (fastnn/__init__.py) re-exports them; fastnn.jit
reads this module to know which top-level functions a recorded graph may call.
"""
from . import ops  # noqa: F401
from ._ext import _runtime as _rt
from ._random import Generator, default_generator  # noqa: F401
from ._threads import get_num_threads, set_num_threads, thread_status  # noqa: F401
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .tensor import (BoolTensor, ByteTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor, Size, Tensor, allclose,
                     arange, as_tensor, asarray, bernoulli, cat, concat, concatenate, device, einsum, empty,
                     empty_like, equal, eye, from_numpy, full, full_like, get_default_dtype, hstack, initial_seed,
                     is_floating_point, is_tensor, isclose, linspace, logspace, manual_seed, meshgrid, multinomial,
                     normal, numel, ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like,
                     randperm, seed, set_default_dtype, stack, tensor, vstack, where, zeros, zeros_like)  # noqa: F401
from .tensor import write_out as _write_out


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


def set_workspace_limit(nbytes):
    """Bytes of reusable arrays each layer keeps between calls (default 64 MiB; the least recently used shapes
    go first when a model meets many batch sizes). Returns the previous limit."""
    from ._ext._pairs import set_workspace_limit as _set

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


from ._autocast import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: E402,F401


def compile(model=None, **kwargs):
    """torch.compile stand-in: returns the model unchanged (fastnn's kernels are already compiled)."""
    if model is None:
        return lambda m: m
    return model




# dtypes last: `float`, `int` and `bool` shadow the builtins in this namespace, as in torch's
from .tensor import (bool, double, float, float16, float32, float64, half, int, int8, int16, int32, int64, long, short,
                     uint8)  # noqa: E402,F811

__all__ = [_k for _k in list(globals()) if not _k.startswith("_") and _k != "ops"]
