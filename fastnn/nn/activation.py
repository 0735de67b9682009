"""Activation modules (PyTorch names and defaults). The course's ranking for deep nets:
ELU > LeakyReLU variants > ReLU > tanh > sigmoid; LeakyReLU is the fastest at run time, RReLU helps
against overfitting, PReLU suits large training sets. ``inplace=True`` writes the result into the input
tensor, as in PyTorch (on NumPy arrays, in the explicit chain, layers compute out of place)."""
import numpy as np

from .._random import default_generator, stream_seed
from .._ext import _pairs as U
from .._pairs import prelu_bwd, prelu_fwd, rrelu_bwd, rrelu_fwd
from .._ext._pairs import unary_bwd, unary_fwd
from .._workspace import KIND_UNARY
from ..tensor import Tensor, apply_inplace
from .linear import Identity
from .module import Module, layer_call
from .parameter import Parameter
from .._checks import positive_int


def _float(m, x):
    """x as a float array (integer input is converted to float32)."""
    if x.dtype.kind == "f" and x.dtype in (np.float32, np.float64):
        return x
    return m._input(x, np.float32)


class _Elementwise(Module):
    """y = f(x) through the unary kernel pair (fastnn._ext._pairs); backward from the input x, or from
    the output y when _from_output."""

    _native = True
    _chain = KIND_UNARY  # the explicit chain runs it without Python (fastnn._ext._chain)
    _op = None           # its kernel's code (fnn_unary)
    _from_output = False

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = bool(inplace)

    def _args(self):
        return ()

    def _kernel_args(self):
        """(kernel code, a, b, from_output): what the kernel pair takes (the chain protocol)."""
        args = self._args()
        return self._op, (args[0] if args else 0.0), (args[1] if len(args) > 1 else 0.0), self._from_output

    def forward(self, x):
        if self.inplace and isinstance(x, Tensor):  # torch's inplace=True: the input tensor holds the result
            return apply_inplace(x, lambda s: layer_call(self, s))
        return layer_call(self, x)

    def _fwd(self, x):
        op, a, b, from_output = self._kernel_args()
        return unary_fwd(op, a, b, from_output, _float(self, x), self._ws)

    def _bwd(self, v, g, need_input_grad, accumulate=True):
        op, a, b, _ = self._kernel_args()
        return unary_bwd(op, a, b, v, g, self._ws)


class Sigmoid(_Elementwise):
    """sigma(x) = 1 / (1 + e^-x). Saturates at 0 and 1: the vanishing-gradient culprit.

    Parameters
    ----------
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
    _from_output, _op = True, U.SIGMOID


class Tanh(_Elementwise):
    """tanh(x).

    Parameters
    ----------
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
    _from_output, _op = True, U.TANH


class ReLU(_Elementwise):
    """max(0, x). Units whose input stays negative stop learning (dying ReLU).

    Parameters
    ----------
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
    _op = U.RELU


class LeakyReLU(_Elementwise):
    """max(alpha x, x), alpha = negative_slope (default 0.01).

    Parameters
    ----------
    negative_slope : float, default 0.01
        Slope for negative inputs.
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
    _op = U.LEAKY_RELU
    _config_keys = ("negative_slope",)

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__(inplace)
        self.negative_slope = float(negative_slope)

    def _args(self):
        return (self.negative_slope,)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(_Elementwise):
    """alpha (e^x - 1) for x < 0, x otherwise (alpha = 1).

    Parameters
    ----------
    alpha : float, default 1.0
        The negative saturation: alpha (exp(x) - 1) for x < 0.
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
    _op = U.ELU
    _config_keys = ("alpha",)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__(inplace)
        self.alpha = float(alpha)

    def _args(self):
        return (self.alpha,)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class SELU(_Elementwise):
    """scale * ELU_alpha(x), alpha = 1.67326..., scale = 1.05070... (self-normalizing).

    Parameters
    ----------
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
    _op = U.SELU


