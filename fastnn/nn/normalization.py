"""Batch normalization (Ioffe & Szegedy 2015) with PyTorch's semantics."""
import numpy as np

from .. import ops
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """Training: per-channel batch mean and (biased) variance normalize x; running statistics are
    updated as r = (1 - momentum) r + momentum s, with the unbiased variance (momentum=None: the
    cumulative average, as PyTorch). Eval: the running statistics. y = gamma x_hat + beta."""

    _ndims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 dtype=np.float32):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"num_features: expected a positive int, got {num_features!r}")
        if not eps > 0:
            raise ValueError(f"eps: expected > 0, got {eps}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"momentum: expected a value in [0, 1] or None, got {momentum}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self._dtype = np.dtype(dtype)
        C = self.num_features
        self.weight = Parameter(np.ones(C, dtype), kind="norm") if affine else None
        self.bias = Parameter(np.zeros(C, dtype), kind="norm") if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(C, dtype))
            self.register_buffer("running_var", np.ones(C, dtype))
            self.register_buffer("num_batches_tracked", np.array(0, np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def get_config(self):
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "track_running_stats": self.track_running_stats,
                "dtype": str(self._dtype)}

    def _check(self, x):
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            want = " or ".join(f"{d}-D" for d in self._ndims)
            raise ValueError(f"{type(self).__name__}({self.num_features}) got input of shape {x.shape}; "
                             f"expected {want} input with {self.num_features} channels on axis 1")

    def forward(self, x):
        dtype = self.weight.dtype if self.affine else self._dtype
        x = self._input(x, dtype)
        self._check(x)
        C = self.num_features
        y = self._buf("y", x.shape, dtype)
        mean, invstd = self._buf("mean", (C,), dtype), self._buf("invstd", (C,), dtype)
        w = self.weight.data if self.affine else None
        b = self.bias.data if self.affine else None
        self._batch_stats = self.training or not self.track_running_stats
        if self._batch_stats:
            momentum = self.momentum
            if self.training and self.track_running_stats:
                self.num_batches_tracked[...] += 1
                if momentum is None:
                    momentum = 1.0 / float(self.num_batches_tracked)
            ops.batch_norm(x, w, b, self.running_mean if self.training else None,
                           self.running_var if self.training else None, training=True,
                           momentum=momentum or 0.0, eps=self.eps, out=y, return_stats=True,
                           save_mean=mean, save_invstd=invstd)
        else:
            ops.batch_norm(x, w, b, self.running_mean, self.running_var, training=False, eps=self.eps,
                           out=y)
            mean[...] = self.running_mean
            np.add(self.running_var, self.eps, out=invstd)
            np.sqrt(invstd, out=invstd)
            np.divide(1, invstd, out=invstd)
        self._x, self._mean, self._invstd = x, mean, invstd
        return y

    def backward(self, grad_out, need_input_grad=True):
        C, dtype = self.num_features, self._x.dtype
        gx = self._buf("gx", self._x.shape, dtype) if need_input_grad else None
        trainable = self.affine and self.weight.requires_grad
        gw = self.weight.grad if trainable else self._buf("gw", (C,), dtype)
        gb = self.bias.grad if trainable else self._buf("gb", (C,), dtype)
        ops.batch_norm_backward(grad_out, self._x, self.weight.data if self.affine else None, self._mean,
                                self._invstd, training=self._batch_stats, need_input_grad=need_input_grad,
                                grad_weight=gw, grad_bias=gb, accumulate=trainable, grad_input=gx)
        return gx

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input, statistics per channel C."""
    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input, statistics per channel C."""
    _ndims = (4,)
