"""Batch normalization (Ioffe & Szegedy 2015) with PyTorch's semantics."""
import numpy as np

from .. import ops
from .._pairs import batch_norm_bwd, batch_norm_fwd
from .module import Module, layer_call
from .parameter import Parameter
from .._checks import positive_int
from .._docs import parameters

_BATCHNORM_PARAMETERS = """Parameters
----------
num_features : int
    Channels C of the input (N, C, ...).
eps : float, default 1e-05
    Added to the variance for numerical stability.
momentum : float or None, default 0.1
    Weight of the new batch in the running estimates (None: their cumulative average).
affine : bool, default True
    Learn a per-channel scale (weight) and shift (bias).
track_running_stats : bool, default True
    Keep running estimates of mean and variance for eval mode.
dtype : numpy dtype, default float32
    float32 or float64, for the parameters.
device : str, optional
    Accepted for PyTorch's signature; only the CPU exists.
"""


class _BatchNorm(Module):
    """Training: per-channel batch mean and (biased) variance normalize x; running statistics are
    updated as r = (1 - momentum) r + momentum s, with the unbiased variance (momentum=None: the
    cumulative average, as PyTorch). Eval: the running statistics. y = gamma x_hat + beta.

    A training batch needs more than one value per channel (as PyTorch): the call is refused before
    any state changes."""

    _native = True
    _assigns_grads = True  # its backward honours accumulate=False
    _ndims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 dtype=np.float32, device=None):
        super().__init__()
        positive_int(num_features, "num_features")
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

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._a[...] = 0
            self.running_var._a[...] = 1
            self.num_batches_tracked._a[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight._a[...] = 1
            self.bias._a[...] = 0

    @staticmethod
    def _state_shapes(cfg):
        c = int(cfg["num_features"])
        out = {"weight": (c,), "bias": (c,)} if cfg.get("affine", True) else {}
        if cfg.get("track_running_stats", True):
            out.update(running_mean=(c,), running_var=(c,), num_batches_tracked=())
        return out

    def get_config(self):
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "track_running_stats": self.track_running_stats,
                "dtype": str(self._dtype)}

    def _check(self, x):
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            want = " or ".join(f"{d}-D" for d in self._ndims)
            raise ValueError(f"{type(self).__name__}({self.num_features}) got input of shape {x.shape}; "
                             f"expected {want} input with {self.num_features} channels on axis 1")
        if self._batch_mode() and x.size // max(x.shape[1], 1) <= 1:
            raise ValueError(f"{type(self).__name__}: expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape} (drop or merge a last batch of one sample: "
                             "DataLoader(drop_last=True), or fit, which merges it)")

    def forward(self, x):
        return layer_call(self, x)

    def _batch_mode(self):
        """Training mode and not frozen: normalize with the batch's statistics and update the running ones."""
        return self.training and not self.__dict__.get("_frozen", False)

    def _fwd(self, x):
        dtype = self.weight._a.dtype if self.affine else self._dtype
        x = self._input(x, dtype)
        self._check(x)
        w = self.weight._a if self.affine else None
        b = self.bias._a if self.affine else None
        rm = self.running_mean._a if self.track_running_stats else None
        rv = self.running_var._a if self.track_running_stats else None
        training = self._batch_mode()
        momentum = self.momentum
        if training and self.track_running_stats:
            nbt = self.num_batches_tracked._a
            nbt[...] += 1
            if momentum is None:
                momentum = 1.0 / float(nbt)
        return batch_norm_fwd(x, w, b, rm, rv, training or not self.track_running_stats, momentum, self.eps,
                              self._ws)

    def _bwd(self, ctx, g, need_input_grad, accumulate=True):
        trainable = self.affine and self.weight.requires_grad
        if not trainable and not need_input_grad:
            return None
        return batch_norm_bwd(ctx, g, self.weight._a if self.affine else None, self.weight._g if trainable else None,
                              self.bias._g if trainable else None, need_input_grad, trainable and accumulate, self._ws)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