class SiLU(_Elementwise):
    """x * sigmoid(x).

    Parameters
    ----------
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
    _op = U.SILU


class GELU(_Elementwise):
    """x Phi(x); approximate='tanh' uses the tanh form.

    Parameters
    ----------
    approximate : str, default 'none'
        "none" (exact, with erf) or "tanh" (the tanh approximation).
    """

    _config_keys = ("approximate",)
    _chain = KIND_UNARY

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def _kernel_args(self):
        return (U.GELU_TANH if self.approximate == "tanh" else U.GELU), 0.0, 0.0, False

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(_Elementwise):
    """log(1 + e^(beta x)) / beta, linear above threshold.

    Parameters
    ----------
    beta : float, default 1.0
        Sharpness: log(1 + exp(beta x)) / beta.
    threshold : float, default 20.0
        Above beta x > threshold the output is x (numerical stability).
    """
    _op = U.SOFTPLUS
    _config_keys = ("beta", "threshold")

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        if not beta > 0:
            raise ValueError(f"beta: expected > 0, got {beta}")
        self.beta, self.threshold = float(beta), float(threshold)

    def _args(self):
        return (self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class _Functional(Module):
    """A module applying a fastnn.nn.functional op (no kernel pair: tensors only, via autograd)."""

    def forward(self, x):
        from . import functional as F

        if not isinstance(x, Tensor):
            from ..tensor import as_tensor
            x = as_tensor(x)
        return self._apply(F, x)


class Hardtanh(_Functional):
    """clamp(x, min_val, max_val).

    Parameters
    ----------
    min_val : float, default -1.0
        Lower bound of the linear region.
    max_val : float, default 1.0
        Upper bound of the linear region.
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
    _config_keys = ("min_val", "max_val")

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.min_val, self.max_val = float(min_val), float(max_val)

    def _apply(self, F, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """min(max(0, x), 6).

    Parameters
    ----------
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
    _config_keys = ()

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0)


class Softsign(_Functional):
    """x / (1 + abs(x))."""

    def _apply(self, F, x):
        return F.softsign(x)


class LogSigmoid(_Functional):
    """log sigmoid(x), stable."""

    def _apply(self, F, x):
        return F.logsigmoid(x)


class Mish(_Functional):
    """x tanh(softplus(x))."""

    def _apply(self, F, x):
        return F.mish(x)


class CELU(_Functional):
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1)).

    Parameters
    ----------
    alpha : float, default 1.0
        max(0, x) + min(0, alpha (exp(x / alpha) - 1)).
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
    _config_keys = ("alpha",)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = float(alpha)

    def _apply(self, F, x):
        return F.celu(x, self.alpha)


class Hardsigmoid(_Functional):
    """clamp(x / 6 + 1/2, 0, 1).

    Parameters
    ----------
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """

    def __init__(self, inplace=False):
        super().__init__()

    def _apply(self, F, x):
        return F.hardsigmoid(x)


class Hardswish(Hardsigmoid):
    """x hardsigmoid(x).

    Parameters
    ----------
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """

    def _apply(self, F, x):
        return F.hardswish(x)


class Threshold(_Functional):
    """x where x > threshold, value elsewhere.

    Parameters
    ----------
    threshold : float
        Inputs at or below it are replaced.
    value : float
        What replaces them.
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
    _config_keys = ("threshold", "value")

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value = float(threshold), float(value)

    def _apply(self, F, x):
        return F.threshold(x, self.threshold, self.value)


class GLU(_Functional):
    """a * sigmoid(b) for the two halves a, b of x along dim.

    Parameters
    ----------
    dim : int, default -1
        The axis split in halves (a * sigmoid(b)).
    """
    _config_keys = ("dim",)

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def _apply(self, F, x):
        return F.glu(x, self.dim)


class CosineSimilarity(_Functional):
    """cosine_similarity(x1, x2, dim).

    Parameters
    ----------
    dim : int, default 1
        The axis of the vectors.
    eps : float, default 1e-08
        Lower bound of the norms (no division by zero).
    """
    _config_keys = ("dim", "eps")

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        from . import functional as F

        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(_Functional):
    """||x1 - x2 + eps||_p along the last axis.

    Parameters
    ----------
    p : float, default 2.0
        The norm's degree.
    eps : float, default 1e-06
        Added to the difference (no zero norm).
    keepdim : bool, default False
        Keep the reduced axis with size 1.
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def get_config(self):
        return {"p": self.norm, "eps": self.eps, "keepdim": self.keepdim}

    def forward(self, x1, x2):
        from . import functional as F

        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class Softmax(_Functional):
    """exp(x) / sum exp(x) along dim.

    Parameters
    ----------
    dim : int, default None
        The axis over which the outputs sum to 1.
    """
    _config_keys = ("dim",)

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def _apply(self, F, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log softmax along dim (pair with NLLLoss).

    Parameters
    ----------
    dim : int, default None
        The axis normalized over.
    """

    def _apply(self, F, x):
        return F.log_softmax(x, self.dim)


class Softmin(Softmax):
    """softmax(-x) along dim.

    Parameters
    ----------
    dim : int, default None
        The axis over which the outputs sum to 1.
    """

    def _apply(self, F, x):
        return F.softmin(x, self.dim)


class _Random(Module):
    """A layer with a counter-based random stream: a base seed drawn from the global generator at
    construction (or set by manual_seed), and one Philox key per training call (kept in the call's
    context, so backward regenerates the same mask even when the layer was called again since)."""

    _native = True

    def __init__(self):
        super().__init__()
        self._base = default_generator.next_seed()
        self._calls = 0

    def manual_seed(self, seed):
        """Set this layer's base seed (its stream restarts)."""
        self._base = int(seed) & ((1 << 64) - 1)
        self._calls = 0
        return self

    def _next(self):
        self._calls += 1
        return stream_seed(self._base, self._calls)

    def forward(self, x):
        if getattr(self, "inplace", False) and isinstance(x, Tensor):
            return apply_inplace(x, lambda s: layer_call(self, s))
        return layer_call(self, x)


class RReLU(_Random):
    """Randomized leaky ReLU (Xu et al. 2015): slope a ~ U(lower, upper) per element while training
    (regenerated in backward from the same key, never stored), (lower + upper) / 2 in eval.

    Parameters
    ----------
    lower : float, default 0.125
        Lowest random slope for negative inputs (training).
    upper : float, default 0.3333333333333333
        Highest random slope for negative inputs (training); eval uses (lower + upper) / 2.
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """

    _config_keys = ("lower", "upper")

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        if not 0 <= lower <= upper:
            raise ValueError(f"lower, upper: expected 0 <= lower <= upper, got {lower}, {upper}")
        self.lower, self.upper = float(lower), float(upper)

    def _fwd(self, x):
        tr = self.training
        return rrelu_fwd(_float(self, x), self.lower, self.upper, tr, self._next() if tr else 0, self._ws)

    def _bwd(self, ctx, g, need_input_grad, accumulate=True):
        return rrelu_bwd(ctx, g, self._ws)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}"


