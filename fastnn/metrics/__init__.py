"""fastnn.metrics: torchmetrics' API on fastnn (``import fastnn.metrics as torchmetrics``).

Metric objects accumulate over batches -- ``metric.update(preds, target)`` per batch, ``metric.compute()``
at the end, ``metric.reset()`` before the next epoch; ``metric(preds, target)`` returns the batch's own
value and accumulates it too -- with torchmetrics' constructors and results:

- classification: ``Accuracy``, ``Precision``, ``Recall``, ``F1Score``, ``FBetaScore``, ``Specificity``,
  ``ConfusionMatrix`` (``task="binary" | "multiclass" | "multilabel"``, ``num_classes=``, ``average=``,
  ``top_k=``, ``threshold=``, ``ignore_index=``, ``multidim_average=``), and the task classes
  (``MulticlassAccuracy``, ``BinaryF1Score``, ...);
- regression: ``MeanSquaredError`` (``squared=False``: RMSE), ``MeanAbsoluteError``,
  ``MeanAbsolutePercentageError``, ``R2Score``, ``ExplainedVariance``;
- aggregation: ``MeanMetric``, ``SumMetric``, ``MaxMetric``, ``MinMetric``, ``CatMetric``, ``RunningMean``;
- ``MetricCollection``, the ``Metric`` base class for your own, and ``fastnn.metrics.functional``.
"""
from . import classification, functional, regression  # noqa: F401
from .aggregation import CatMetric, MaxMetric, MeanMetric, MinMetric, RunningMean, SumMetric
from .classification import *  # noqa: F401,F403
from .classification import __all__ as _classification_all
from .collections import MetricCollection
from .metric import Metric
from .regression import (ExplainedVariance, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                         R2Score)

__all__ = (["Metric", "MetricCollection", "MeanMetric", "SumMetric", "MaxMetric", "MinMetric", "CatMetric",
            "RunningMean", "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "R2Score",
            "ExplainedVariance", "functional", "classification", "regression"] + list(_classification_all))
