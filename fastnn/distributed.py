"""Data-parallel training over MPI (mpi4py): every rank holds the whole model, trains on its shard of
each batch, and the gradients are averaged before every update -- one reduction over the gradient
arena per step, in fixed buckets and a fixed order, so every rank ends every step with bitwise the same
parameters.

    mpiexec -n 4 python train.py            # fit(...) distributes itself under mpiexec

    from fastnn import distributed as dist
    dist.init()                             # a world of one without mpi4py or outside mpiexec
    dist.rank(), dist.world_size(), dist.local_rank()
    opt = dist.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.05))   # the PyTorch-style loop
    dist.broadcast_parameters(model)

Threads: with P ranks on a machine of C cores, each rank runs C // P kernel threads, so ranks never
oversubscribe -- unless OMP_NUM_THREADS is set, init(threads=n) is given, or fastnn.set_num_threads is
called after init.
"""
from contextlib import contextmanager

import numpy as np

from .tensor import Tensor

__all__ = ["init", "is_available", "is_initialized", "rank", "world_size", "local_rank", "local_size", "barrier",
           "broadcast_parameters", "allreduce_", "DistributedOptimizer", "abort", "info"]

from ._mpi import _W, _reduce_sum, abort, init, is_available  # noqa: F401  (the world, re-exported)


def is_initialized():
    return _W.initialized


def rank():
    init()
    return _W.rank


def world_size():
    init()
    return _W.size


def local_rank():
    init()
    return _W.local_rank


def local_size():
    init()
    return _W.local_size


def barrier():
    init()
    if _W.comm is not None:
        _W.comm.Barrier()


def _array(x):
    a = x._a if isinstance(x, Tensor) else x
    if not isinstance(a, np.ndarray) or not a.flags.c_contiguous or not a.flags.writeable:
        raise ValueError("allreduce_: expected a writable C-contiguous array or tensor")
    return a


def allreduce_(x, op="mean"):
    """Reduce an array or tensor in place across ranks: op "sum" or "mean"; every rank gets bitwise the
    same result."""
    init()
    if op not in ("sum", "mean"):
        raise ValueError(f"op: expected 'sum' or 'mean', got {op!r}")
    a = _array(x)
    if _W.size == 1:
        return x
    flat = a.reshape(-1)
    _reduce_sum(flat)
    if op == "mean":
        flat /= _W.size
    return x


def broadcast_parameters(model, root=0):
    """Every rank takes rank `root`'s parameters and buffers (batch-norm statistics)."""
    init()
    if _W.size == 1:
        return model
    for a in [p._a for p in model.parameters()] + [b._a for b in model.buffers()]:
        _W.comm.Bcast(a.reshape(-1) if a.flags.c_contiguous else a, root=root)
    return model


def _grad_buffers(params):
    """The contiguous gradient storage behind `params`: each arena's gradient once (in order of first
    appearance), then the gradients of parameters outside any arena."""
    seen, out = set(), []
    for p in params:
        if not getattr(p, "requires_grad", False):
            continue
        arena = getattr(p, "_arena", None)
        if arena is not None:
            if id(arena) not in seen:
                seen.add(id(arena))
                out.append(arena.grad)
        else:
            g = p._g if hasattr(p, "_g") else (p.grad._a if p.grad is not None else None)
            if g is not None:
                out.append(g.reshape(-1))
    return out


def synchronize_gradients(params, weight=None, total=None):
    """Average the gradients of `params` over the ranks. weight: this rank's share of the global batch
    (its sample count): the result is then sum_r(weight_r g_r) / sum_r(weight_r), the gradient of the
    whole batch's mean loss even when the shards differ in size (total: that sum, when already known).
    Returns the total weight."""
    init()
    if _W.size == 1:
        return weight
    bufs = _grad_buffers(params)
    if total is None:
        t = np.array([1.0 if weight is None else float(weight)])
        _reduce_sum(t)
        total = t[0]
    total = np.array([float(total)])
    for g in bufs:
        if weight is not None:
            g *= weight
        _reduce_sum(g.reshape(-1))
        g /= total[0]
    return total[0]


class DistributedOptimizer:
    """Wraps a fastnn optimizer: step() first averages the gradients over the ranks (synchronize), then
    updates. To clip the averaged gradients in a PyTorch-style loop (as Horovod)::

        opt.synchronize(); nn.utils.clip_grad_norm_(model, 1.0)
        with opt.skip_synchronize():
            opt.step()

    Everything else (zero_grad, param_groups, state_dict, schedulers) is the wrapped optimizer's."""

    def __init__(self, optimizer):
        from .optim import Optimizer

        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer: expected a fastnn optimizer, got {type(optimizer).__name__}")
        self.__dict__["optimizer"] = optimizer
        self.__dict__["_skip"] = False
        init()

    def __getattr__(self, name):
        return getattr(self.__dict__["optimizer"], name)

    def __setattr__(self, name, value):
        setattr(self.optimizer, name, value)

    def synchronize(self, weight=None):
        synchronize_gradients(self.optimizer._params, weight)

    @contextmanager
    def skip_synchronize(self):
        self.__dict__["_skip"] = True
        try:
            yield
        finally:
            self.__dict__["_skip"] = False

    def step(self, closure=None):
        if not self._skip:
            self.synchronize()
        return self.optimizer.step(closure) if closure is not None else self.optimizer.step()


def info():
    """What `fastnn info` reports: mpi4py and the MPI library, if importable."""
    if not is_available():
        return "not available (pip install 'fastnn-cpu[mpi]': mpi4py and MPICH)"
    try:
        from mpi4py import MPI
        import mpi4py
        lib = " ".join(MPI.Get_library_version().strip().splitlines()[0].split())
        return f"mpi4py {mpi4py.__version__}, {lib}"
    except Exception as e:  # pragma: no cover
        return f"mpi4py present but unusable ({e})"
