"""Linear: y = x W^T + b, W of shape (out_features, in_features) as in PyTorch; Bilinear-free."""
import math

import numpy as np

from .._autocast import products_bf16
from .._autograd import _mode
from .._tensor_base import raw_writes
from .._ext._blas import pack_weight
from .._ext._pairs import linear_bwd, linear_fwd
from .._random import numpy_rng
from . import init as _init
from .._workspace import KIND_IDENTITY, KIND_LINEAR
from ..tensor import Tensor
from .module import Module, layer_call
from .parameter import Parameter
from .._checks import positive_int


class Linear(Module):
    """y = x @ weight.T + bias. x: (..., in_features) -> (..., out_features).

    init: "default" (PyTorch's: U(+-1/sqrt(in_features)) for weight and bias), or "he_normal",
    "he_uniform", "xavier_normal", "xavier_uniform", "lecun_normal", "normal" (the naive N(0, 1)),
    or a callable f(weight_array, numpy_rng). regularizer: a fastnn.regularizers penalty on the
    weight (L1, L2, ElasticNet). Biases start at U(+-1/sqrt(in_features)) with the
    default init and at 0 otherwise (the Keras convention for He/Xavier).

    Parameters
    ----------
    in_features : int
        Size of each input sample (the last axis).
    out_features : int
        Size of each output sample.
    bias : bool, default True
        Whether the layer learns an additive bias.
    init : str or callable, default 'default'
        Weight initialization: "default" (PyTorch's), "he_normal", "he_uniform", "xavier_normal", "xavier_uniform",
        "lecun_normal", "normal", or f(weight_array, numpy_rng).
    dtype : numpy dtype, default float32
        float32 or float64, for the parameters.
    rng : numpy.random.Generator or int, optional
        Source of the initial weights (default: fastnn's global generator, seeded by fastnn.manual_seed).
    regularizer : fastnn.regularizers penalty, optional
        L1, L2 or ElasticNet penalty on the weight, applied by the optimizer.
    device : str, optional
        Accepted for PyTorch's signature; only the CPU exists.

    Examples
    --------
    >>> layer = fastnn.nn.Linear(784, 300, init="he_normal")
    >>> layer(fastnn.randn(32, 784)).shape
    fastnn.Size([32, 300])
    """

    _native = True
    _chain = KIND_LINEAR     # the explicit chain runs it without Python (fastnn._ext._chain)
    _assigns_grads = True  # its backward honours accumulate=False
    _fan_layer = True      # a weight from fan_in to fan_out (what nn.init.lsuv_ rescales)

    def __init__(self, in_features, out_features, bias=True, *, init="default", dtype=np.float32, rng=None,
                 regularizer=None, device=None):
        super().__init__()
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self._dtype = np.dtype(dtype)
        if self._dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype: expected float32 or float64, got {self._dtype}")
        if not (callable(init) or init in _init.SCHEMES):
            raise ValueError(f"init: expected one of {sorted(_init.SCHEMES)} or a callable, got {init!r}")
        self._init = init
        g = numpy_rng(rng)
        w = np.empty((self.out_features, self.in_features), self._dtype)
        (init if callable(init) else _init.SCHEMES[init])(w, g)
        self.weight = Parameter(w, regularizer=regularizer)
        if bias:
            b = np.zeros(self.out_features, self._dtype)
            if init == "default":
                bound = 1 / math.sqrt(self.in_features)
                b[...] = g.uniform(-bound, bound, self.out_features)
            self.bias = Parameter(b, kind="bias")
        else:
            self.bias = None

    def reset_parameters(self, rng=None):
        g = numpy_rng(rng)
        init = self._init
        (init if callable(init) else _init.SCHEMES[init])(self.weight._a, g)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            self.bias._a[...] = g.uniform(-bound, bound, self.out_features) if init == "default" else 0

    @staticmethod
    def _state_shapes(cfg):
        """state_dict shapes from a config alone (checked before a checkpoint builds the layer)."""
        i, o = int(cfg["in_features"]), int(cfg["out_features"])
        return {"weight": (o, i), **({"bias": (o,)} if cfg.get("bias", True) else {})}

    def get_config(self):
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "dtype": str(self.weight.dtype)}

    def forward(self, x):
        return layer_call(self, x)

    def _fwd(self, x):
        w = self.weight._a
        x = self._input(x, w.dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}\u2192{self.out_features}) got input of shape "
                             f"{x.shape}; expected (batch, {self.in_features})")
        bf16 = products_bf16()
        return linear_fwd(x, w, self.bias._a if self.bias is not None else None, self._ws, bf16,
                          None if bf16 else self._packed())

    def _packed(self):
        """The weight packed for fastnn's products, for inference -- in eval mode under no_grad (or
        inference_mode) -- kept across calls while the weight is the same array at the same version:
        an optimizer step, an in-place op, ``.data =``, load_state_dict or train() / eval() make it pack again.
        (Writes through ``weight.numpy()`` bypass version counters: call ``model.eval()`` after them.)
        Saves repacking the whole weight on every call: a batch-1 product is mostly that."""
        if self.training or _mode.enabled:
            return None
        w = self.weight
        ver = (w._ver[0] if w._ver is not None else 0, raw_writes[0])
        pk = self.__dict__.get("_pk")
        if pk is None or pk[0] is not w._a or pk[1] != ver:
            pk = self.__dict__["_pk"] = (w._a, ver, pack_weight(w._a))
        return pk[2]

    def _bwd(self, x, g, need_input_grad, accumulate=True):
        w, b = self.weight, self.bias
        nb = b is not None and b.requires_grad
        return linear_bwd(x, g, w._a, w._g if w.requires_grad else None, b._g if nb else None, need_input_grad,
                          accumulate, self._ws)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """y = x (any arguments accepted and ignored, as PyTorch).

    Parameters
    ----------
    *args : any
        Accepted and ignored (PyTorch's signature).
    """

    _native = True
    _chain = KIND_IDENTITY

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x if isinstance(x, Tensor) else layer_call(self, x)

    def _fwd(self, x):
        return x, None

    def _bwd(self, ctx, g, need_input_grad, accumulate=True):
        return g
