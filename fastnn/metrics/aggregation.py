"""Aggregation metrics (torchmetrics' ``MeanMetric``, ``SumMetric``, ``MaxMetric``, ``MinMetric``,
``CatMetric``, ``RunningMean``): running reductions of values such as batch losses.

``nan_strategy``: "error" raises, "warn" warns and drops NaNs, "ignore" drops them, "disable" keeps them,
a float replaces them.
"""
import warnings

import numpy as np

from ..tensor import _wrap
from ._stat_scores import as_array
from .metric import Metric
from .._checks import positive_int

__all__ = ["MeanMetric", "SumMetric", "MaxMetric", "MinMetric", "CatMetric", "RunningMean"]
_STRATEGIES = ("error", "warn", "ignore", "disable")


class _Aggregator(Metric):
    def __init__(self, nan_strategy="warn", **kwargs):
        if nan_strategy not in _STRATEGIES and (isinstance(nan_strategy, bool) or not isinstance(nan_strategy, float)):
            raise ValueError(f"nan_strategy: expected a float or one of {_STRATEGIES}, got {nan_strategy!r}")
        super().__init__(**kwargs)
        self.nan_strategy = nan_strategy

    def _clean(self, value, weight=None):
        """(values, weights) as float arrays with the NaN strategy applied; weight broadcast to value."""
        v = np.asarray(as_array(value, "value"), np.float64)
        x = v.reshape(-1)
        if weight is None:
            w = np.ones_like(x)
        else:
            try:
                w = np.broadcast_to(np.asarray(as_array(weight, "weight"), np.float64), v.shape).reshape(-1).copy()
            except ValueError:
                raise ValueError(f"weight: shape {np.shape(as_array(weight, 'weight'))} does not broadcast to the "
                                 f"value's shape {v.shape}") from None
        if self.nan_strategy == "disable":
            return x, w
        bad = np.isnan(x) | np.isnan(w)
        if bad.any():
            if self.nan_strategy == "error":
                raise RuntimeError("Encountered `nan` values in tensor")
            if self.nan_strategy in ("warn", "ignore"):
                if self.nan_strategy == "warn":
                    warnings.warn("Encountered `nan` values in tensor. Will be removed.", UserWarning, stacklevel=3)
                x, w = x[~bad], w[~bad]
            else:
                x, w = x.copy(), w
                x[bad], w[bad] = self.nan_strategy, 1.0
        return x, w


def _f32(x):
    return _wrap(np.asarray(x, np.float32))


class MeanMetric(_Aggregator):
    """The (weighted) mean of every value given to ``update(value, weight=1.0)``."""

    def __init__(self, nan_strategy="warn", **kwargs):
        super().__init__(nan_strategy, **kwargs)
        self.add_state("mean_value", np.float64(0), dist_reduce_fx="sum")
        self.add_state("weight", np.float64(0), dist_reduce_fx="sum")

    def update(self, value, weight=None):
        x, w = self._clean(value, weight)
        if x.size:
            object.__setattr__(self, "mean_value", _wrap(self.mean_value._a + (x * w).sum()))
            object.__setattr__(self, "weight", _wrap(self.weight._a + w.sum()))

    def compute(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _f32(self.mean_value._a / self.weight._a)


class SumMetric(_Aggregator):
    """The sum of every value given to update."""

    def __init__(self, nan_strategy="warn", **kwargs):
        super().__init__(nan_strategy, **kwargs)
        self.add_state("sum_value", np.float64(0), dist_reduce_fx="sum")

    def update(self, value):
        x, _ = self._clean(value)
        object.__setattr__(self, "sum_value", _wrap(self.sum_value._a + x.sum()))

    def compute(self):
        return _f32(self.sum_value._a)


class MaxMetric(_Aggregator):
    """The largest value given to update (-inf before any)."""

    higher_is_better = True

    def __init__(self, nan_strategy="warn", **kwargs):
        super().__init__(nan_strategy, **kwargs)
        self.add_state("max_value", np.float64(-np.inf), dist_reduce_fx="max")

    def update(self, value):
        x, _ = self._clean(value)
        if x.size:
            object.__setattr__(self, "max_value", _wrap(np.maximum(self.max_value._a, x.max())))

    def compute(self):
        return _f32(self.max_value._a)


class MinMetric(_Aggregator):
    """The smallest value given to update (+inf before any)."""

    higher_is_better = False

    def __init__(self, nan_strategy="warn", **kwargs):
        super().__init__(nan_strategy, **kwargs)
        self.add_state("min_value", np.float64(np.inf), dist_reduce_fx="min")

    def update(self, value):
        x, _ = self._clean(value)
        if x.size:
            object.__setattr__(self, "min_value", _wrap(np.minimum(self.min_value._a, x.min())))

    def compute(self):
        return _f32(self.min_value._a)


class CatMetric(_Aggregator):
    """Every value given to update, concatenated into one 1-d tensor."""

    def __init__(self, nan_strategy="warn", **kwargs):
        super().__init__(nan_strategy, **kwargs)
        self.add_state("value", [], dist_reduce_fx="cat")

    def update(self, value):
        x, _ = self._clean(value)
        if x.size:
            self.value.append(_f32(x))

    def compute(self):
        if not self.value:
            return _wrap(np.zeros(0, np.float32))
        return _wrap(np.concatenate([v._a for v in self.value]))


class RunningMean(_Aggregator):
    """The mean of the values given to the last ``window`` calls of update."""

    def __init__(self, window=5, nan_strategy="warn", **kwargs):
        positive_int(window, "window")
        super().__init__(nan_strategy, **kwargs)
        self.window = window
        self.add_state("value", [], dist_reduce_fx="cat")

    def update(self, value):
        x, _ = self._clean(value)
        self.value.append(_wrap(x))
        del self.value[:-self.window]

    def compute(self):
        vals = [v._a for v in self.value[-self.window:]]
        if not vals:
            return _f32(np.nan)
        return _f32(np.concatenate(vals).mean())