class PReLU(Module):
    """max(0, x) + a min(0, x) with a learned: one value, or num_parameters (one per channel, axis 1).
    PyTorch's default init 0.25.

    Parameters
    ----------
    num_parameters : int, default 1
        1 (one slope shared) or the number of channels (one slope each).
    init : float, default 0.25
        Initial slope for negative inputs.
    dtype : numpy dtype, default float32
        float32 or float64, for the parameters.
    device : str, optional
        Accepted for PyTorch's signature; only the CPU exists.
    """

    _native = True
    _assigns_grads = True  # its backward honours accumulate=False

    def __init__(self, num_parameters=1, init=0.25, dtype=np.float32, device=None):
        super().__init__()
        self.num_parameters = positive_int(num_parameters, "num_parameters")
        self.weight = Parameter(np.full(self.num_parameters, init, dtype), kind="norm")

    @staticmethod
    def _state_shapes(cfg):
        return {"weight": (int(cfg.get("num_parameters", 1)),)}

    def get_config(self):
        return {"num_parameters": self.num_parameters, "dtype": str(self.weight.dtype)}

    def forward(self, x):
        return layer_call(self, x)

    def _fwd(self, x):
        w = self.weight._a
        x = self._input(x, w.dtype)
        if self.num_parameters > 1 and (x.ndim < 2 or x.shape[1] != self.num_parameters):
            raise ValueError(f"PReLU(num_parameters={self.num_parameters}) got input of shape {x.shape}; "
                             f"expected {self.num_parameters} channels on axis 1")
        return prelu_fwd(x, w, self._ws)

    def _bwd(self, x, g, need_input_grad, accumulate=True):
        w = self.weight
        return prelu_bwd(x, g, w._a, w._g if w.requires_grad else None, need_input_grad, accumulate, self._ws)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


# activations by name: the scikit-learn estimators' and the autoencoders' activation="..."
BY_NAME = {"elu": ELU, "relu": ReLU, "leaky_relu": LeakyReLU, "selu": SELU, "gelu": GELU, "tanh": Tanh,
           "sigmoid": Sigmoid, "logistic": Sigmoid, "silu": SiLU, "identity": Identity}

__all__ = ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "SELU", "SiLU", "GELU", "Softplus", "Hardtanh", "ReLU6",
           "Softsign", "LogSigmoid", "Mish", "CELU", "Hardsigmoid", "Hardswish", "Threshold", "GLU",
           "CosineSimilarity", "PairwiseDistance", "Softmax", "LogSoftmax", "Softmin", "RReLU", "PReLU"]
