"""Linear: y = x W^T + b, W of shape (out_features, in_features) as in PyTorch."""
import math

import numpy as np

from .. import ops
from .._random import numpy_rng
from . import init as _init
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """y = x @ weight.T + bias. x: (..., in_features) -> (..., out_features).

    init: "default" (PyTorch's: U(+-1/sqrt(in_features)) for weight and bias), or "he_normal",
    "he_uniform", "xavier_normal", "xavier_uniform", "lecun_normal", "normal" (the naive N(0, 1)),
    or a callable f(weight_array, numpy_rng). regularizer: a fastnn.regularizers penalty on the
    weight (L1, L2, ElasticNet). Biases start at U(+-1/sqrt(in_features)) with the
    default init and at 0 otherwise (the Keras convention for He/Xavier).
    """

    def __init__(self, in_features, out_features, bias=True, *, init="default", dtype=np.float32, rng=None,
                 regularizer=None):
        super().__init__()
        for nm, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{nm}: expected a positive int, got {v!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self._dtype = np.dtype(dtype)
        self._init = init
        g = numpy_rng(rng)
        w = np.empty((self.out_features, self.in_features), self._dtype)
        if callable(init):
            init(w, g)
        elif init in _init.SCHEMES:
            _init.SCHEMES[init](w, g)
        else:
            raise ValueError(f"init: expected one of {sorted(_init.SCHEMES)} or a callable, got {init!r}")
        self.weight = Parameter(w, regularizer=regularizer)
        if bias:
            b = np.zeros(self.out_features, self._dtype)
            if init == "default":
                bound = 1 / math.sqrt(self.in_features)
                b[...] = g.uniform(-bound, bound, self.out_features)
            self.bias = Parameter(b, kind="bias")
        else:
            self.bias = None

    def get_config(self):
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "dtype": str(self.weight.dtype)}

    def forward(self, x):
        x = self._input(x, self.weight.dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}\u2192{self.out_features}) got input of shape "
                             f"{x.shape}; expected (batch, {self.in_features})")
        y = self._buf("y", x.shape[:-1] + (self.out_features,), x.dtype)
        ops.linear(x, self.weight.data, self.bias.data if self.bias is not None else None, out=y)
        self._x = x
        return y

    def backward(self, grad_out, need_input_grad=True):
        w, b = self.weight, self.bias
        gx = self._buf("gx", self._x.shape, self._x.dtype) if need_input_grad else None
        nb = b is not None and b.requires_grad
        ops.linear_backward(grad_out, self._x, w.data, need_input_grad=need_input_grad,
                            need_weight_grad=w.requires_grad, need_bias_grad=nb, grad_input=gx,
                            grad_weight=w.grad, grad_bias=b.grad if nb else None, accumulate=True)
        return gx

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
