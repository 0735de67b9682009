"""MetricCollection (torchmetrics'): several metrics updated, computed and reset together, results in a
dict keyed by name (with an optional prefix/postfix, e.g. "train_" / "val_")."""
import copy
import inspect

from ..nn.module import Module
from .metric import Metric

__all__ = ["MetricCollection"]


def _accepted(fn, kwargs):
    """The kwargs fn accepts (all of them if it takes **kwargs), as torchmetrics filters them."""
    if not kwargs:
        return kwargs
    params = inspect.signature(fn).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params}


class MetricCollection(Module):
    """A dict of metrics with one ``update`` / ``compute`` / ``reset`` / ``forward``.

    Parameters
    ----------
    metrics : Metric, sequence of Metric, dict of name -> Metric, or MetricCollection
        In a sequence each metric is named after its class (``MulticlassAccuracy``); two of one class
        need a dict.
    *additional_metrics : Metric
        More metrics, when ``metrics`` is a single metric or a sequence.
    prefix, postfix : str, optional
        Added to every key of the results.
    compute_groups : bool or list, default True
        Accepted for torchmetrics compatibility (each metric keeps its own states).

    Examples
    --------
    >>> from fastnn.metrics import MetricCollection, Accuracy, Precision
    >>> mc = MetricCollection([Accuracy(task="multiclass", num_classes=3),
    ...                        Precision(task="multiclass", num_classes=3, average="macro")], prefix="val_")
    """

    def __init__(self, metrics, *additional_metrics, prefix=None, postfix=None, compute_groups=True):
        super().__init__()
        for name, v in (("prefix", prefix), ("postfix", postfix)):
            if v is not None and not isinstance(v, str):
                raise ValueError(f"{name}: expected a string, got {v!r}")
        self.prefix, self.postfix, self._groups = prefix, postfix, compute_groups
        self.add_metrics(metrics, *additional_metrics)

    def add_metrics(self, metrics, *additional_metrics):
        """Add metrics (a Metric, a sequence of them, a dict name -> Metric, or a MetricCollection)."""
        new = {}
        if isinstance(metrics, Metric):
            metrics = [metrics]
        if isinstance(metrics, MetricCollection):
            metrics = [metrics]
        if isinstance(metrics, dict):
            if additional_metrics:
                raise ValueError("additional_metrics: not allowed when metrics is a dict")
            for k, m in metrics.items():
                self._collect(new, k, m)
        elif isinstance(metrics, (list, tuple)):
            for m in list(metrics) + list(additional_metrics):
                self._collect(new, None, m)
        else:
            raise ValueError(f"metrics: expected a Metric, a sequence or a dict of them, got {type(metrics).__name__}")
        clash = sorted(set(new) & set(self._modules))
        if clash:
            raise ValueError(f"Encountered two metrics both named {clash[0]}")
        for k, m in new.items():
            self.add_module(k, m)

    @staticmethod
    def _collect(out, key, m):
        if isinstance(m, MetricCollection):
            for k, sub in m._modules.items():
                name = (f"{key}_" if key else "") + (m.prefix or "") + k + (m.postfix or "")
                MetricCollection._collect(out, name, sub)
            return
        if not isinstance(m, Metric):
            raise ValueError(f"metrics: expected Metric instances, got {type(m).__name__}")
        name = key if key is not None else type(m).__name__
        if name in out:
            raise ValueError(f"Encountered two metrics both named {name}")
        out[name] = m

    def _key(self, k):
        return (self.prefix or "") + k + (self.postfix or "")

    def update(self, *args, **kwargs):
        for m in self._modules.values():
            m.update(*args, **_accepted(m.update, kwargs))

    def forward(self, *args, **kwargs):
        return {self._key(k): m(*args, **_accepted(m.update, kwargs)) for k, m in self._modules.items()}

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def compute(self):
        return {self._key(k): m.compute() for k, m in self._modules.items()}

    def reset(self):
        for m in self._modules.values():
            m.reset()

    def clone(self, prefix=None, postfix=None):
        mc = copy.deepcopy(self)
        if prefix is not None:
            mc.prefix = prefix
        if postfix is not None:
            mc.postfix = postfix
        return mc

    def persistent(self, mode=True):
        for m in self._modules.values():
            m.persistent(mode)

    def to(self, *args, **kwargs):
        for m in self._modules.values():
            m.to(*args, **kwargs)
        return self

    def cpu(self):
        return self

    def keys(self, keep_base=False):
        return [k if keep_base else self._key(k) for k in self._modules]

    def values(self):
        return list(self._modules.values())

    def items(self, keep_base=False):
        return [(k if keep_base else self._key(k), m) for k, m in self._modules.items()]

    def __getitem__(self, key):
        if key in self._modules:
            return self._modules[key]
        for k, m in self._modules.items():
            if self._key(k) == key:
                return m
        raise KeyError(key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self.keys())

    def __contains__(self, key):
        return key in self._modules or key in self.keys()

    def __repr__(self):
        inner = ",\n".join(f"  ({k}): {m!r}" for k, m in self._modules.items())
        extra = "".join(f",\n  {n}={v!r}" for n, v in (("prefix", self.prefix), ("postfix", self.postfix)) if v)
        return f"MetricCollection(\n{inner}{extra}\n)"
