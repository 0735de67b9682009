"""The Metric base class: torchmetrics' contract (``update`` / ``compute`` / ``reset`` / ``forward``) on fastnn.

A metric keeps *states* declared with :meth:`Metric.add_state` (tensors reduced by sum, mean, max, min or
a callable, or lists that are concatenated). ``update(preds, target)`` adds a batch to the states;
``compute()`` turns the states into the result (cached until the next update); ``forward`` (the call
``metric(preds, target)``) returns the metric of that batch alone and adds the batch to the states, as
torchmetrics does; ``reset()`` restores the default states. A subclass written for torchmetrics ports by
changing its imports: ``update`` and ``compute`` are wrapped the same way (update count, compute cache,
the warning for ``compute`` before any ``update``).

Metrics are computed without a graph (torchmetrics' regression metrics are differentiable; fastnn's are
not: use a loss function for training).
"""
import copy
import functools
import warnings

import numpy as np

from ..autograd import no_grad
from ..nn.module import Module
from ..tensor import Tensor, _wrap, device as _device

__all__ = ["Metric"]

# torchmetrics' keyword arguments of every metric: accepted (the distributed ones have no effect: fastnn's
# data-parallel training evaluates on each rank's own data)
_KWARGS = ("compute_on_cpu", "dist_sync_on_step", "process_group", "dist_sync_fn", "distributed_available_fn",
           "sync_on_compute", "compute_with_cache")
_REDUCE = ("sum", "mean", "cat", "max", "min", None)


def _copy(v):
    if isinstance(v, Tensor):
        return _wrap(v._a.copy())
    if isinstance(v, list):
        return list(v)
    return copy.deepcopy(v)


def _squeeze_if_scalar(v):
    if isinstance(v, Tensor) and v._a.size == 1 and v._a.ndim:
        return _wrap(v._a.reshape(()))
    return v


