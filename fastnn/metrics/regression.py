"""Regression metrics with torchmetrics' names, arguments and results: ``MeanSquaredError`` (RMSE with
``squared=False``), ``MeanAbsoluteError``, ``MeanAbsolutePercentageError``, ``R2Score``,
``ExplainedVariance``. States are kept in float64; results are float32 tensors."""
import warnings

import numpy as np

from ..tensor import _wrap
from ._stat_scores import as_array
from .metric import Metric
from .._checks import positive_int

__all__ = ["MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "R2Score", "ExplainedVariance"]


def _pair(preds, target):
    p, t = as_array(preds, "preds"), as_array(target, "target")
    if p.shape != t.shape:
        raise RuntimeError(f"preds and target are expected to have the same shape, got {p.shape} and {t.shape}")
    return p.astype(np.float64), t.astype(np.float64)


def _check_outputs(num_outputs):
    positive_int(num_outputs, "num_outputs")


def _flat(p, t, num_outputs):
    if num_outputs == 1:
        return p.reshape(-1), t.reshape(-1)
    if p.ndim != 2 or p.shape[1] != num_outputs:
        raise ValueError(f"preds: expected shape (N, {num_outputs}) for num_outputs={num_outputs}, got {p.shape}")
    return p, t


def _f32(x):
    return _wrap(np.asarray(x, np.float32))


class _ErrorSum(Metric):
    """sum over samples of err(preds, target), and the sample count."""

    higher_is_better = False
    plot_lower_bound = 0.0

    def __init__(self, num_outputs=1, **kwargs):
        _check_outputs(num_outputs)
        super().__init__(**kwargs)
        self.num_outputs = num_outputs
        self.add_state("sum_error", np.zeros(num_outputs), dist_reduce_fx="sum")
        self.add_state("total", np.int64(0), dist_reduce_fx="sum")

    def update(self, preds, target):
        p, t = _flat(*_pair(preds, target), self.num_outputs)
        e = self._err(p, t).sum(0)
        object.__setattr__(self, "sum_error", _wrap(self.sum_error._a + e))
        object.__setattr__(self, "total", _wrap(self.total._a + t.shape[0]))


class MeanSquaredError(_ErrorSum):
    """MSE = mean((preds - target)^2); ``squared=False`` gives its square root (RMSE). ``num_outputs`` > 1
    keeps one value per output column of (N, num_outputs) inputs."""

    def __init__(self, squared=True, num_outputs=1, **kwargs):
        if not isinstance(squared, bool):
            raise ValueError(f"squared: expected a bool, got {squared!r}")
        super().__init__(num_outputs, **kwargs)
        self.squared = squared

    @staticmethod
    def _err(p, t):
        return (p - t) ** 2

    def compute(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            m = self.sum_error._a / self.total._a
        return _f32(m if self.squared else np.sqrt(m))


class MeanAbsoluteError(_ErrorSum):
    """MAE = mean(abs(preds - target))."""

    @staticmethod
    def _err(p, t):
        return np.abs(p - t)

    def compute(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _f32(self.sum_error._a / self.total._a)


class MeanAbsolutePercentageError(Metric):
    """MAPE = mean(abs(preds - target) / max(abs(target), 1.17e-06)) (torchmetrics' epsilon)."""

    higher_is_better = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_state("sum_abs_per_error", np.float64(0), dist_reduce_fx="sum")
        self.add_state("total", np.int64(0), dist_reduce_fx="sum")

    def update(self, preds, target):
        p, t = _pair(preds, target)
        e = (np.abs(p - t) / np.maximum(np.abs(t), 1.17e-06)).sum()
        object.__setattr__(self, "sum_abs_per_error", _wrap(self.sum_abs_per_error._a + e))
        object.__setattr__(self, "total", _wrap(self.total._a + t.size))

    def compute(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _f32(self.sum_abs_per_error._a / self.total._a)


_MULTIOUTPUT = ("raw_values", "uniform_average", "variance_weighted")


class _Moments(Metric):
    """Per-output sums of target, target^2, and of the residual terms, for R2 and explained variance."""

    higher_is_better = True
    plot_upper_bound = 1.0

    def __init__(self, multioutput, **kwargs):
        if multioutput not in _MULTIOUTPUT:
            raise ValueError(f"multioutput: expected one of {_MULTIOUTPUT}, got {multioutput!r}")
        super().__init__(**kwargs)
        self.multioutput = multioutput
        for name in self._sums:
            self.add_state(name, np.float64(0), dist_reduce_fx="sum")
        self.add_state("num_obs", np.int64(0), dist_reduce_fx="sum")

    def update(self, preds, target):
        p, t = _pair(preds, target)
        if p.ndim > 2:
            raise ValueError(f"preds and target: expected 1-d or 2-d tensors, got {p.shape}")
        new = self._terms(p, t)
        cur = {name: getattr(self, name)._a for name in self._sums}
        if self.num_obs._a and any(cur[k].shape != new[k].shape for k in self._sums):
            raise ValueError(f"preds: {p.shape} has a different number of outputs than the earlier batches")
        for name in self._sums:
            object.__setattr__(self, name, _wrap(cur[name] + new[name]))
        object.__setattr__(self, "num_obs", _wrap(self.num_obs._a + t.shape[0]))

    def _average(self, raw, tss):
        if self.multioutput == "raw_values":
            return raw
        if self.multioutput == "uniform_average":
            return np.mean(raw)
        return np.sum(tss / np.sum(tss) * raw)


class R2Score(_Moments):
    """R^2 = 1 - RSS / TSS per output (1 where RSS is ~0, 0 where only TSS is ~0, as torchmetrics),
    averaged by ``multioutput``; ``adjusted`` = number of regressors for the adjusted R^2."""

    _sums = ("sum_squared_obs", "sum_obs", "rss")

    def __init__(self, adjusted=0, multioutput="uniform_average", **kwargs):
        if isinstance(adjusted, bool) or not isinstance(adjusted, int) or adjusted < 0:
            raise ValueError(f"adjusted: expected an int >= 0, got {adjusted!r}")
        super().__init__(multioutput, **kwargs)
        self.adjusted = adjusted

    @staticmethod
    def _terms(p, t):
        r = t - p
        return {"sum_squared_obs": (t * t).sum(0), "sum_obs": t.sum(0), "rss": (r * r).sum(0)}

    def compute(self):
        n = int(self.num_obs._a)
        if n < 2:
            raise ValueError("R2Score: needs at least two samples")
        sum_obs, rss = np.atleast_1d(self.sum_obs._a), np.atleast_1d(self.rss._a)
        tss = np.atleast_1d(self.sum_squared_obs._a) - sum_obs * (sum_obs / n)
        c_rss, c_tss = ~np.isclose(rss, 0, atol=1e-4), ~np.isclose(tss, 0, atol=1e-4)
        raw = np.ones_like(rss)
        ok = c_rss & c_tss
        raw[ok] = 1 - rss[ok] / tss[ok]
        raw[c_rss & ~c_tss] = 0.0
        r2 = self._average(raw, tss)
        if self.adjusted:
            if self.adjusted > n - 1:
                warnings.warn("More independent regressions than data points in adjusted r2 score. Falls back to "
                              "standard r2 score.", UserWarning, stacklevel=2)
            elif self.adjusted == n - 1:
                warnings.warn("Division by zero in adjusted r2 score. Falls back to standard r2 score.",
                              UserWarning, stacklevel=2)
            else:
                r2 = 1 - (1 - r2) * (n - 1) / (n - self.adjusted - 1)
        return _f32(r2)


class ExplainedVariance(_Moments):
    """1 - Var(target - preds) / Var(target) per output, averaged by ``multioutput``."""

    _sums = ("sum_error", "sum_squared_error", "sum_target", "sum_squared_target")

    def __init__(self, multioutput="uniform_average", **kwargs):
        super().__init__(multioutput, **kwargs)

    @staticmethod
    def _terms(p, t):
        e = t - p
        return {"sum_error": e.sum(0), "sum_squared_error": (e * e).sum(0), "sum_target": t.sum(0),
                "sum_squared_target": (t * t).sum(0)}

    def compute(self):
        n = self.num_obs._a
        diff = self.sum_squared_error._a / n - (self.sum_error._a / n) ** 2
        tss = self.sum_squared_target._a / n - (self.sum_target._a / n) ** 2
        diff, tss = np.atleast_1d(diff), np.atleast_1d(tss)
        raw = np.ones_like(diff)
        ok = (diff != 0) & (tss != 0)
        raw[ok] = 1.0 - diff[ok] / tss[ok]
        raw[(diff != 0) & (tss == 0)] = 0.0
        return _f32(self._average(raw, tss))
