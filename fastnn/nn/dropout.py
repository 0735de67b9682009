"""Dropout (Hinton et al. 2012): inverted dropout while training, identity in eval."""
import numpy as np

from .. import ops
from .activation import _Random


class Dropout(_Random):
    """Each element zeroed with probability p while training, the others scaled by 1 / (1 - p), so
    nothing changes at inference. A fresh mask every call, from a counter-based generator: the mask
    is regenerated in backward, never stored, and is reproducible from the model's seed."""

    _config_keys = ("p",)

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p: expected a probability in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x):
        self._active = self.training and self.p > 0
        if not self._active:
            return x
        x = np.asarray(x)
        y = self._buf("y", x.shape, x.dtype)
        self._seed = self._next()
        return ops.dropout(x, self.p, seed=self._seed, out=y)

    def backward(self, grad_out, need_input_grad=True):
        if not self._active:
            return grad_out
        gx = self._buf("gx", grad_out.shape, grad_out.dtype)
        return ops.dropout_backward(grad_out, self.p, seed=self._seed, out=gx)

    def extra_repr(self):
        return f"p={self.p}"