def _clone_tensors(v):
    if isinstance(v, Tensor):
        return _wrap(v._a.copy())
    if isinstance(v, dict):
        return {k: _clone_tensors(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_clone_tensors(x) for x in v)
    return v


def _wrap_update(fn):
    @functools.wraps(fn)
    def update(self, *args, **kwargs):
        if self.__dict__.get("_in_update"):  # a subclass's update calling super().update()
            return fn(self, *args, **kwargs)
        self._in_update = True
        try:
            with no_grad():
                fn(self, *args, **kwargs)
        finally:
            self._in_update = False
        self._computed = None
        self._update_count += 1

    update._fastnn_wrapped = True
    return update


def _wrap_compute(fn):
    @functools.wraps(fn)
    def compute(self, *args, **kwargs):
        if self.__dict__.get("_in_compute"):
            return fn(self, *args, **kwargs)
        if self._update_count == 0:
            warnings.warn(f"The ``compute`` method of metric {type(self).__name__} was called before the "
                          "``update`` method which may lead to errors, as metric states have not yet been updated.",
                          UserWarning, stacklevel=2)
        if self._computed is not None:
            return self._computed
        self._in_compute = True
        try:
            with no_grad():
                value = _clone_tensors(_squeeze_if_scalar(fn(self, *args, **kwargs)))
        finally:
            self._in_compute = False
        if self.compute_with_cache:
            self._computed = value
        return value

    compute._fastnn_wrapped = True
    return compute


class Metric(Module):
    """Base class of metrics (torchmetrics.Metric's API): subclass it, declare states with ``add_state`` in
    ``__init__``, and define ``update(...)`` and ``compute()``.

    Parameters
    ----------
    compute_with_cache : bool, default True
        Keep the result of ``compute()`` until the next ``update``.
    **kwargs
        torchmetrics' other keyword arguments (``dist_sync_on_step``, ``sync_on_compute``, ...) are accepted
        and have no effect; an unknown one raises ValueError.

    Examples
    --------
    >>> import fastnn as torch
    >>> from fastnn.metrics import Metric
    >>> class Correct(Metric):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.add_state("correct", default=torch.tensor(0), dist_reduce_fx="sum")
    ...     def update(self, preds, target):
    ...         self.correct += (preds.argmax(1) == target).sum()
    ...     def compute(self):
    ...         return self.correct
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False
    plot_lower_bound = None
    plot_upper_bound = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, wrap in (("update", _wrap_update), ("compute", _wrap_compute)):
            f = cls.__dict__.get(name)
            if f is not None and not getattr(f, "_fastnn_wrapped", False):
                setattr(cls, name, wrap(f))

    def __init__(self, **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - set(_KWARGS))
        if unknown:
            raise ValueError(f"{type(self).__name__}: unexpected keyword argument(s) {unknown}; a metric takes "
                             f"its own arguments and torchmetrics' {list(_KWARGS)}")
        self.compute_with_cache = bool(kwargs.get("compute_with_cache", True))
        self.dist_sync_on_step = bool(kwargs.get("dist_sync_on_step", False))
        self.sync_on_compute = bool(kwargs.get("sync_on_compute", True))
        self.compute_on_cpu = bool(kwargs.get("compute_on_cpu", False))
        self._defaults = {}
        self._reductions = {}
        self._persistent = {}
        self._update_count = 0
        self._computed = None
        self._forward_cache = None

    # ---- states ----
    def add_state(self, name, default, dist_reduce_fx=None, persistent=False):
        """Declare a state: ``default`` a tensor (or number / array) or an empty list; ``dist_reduce_fx`` how
        two values of it merge ("sum", "mean", "max", "min", "cat", a callable over a stacked tensor, or None)."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"add_state: name must be an identifier, got {name!r}")
        if isinstance(default, list):
            if default:
                raise ValueError("add_state: a list state's default must be an empty list")
        elif isinstance(default, Tensor):
            default = _wrap(default._a.copy())
        else:
            try:
                default = _wrap(np.array(default))
            except Exception:
                raise ValueError(f"add_state: default must be a tensor or an empty list, got "
                                 f"{type(default).__name__}") from None
        if not (dist_reduce_fx in _REDUCE or callable(dist_reduce_fx)):
            raise ValueError(f"add_state: dist_reduce_fx must be one of {_REDUCE[:-1]}, a callable or None, "
                             f"got {dist_reduce_fx!r}")
        self._defaults[name] = default
        self._reductions[name] = dist_reduce_fx
        self._persistent[name] = bool(persistent)
        object.__setattr__(self, name, _copy(default))

    @property
    def metric_state(self):
        """The current states, by name."""
        return {k: getattr(self, k) for k in self._defaults}

    @property
    def update_count(self):
        return self._update_count

    @property
    def update_called(self):
        return self._update_count > 0

    def reset(self):
        """Restore every state to its default."""
        for k, d in self._defaults.items():
            object.__setattr__(self, k, _copy(d))
        self._update_count = 0
        self._computed = None
        self._forward_cache = None

    def update(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define update()")

    def compute(self):
        raise NotImplementedError(f"{type(self).__name__} must define compute()")

    # ---- forward: the batch's value, accumulated too ----
    def forward(self, *args, **kwargs):
        """The metric of this batch alone; the batch is also added to the accumulated states."""
        if self.full_state_update or self.dist_sync_on_step:
            self.update(*args, **kwargs)
            saved, count = self._save(), self._update_count
            self.reset()
            self.update(*args, **kwargs)
            value = self.compute()
            self._restore(saved, count)
        else:
            saved, count = self._save(), self._update_count
            self.reset()
            try:
                self.update(*args, **kwargs)
                value = self.compute()
            except BaseException:
                self._restore(saved, count)
                raise
            self._update_count = count + 1
            self._merge(saved)
        self._computed = None
        self._forward_cache = value
        return value

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def _save(self):
        return {k: getattr(self, k) for k in self._defaults}

    def _restore(self, saved, count):
        for k, v in saved.items():
            object.__setattr__(self, k, v)
        self._update_count = count
        self._computed = None

    def _merge(self, glob):
        """Fold the states of earlier batches (glob) into this batch's states."""
        for k, fx in self._reductions.items():
            g, b = glob[k], getattr(self, k)
            if isinstance(g, list):
                object.__setattr__(self, k, list(g) + list(b))
                continue
            ga, ba = np.asarray(g._a), np.asarray(b._a)
            if fx == "sum":
                r = ga + ba
            elif fx == "mean":
                n = self._update_count
                r = ((n - 1) * ga + ba) / n
            elif fx == "max":
                r = np.maximum(ga, ba)
            elif fx == "min":
                r = np.minimum(ga, ba)
            elif fx == "cat":
                r = np.concatenate([ga.reshape(-1, *ga.shape[1:]) if ga.ndim else ga.reshape(1),
                                    ba.reshape(-1, *ba.shape[1:]) if ba.ndim else ba.reshape(1)])
            elif callable(fx):
                r = np.asarray(fx(_wrap(np.stack([ga, ba]))))
            else:
                r = np.stack([ga, ba])
            object.__setattr__(self, k, _wrap(np.asarray(r).astype(ga.dtype, copy=False)))

    # ---- odds and ends torchmetrics has ----
    def merge_state(self, incoming_state):
        """Fold another metric's states (or a dict of them) into this one's (sum/mean/max/min/cat)."""
        other = incoming_state.metric_state if isinstance(incoming_state, Metric) else dict(incoming_state)
        if set(other) != set(self._defaults):
            raise ValueError(f"merge_state: expected the states {sorted(self._defaults)}, got {sorted(other)}")
        mine = self._save()
        for k, v in other.items():
            object.__setattr__(self, k, v if isinstance(v, (Tensor, list)) else _wrap(np.asarray(v)))
        self._update_count += 1
        self._merge(mine)
        self._computed = None

    def clone(self):
        return copy.deepcopy(self)

    def to(self, *args, **kwargs):
        for a in list(args) + [kwargs.get("device")]:
            if isinstance(a, (str, _device)):
                _device(a)
        return self

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        raise NotImplementedError("Metric.cuda(): fastnn runs on the CPU only; use .to('cpu') or drop it")

    def float(self):
        return self

    def double(self):
        return self

    def half(self):
        return self

    def set_dtype(self, dst_type):
        """Cast floating states to dst_type (torchmetrics' set_dtype)."""
        for k in self._defaults:
            v = getattr(self, k)
            if isinstance(v, Tensor) and v._a.dtype.kind == "f":
                object.__setattr__(self, k, _wrap(v._a.astype(np.dtype(dst_type))))
        return self

    @property
    def device(self):
        return _device("cpu")

    def persistent(self, mode=False):
        for k in self._persistent:
            self._persistent[k] = bool(mode)

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        out = super().state_dict(destination, prefix, keep_vars)
        for k, p in self._persistent.items():
            if p:
                out[prefix + k] = _copy(getattr(self, k))
        return out

    def __repr__(self):
        return f"{type(self).__name__}()"

    def plot(self, val=None, ax=None):
        """Plot the value of compute() (or values from forward/compute given as val): a bar per class for a
        vector, a line for a sequence of scalars. Returns (figure, axes) (matplotlib)."""
        import matplotlib.pyplot as plt

        val = self.compute() if val is None else val
        vals = [np.asarray(getattr(v, "_a", v), np.float64) for v in (val if isinstance(val, (list, tuple)) else [val])]
        fig, ax = (plt.subplots() if ax is None else (ax.get_figure(), ax))
        if len(vals) == 1 and vals[0].ndim == 1:
            ax.bar(np.arange(len(vals[0])), vals[0])
            ax.set_xlabel("class")
        elif all(v.ndim == 0 for v in vals):
            ax.plot(np.arange(len(vals)), [float(v) for v in vals], marker="o")
            ax.set_xlabel("step")
        else:
            ax.plot(np.stack([v.reshape(-1) for v in vals]))
        ax.set_title(type(self).__name__)
        ax.grid(True)
        return fig, ax