@parameters(_BATCHNORM_PARAMETERS)
class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input, statistics per channel C.

    Examples
    --------
    >>> model = fastnn.nn.Sequential(fastnn.nn.Linear(64, 128), fastnn.nn.BatchNorm1d(128), fastnn.nn.ELU())
    >>> model.eval()  # running statistics from here on
    """
    _ndims = (2, 3)


@parameters(_BATCHNORM_PARAMETERS)
class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input, statistics per channel C."""
    _ndims = (4,)


class SyncBatchNorm(_BatchNorm):
    """Batch norm whose training statistics are those of the whole batch across the ranks of an MPI
    world (fastnn.distributed): every rank normalizes its shard with the global mean and variance, and
    the backward pass sums the gradient terms over the ranks, each weighted by its share of the global
    batch (the gradient of the whole batch's mean loss, which fit's data-parallel step averages; in a loop
    of your own with shards of different sizes, pass each rank's sample count to
    DistributedOptimizer.synchronize(weight=...) to match). Outside a world of several ranks, or in
    eval mode, it is BatchNorm. The ranks must call it in the same order (every rank runs the model).
    SyncBatchNorm.convert_sync_batchnorm(model) converts a model's BatchNorm layers in place (PyTorch's
    name; its state and parameters are kept).

    Parameters
    ----------
    num_features : int
        Channels C of the input (N, C, ...).
    eps : float, default 1e-05
        Added to the variance for numerical stability.
    momentum : float or None, default 0.1
        Weight of the new batch in the running estimates.
    affine : bool, default True
        Learn a per-channel scale (weight) and shift (bias).
    track_running_stats : bool, default True
        Keep running estimates of mean and variance for eval mode.
    dtype : numpy dtype, default float32
        float32 or float64, for the parameters.
    device : str, optional
        Accepted for PyTorch's signature; only the CPU exists.
    """

    _ndims = (2, 3, 4)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        if process_group is not None:
            raise ValueError("process_group: fastnn's SyncBatchNorm syncs over the whole world; expected None")
        for m in module.modules():
            if isinstance(m, _BatchNorm) and not isinstance(m, SyncBatchNorm):
                m.__class__ = SyncBatchNorm  # same state; only how training statistics are gathered differs
        return module

    def _world(self):
        from .._mpi import _W

        return _W if _W.size > 1 and self._batch_mode() else None

    def _check(self, x):
        if self._world() is None:
            return super()._check(x)
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm({self.num_features}) got input of shape {x.shape}; expected 2-D "
                             f"to 4-D input with {self.num_features} channels on axis 1")

    def _fwd(self, x):
        W = self._world()
        if W is None:
            return super()._fwd(x)
        dtype = self.weight._a.dtype if self.affine else self._dtype
        x = self._input(x, dtype)
        self._check(x)
        C = self.num_features
        n, mean, var = _global_stats(W, x, C)
        if n <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel over the ranks when "
                             f"training, got {n} (input of shape {x.shape} on rank {W.rank})")
        if self.track_running_stats:
            nbt = self.num_batches_tracked._a
            nbt[...] += 1
            m = self.momentum if self.momentum is not None else 1.0 / float(nbt)
            rm, rv = self.running_mean._a, self.running_var._a
            rm[...] = (1 - m) * rm + m * mean
            rv[...] = (1 - m) * rv + m * var * (n / (n - 1))
        y = self._buf("y", x.shape, dtype)
        w = self.weight._a if self.affine else None
        b = self.bias._a if self.affine else None
        ops.batch_norm(x, w, b, mean.astype(dtype), var.astype(dtype), training=False, eps=self.eps, out=y)
        invstd = (1.0 / np.sqrt(var + self.eps)).astype(dtype)
        return y, (x, mean.astype(dtype), invstd, n)

    def _bwd(self, ctx, g, need_input_grad, accumulate=True):
        if isinstance(ctx[3], bool):  # the forward ran as plain batch norm
            return super()._bwd(ctx, g, need_input_grad, accumulate)
        from .._mpi import _reduce_sum

        x, mean, invstd, n = ctx
        C, dtype = self.num_features, x.dtype
        g = g.astype(dtype, copy=False)
        gb, gw = np.zeros(C, dtype), np.zeros(C, dtype)
        ops.batch_norm_backward(g, x, None, mean, invstd, training=False, need_input_grad=False,
                                grad_weight=gw, grad_bias=gb)
        if self.affine and self.weight.requires_grad:  # this rank's share, averaged with the others' later
            if not accumulate:
                self.weight._g[...], self.bias._g[...] = gw, gb
            else:
                self.weight._g += gw
                self.bias._g += gb
        if not need_input_grad:
            return None
        # The input gradient couples every rank through the shared statistics: sum the terms over the
        # ranks, each weighted by the share of the global batch its samples are (the weight its gradients
        # get when fit averages them: the gradient of the whole batch's mean loss; equal shards: 1 / size).
        share = (x.size // C) / n
        sums = np.concatenate([gb, gw]).astype(np.float64) * share
        _reduce_sum(sums)
        c = 1.0 / (share * n)
        w = self.weight._a.astype(np.float64) if self.affine else 1.0
        inv = invstd.astype(np.float64)
        a = w * inv                                    # gx = a g + b x + d, per channel
        bcoef = -w * inv * inv * sums[C:] * c
        d = -a * sums[:C] * c - bcoef * mean
        bs = (1, C) + (1,) * (x.ndim - 2)
        gx = self._buf("gx", x.shape, dtype)
        np.multiply(g, a.astype(dtype).reshape(bs), out=gx)
        gx += x * bcoef.astype(dtype).reshape(bs)
        gx += d.astype(dtype).reshape(bs)
        return gx


def _global_stats(W, x, C):
    """(count, mean, biased variance) per channel over every rank's x, in float64, identical on every
    rank: each rank's count, mean and variance are gathered and combined in rank order (Chan et al.'s
    pairwise formula, as PyTorch's SyncBatchNorm)."""
    n_local = x.size // C
    mine = np.zeros((3, C), np.float64)
    mine[0] = n_local
    if n_local:
        m, v = ops.batch_norm_stats(x)
        mine[1], mine[2] = m, v
    allv = np.empty((W.size, 3, C), np.float64)
    W.comm.Allgather(mine, allv)
    n, mean, m2 = np.zeros(C), np.zeros(C), np.zeros(C)
    for k in range(W.size):
        nk, mk, vk = allv[k]
        tot = n + nk
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = mk - mean
            frac = np.where(tot > 0, nk / np.where(tot > 0, tot, 1), 0.0)
            mean = mean + delta * frac
            m2 = m2 + vk * nk + delta * delta * n * frac
        n = tot
    total = int(n[0])
    return total, mean, m2 / max(total, 1)


class LayerNorm(Module):
    """Normalize over the last len(normalized_shape) axes of each sample, then an elementwise affine
    (PyTorch's LayerNorm; runs on tensors through autograd).

    Parameters
    ----------
    normalized_shape : int or tuple
        The trailing axes normalized over.
    eps : float, default 1e-05
        Added to the variance for numerical stability.
    elementwise_affine : bool, default True
        Learn a scale (and a shift) per normalized element.
    bias : bool, default True
        Learn a shift too (with elementwise_affine).
    dtype : numpy dtype, default float32
        float32 or float64, for the parameters.
    device : str, optional
        Accepted for PyTorch's signature; only the CPU exists.
    """

    _config_keys = ("normalized_shape", "eps", "elementwise_affine")

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=np.float32, device=None):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape, self.eps = tuple(int(s) for s in normalized_shape), float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype), kind="norm")
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype), kind="norm") if bias else None
        else:
            self.weight = self.bias = None

    @staticmethod
    def _state_shapes(cfg):
        """state_dict shapes from a config alone (checked before a checkpoint builds the layer)."""
        ns = cfg["normalized_shape"]
        ns = (int(ns),) if isinstance(ns, (int, np.integer)) else tuple(int(s) for s in ns)
        if not cfg.get("elementwise_affine", True):
            return {}
        return {"weight": ns, **({"bias": ns} if cfg.get("bias", True) else {})}

    def forward(self, x):
        from . import functional as F

        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def get_config(self):
        return {"normalized_shape": self.normalized_shape, "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "bias": self.bias is not None,
                "dtype": str(self.weight.dtype if self.weight is not None else np.float32)}

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
