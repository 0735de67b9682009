"""Weight initialization with PyTorch's formulas (torch.nn.init). Each function fills an array or a
Parameter (or tensor, or array) in place, without recording a graph, and returns it; ``rng`` (or
PyTorch's ``generator``) is None (the global generator, see fastnn.manual_seed), an int seed, a
fastnn.Generator or a numpy Generator, so initialization is reproducible.

The course's variance-preserving schemes: Xavier/Glorot (Var = 2 / (fan_in + fan_out), for sigmoid
and tanh) and He/Kaiming (Var = 2 / fan_in, for ReLU); the naive N(0, 1) reproduces the vanishing /
exploding-gradient problem.
"""
import math

import numpy as np

from .._random import numpy_rng
from ..tensor import Tensor
from .._checks import positive_int


def _arr(w):
    """The array to fill in place (a tensor's or parameter's storage; never recorded on the graph)."""
    a = w._a if isinstance(w, Tensor) else w
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        raise TypeError(f"tensor: expected a float tensor, Parameter or array, got {type(w).__name__}")
    return a


def _drawable(arr):
    """Whether numpy's Generator can draw straight into arr (out=)."""
    return arr.dtype in (np.float32, np.float64) and arr.flags.c_contiguous and arr.flags.writeable


def _fill(w, values):
    _arr(w)[...] = _arr(values) if isinstance(values, Tensor) else values
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


def uniform_(w, a=0.0, b=1.0, rng=None, generator=None):
    """U(a, b), drawn in place in the array's own dtype (no temporary of double size)."""
    g, arr = numpy_rng(rng if rng is not None else generator), _arr(w)
    if not _drawable(arr):
        return _fill(w, g.uniform(a, b, arr.shape))
    g.random(dtype=arr.dtype, out=arr)
    arr *= b - a
    arr += a
    return w


def normal_(w, mean=0.0, std=1.0, rng=None, generator=None):
    """N(mean, std^2); the default N(0, 1) is the naive initialization the course starts from."""
    g, arr = numpy_rng(rng if rng is not None else generator), _arr(w)
    if not _drawable(arr):
        return _fill(w, g.normal(mean, std, arr.shape))
    g.standard_normal(dtype=arr.dtype, out=arr)
    arr *= std
    arr += mean
    return w


def zeros_(w):
    return _fill(w, 0)


def ones_(w):
    return _fill(w, 1)


def constant_(w, val):
    return _fill(w, val)


def xavier_uniform_(w, gain=1.0, rng=None, generator=None):
    """U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fi, fo = calculate_fan_in_and_fan_out(w)
    a = gain * math.sqrt(6.0 / (fi + fo))
    return uniform_(w, -a, a, rng, generator)


def xavier_normal_(w, gain=1.0, rng=None, generator=None):
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fi, fo = calculate_fan_in_and_fan_out(w)
    return normal_(w, 0.0, gain * math.sqrt(2.0 / (fi + fo)), rng, generator)


def kaiming_uniform_(w, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None, generator=None):
    """U(-b, b), b = gain * sqrt(3 / fan) (He et al. 2015), gain = calculate_gain(nonlinearity, a)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(w, mode))
    b = math.sqrt(3.0) * std
    return uniform_(w, -b, b, rng, generator)


def kaiming_normal_(w, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None, generator=None):
    """N(0, std^2), std = gain / sqrt(fan): Var = 2 / fan_in for ReLU."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(w, mode))
    return normal_(w, 0.0, std, rng, generator)


def lecun_normal_(w, rng=None, generator=None):
    """N(0, 1 / fan_in) (LeCun; the SELU companion)."""
    fi, _ = calculate_fan_in_and_fan_out(w)
    return normal_(w, 0.0, math.sqrt(1.0 / fi), rng, generator)


def trunc_normal_(w, mean=0.0, std=1.0, a=-2.0, b=2.0, rng=None, generator=None):
    """N(mean, std^2) truncated to [a, b] (redrawn until inside)."""
    g = numpy_rng(rng if rng is not None else generator)
    arr = _arr(w)
    v = g.normal(mean, std, arr.shape)
    bad = (v < a) | (v > b)
    while bad.any():
        v[bad] = g.normal(mean, std, int(bad.sum()))
        bad = (v < a) | (v > b)
    return _fill(w, v)


def orthogonal_(w, gain=1.0, rng=None, generator=None):
    """A (semi-)orthogonal matrix (rows or columns orthonormal) times gain (Saxe et al. 2013); the
    trailing dimensions are flattened, as PyTorch."""
    arr = _arr(w)
    if arr.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    rows, cols = arr.shape[0], arr.size // arr.shape[0]
    flat = numpy_rng(rng if rng is not None else generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(w, gain * q.reshape(arr.shape))


def eye_(w):
    arr = _arr(w)
    if arr.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(w, np.eye(*arr.shape))


def dirac_(w, groups=1):
    """Identity-preserving convolution weights ``(out, in, *k)``: the centre tap of channel i -> i is 1."""
    arr = _arr(w)
    if arr.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    arr[...] = 0
    out_g = arr.shape[0] // groups
    centre = tuple(k // 2 for k in arr.shape[2:])
    for g in range(groups):
        for d in range(min(out_g, arr.shape[1])):
            arr[(g * out_g + d, d) + centre] = 1
    return w


def lsuv_(model, X, tol=0.1, max_iter=10, rng=None):
    """Layer-sequential unit-variance initialization (Mishkin & Matas 2016): every Linear and Conv
    layer gets an orthonormal weight matrix and zero bias, then, from the input up, its weights are
    rescaled until the variance of its output on the batch X is within `tol` of 1 (at most max_iter
    rescalings per layer). Data-dependent: X should be a representative batch (a few hundred samples).
    Runs without recording gradients, in the model's current mode (restored); returns the model."""
    from ..autograd import no_grad
    from ..tensor import _wrap

    if not 0 < tol < 1:
        raise ValueError(f"tol: expected a number in (0, 1), got {tol!r}")
    max_iter = positive_int(max_iter, "max_iter")
    layers = [m for m in model.modules() if getattr(type(m), "_fan_layer", False)]  # Linear, Conv1d/2d
    if not layers:
        raise ValueError("model: no Linear or Conv layer to initialize")
    x = _wrap(np.asarray(X.numpy() if isinstance(X, Tensor) else X))
    seen = {}
    for m in layers:
        orthogonal_(m.weight, rng=rng)
        if m.bias is not None:
            zeros_(m.bias)
    hooks = [m.register_forward_hook(lambda mod, i, o: seen.__setitem__(id(mod), o)) for m in layers]
    try:
        with no_grad():
            for m in layers:
                for _ in range(int(max_iter)):
                    seen.clear()
                    model(x)
                    var = float(np.var(np.asarray(seen[id(m)].numpy(), np.float64)))
                    if not np.isfinite(var) or var == 0 or abs(var - 1.0) < tol:
                        break
                    w = m.weight._a
                    w *= (1.0 / math.sqrt(var))
    finally:
        for h in hooks:
            h.remove()
    return model


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
