"""Weight initialization with PyTorch's formulas (torch.nn.init). Each function fills an array or a
Parameter in place and returns it; ``rng`` is None (the global generator, see fastnn.manual_seed), an
int seed, or a numpy Generator, so initialization is reproducible.

The course's variance-preserving schemes: Xavier/Glorot (Var = 2 / (fan_in + fan_out), for sigmoid
and tanh) and He/Kaiming (Var = 2 / fan_in, for ReLU); the naive N(0, 1) reproduces the vanishing /
exploding-gradient problem.
"""
import math

import numpy as np

from .._random import numpy_rng
from .parameter import Parameter


def _arr(w):
    a = w.data if isinstance(w, Parameter) else w
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        raise TypeError(f"tensor: expected a float array or Parameter, got {type(w).__name__}")
    return a


def _fill(w, values):
    _arr(w)[...] = values
    return w


def calculate_gain(nonlinearity, param=None):
    """Recommended gain: linear/sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + a^2))
    (a = param, default 0.01), selu 3/4."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else param
        if isinstance(a, bool) or not isinstance(a, (int, float)):
            raise ValueError(f"param: expected a number, got {a!r}")
        return math.sqrt(2.0 / (1 + a * a))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"nonlinearity: unsupported {nonlinearity!r}")


def calculate_fan_in_and_fan_out(w):
    a = _arr(w)
    if a.ndim < 2:
        raise ValueError(f"tensor: fan in and fan out need at least 2 dimensions, got shape {a.shape}")
    receptive = int(np.prod(a.shape[2:])) if a.ndim > 2 else 1
    return a.shape[1] * receptive, a.shape[0] * receptive


def _fan(w, mode):
    fi, fo = calculate_fan_in_and_fan_out(w)
    if mode == "fan_in":
        return fi
    if mode == "fan_out":
        return fo
    raise ValueError(f"mode: expected 'fan_in' or 'fan_out', got {mode!r}")


def uniform_(w, a=0.0, b=1.0, rng=None):
    """U(a, b)."""
    return _fill(w, numpy_rng(rng).uniform(a, b, _arr(w).shape))


def normal_(w, mean=0.0, std=1.0, rng=None):
    """N(mean, std^2); the default N(0, 1) is the naive initialization the course starts from."""
    return _fill(w, numpy_rng(rng).normal(mean, std, _arr(w).shape))


def zeros_(w):
    return _fill(w, 0)


def ones_(w):
    return _fill(w, 1)


def constant_(w, val):
    return _fill(w, val)


def xavier_uniform_(w, gain=1.0, rng=None):
    """U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fi, fo = calculate_fan_in_and_fan_out(w)
    a = gain * math.sqrt(6.0 / (fi + fo))
    return uniform_(w, -a, a, rng)


def xavier_normal_(w, gain=1.0, rng=None):
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fi, fo = calculate_fan_in_and_fan_out(w)
    return normal_(w, 0.0, gain * math.sqrt(2.0 / (fi + fo)), rng)


def kaiming_uniform_(w, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    """U(-b, b), b = gain * sqrt(3 / fan) (He et al. 2015), gain = calculate_gain(nonlinearity, a)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(w, mode))
    b = math.sqrt(3.0) * std
    return uniform_(w, -b, b, rng)


def kaiming_normal_(w, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    """N(0, std^2), std = gain / sqrt(fan): Var = 2 / fan_in for ReLU."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(w, mode))
    return normal_(w, 0.0, std, rng)


def lecun_normal_(w, rng=None):
    """N(0, 1 / fan_in) (LeCun; the SELU companion)."""
    fi, _ = calculate_fan_in_and_fan_out(w)
    return normal_(w, 0.0, math.sqrt(1.0 / fi), rng)


# Linear(init=...) names
SCHEMES = {
    "he_normal": lambda w, rng: kaiming_normal_(w, nonlinearity="relu", rng=rng),
    "he_uniform": lambda w, rng: kaiming_uniform_(w, nonlinearity="relu", rng=rng),
    "kaiming_normal": lambda w, rng: kaiming_normal_(w, nonlinearity="relu", rng=rng),
    "kaiming_uniform": lambda w, rng: kaiming_uniform_(w, nonlinearity="relu", rng=rng),
    "xavier_normal": lambda w, rng: xavier_normal_(w, rng=rng),
    "xavier_uniform": lambda w, rng: xavier_uniform_(w, rng=rng),
    "glorot_normal": lambda w, rng: xavier_normal_(w, rng=rng),
    "glorot_uniform": lambda w, rng: xavier_uniform_(w, rng=rng),
    "lecun_normal": lambda w, rng: lecun_normal_(w, rng=rng),
    "normal": lambda w, rng: normal_(w, 0.0, 1.0, rng),
    "default": lambda w, rng: kaiming_uniform_(w, a=math.sqrt(5), rng=rng),  # PyTorch's Linear
}
