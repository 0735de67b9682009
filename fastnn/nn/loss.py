"""Losses. ``loss = loss_fn(output, target)`` returns a Python float (an array for
reduction='none'); ``loss_fn.backward()`` returns d loss / d output (for 'none': of the sum)."""
import numpy as np

from .. import ops
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction: expected one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def __call__(self, output, target):
        return self.forward(output, target)

    def backward(self, grad=1.0, need_input_grad=True):
        if grad != 1.0:
            np.multiply(self._g, grad, out=self._g)
        return self._g

    def _output(self, output):
        output = np.asarray(output)
        if output.dtype not in (np.float32, np.float64):
            raise TypeError(f"{type(self).__name__}: output must be float32 or float64, got {output.dtype}")
        return output

    def _target(self, target, output):
        target = np.asarray(target)
        if target.shape != output.shape:
            raise ValueError(f"{type(self).__name__}: target shape {target.shape} does not match output "
                             f"shape {output.shape}")
        if target.dtype != output.dtype:
            buf = self._buf("t", target.shape, output.dtype)
            np.copyto(buf, target, casting="unsafe")
            target = buf
        return target

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits (N, C) and integer class targets (N,), fused and stable:
    loss_i = logsumexp(x_i) - (1 - eps) x_i[t_i] - eps/C sum_j x_ij, eps = label_smoothing."""

    def __init__(self, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing: expected a value in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, output, target):
        output = self._output(output)
        if output.ndim != 2:
            raise ValueError(f"CrossEntropyLoss: expected logits of shape (N, C), got {output.shape}")
        self._g = self._buf("g", output.shape, output.dtype)
        loss, _ = ops.cross_entropy(output, target, reduction=self.reduction,
                                    label_smoothing=self.label_smoothing, grad=self._g)
        return loss

    def extra_repr(self):
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, C) (e.g. a LogSoftmax output):
    loss = -mean_i x_i[t_i]."""

    def forward(self, output, target):
        output = self._output(output)
        if output.ndim != 2:
            raise ValueError(f"NLLLoss: expected log-probabilities of shape (N, C), got {output.shape}")
        n, c = output.shape
        t = np.asarray(target)
        if t.dtype.kind not in "iu":
            raise TypeError(f"target: expected integer class indices, got dtype {t.dtype}")
        if t.shape != (n,):
            raise ValueError(f"target: expected shape ({n},), got {t.shape}")
        if n and (t.min() < 0 or t.max() >= c):
            raise ValueError(f"target: class indices must lie in [0, {c})")
        rows = np.arange(n)
        picked = output[rows, t]
        scale = 1.0 / n if self.reduction == "mean" and n else 1.0
        self._g = g = self._buf("g", output.shape, output.dtype)
        g.fill(0)
        g[rows, t] = -scale
        if self.reduction == "none":
            return -picked
        s = -float(picked.sum(dtype=np.float64))
        return s * scale if self.reduction == "mean" else s


class MSELoss(_Loss):
    """mean (or sum) of (output - target)^2."""
    _op = staticmethod(ops.mse_loss)

    def forward(self, output, target):
        output = self._output(output)
        target = self._target(target, output)
        self._g = self._buf("g", output.shape, output.dtype)
        loss, _ = type(self)._op(output, target, reduction=self.reduction, grad=self._g)
        return loss


class L1Loss(MSELoss):
    """mean (or sum) of |output - target|."""
    _op = staticmethod(ops.l1_loss)


class BCEWithLogitsLoss(MSELoss):
    """Binary cross-entropy on logits, stable: mean of log(1 + e^x) - x t."""
    _op = staticmethod(ops.binary_cross_entropy_with_logits)
