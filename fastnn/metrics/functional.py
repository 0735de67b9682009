"""torchmetrics.functional's forms: one call on one batch, the same result as a metric object updated once
(``accuracy(preds, target, task="multiclass", num_classes=10)``, ``mean_squared_error(preds, target)``, ...)."""
from . import classification as C
from . import regression as R

__all__ = ["accuracy", "precision", "recall", "f1_score", "fbeta_score", "specificity", "confusion_matrix",
           "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error", "r2_score",
           "explained_variance"]


def _once(metric, preds, target):
    metric.update(preds, target)
    return metric.compute()


def accuracy(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
             multidim_average="global", top_k=1, ignore_index=None, validate_args=True):
    return _once(C.Accuracy(task, threshold, num_classes, num_labels, average, multidim_average, top_k, ignore_index,
                            validate_args), preds, target)


def precision(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
              multidim_average="global", top_k=1, ignore_index=None, validate_args=True, zero_division=0):
    return _once(C.Precision(task, threshold, num_classes, num_labels, average, multidim_average, top_k,
                             ignore_index, validate_args, zero_division=zero_division), preds, target)


def recall(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
           multidim_average="global", top_k=1, ignore_index=None, validate_args=True, zero_division=0):
    return _once(C.Recall(task, threshold, num_classes, num_labels, average, multidim_average, top_k, ignore_index,
                          validate_args, zero_division=zero_division), preds, target)


def f1_score(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
             multidim_average="global", top_k=1, ignore_index=None, validate_args=True, zero_division=0):
    return _once(C.F1Score(task, threshold, num_classes, num_labels, average, multidim_average, top_k, ignore_index,
                           validate_args, zero_division=zero_division), preds, target)


def fbeta_score(preds, target, task, beta=1.0, threshold=0.5, num_classes=None, num_labels=None, average="micro",
                multidim_average="global", top_k=1, ignore_index=None, validate_args=True, zero_division=0):
    return _once(C.FBetaScore(task, beta, threshold, num_classes, num_labels, average, multidim_average, top_k,
                              ignore_index, validate_args, zero_division=zero_division), preds, target)


def specificity(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
                multidim_average="global", top_k=1, ignore_index=None, validate_args=True):
    return _once(C.Specificity(task, threshold, num_classes, num_labels, average, multidim_average, top_k,
                               ignore_index, validate_args), preds, target)


def confusion_matrix(preds, target, task, threshold=0.5, num_classes=None, num_labels=None, normalize=None,
                     ignore_index=None, validate_args=True):
    return _once(C.ConfusionMatrix(task, threshold, num_classes, num_labels, normalize, ignore_index,
                                   validate_args), preds, target)


def mean_squared_error(preds, target, squared=True, num_outputs=1):
    return _once(R.MeanSquaredError(squared, num_outputs), preds, target)


def mean_absolute_error(preds, target, num_outputs=1):
    return _once(R.MeanAbsoluteError(num_outputs), preds, target)


def mean_absolute_percentage_error(preds, target):
    return _once(R.MeanAbsolutePercentageError(), preds, target)


def r2_score(preds, target, adjusted=0, multioutput="uniform_average"):
    return _once(R.R2Score(adjusted, multioutput), preds, target)


def explained_variance(preds, target, multioutput="uniform_average"):
    return _once(R.ExplainedVariance(multioutput), preds, target)
