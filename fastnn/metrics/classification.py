"""Classification metrics with torchmetrics' names, arguments and results: ``Accuracy``, ``Precision``,
``Recall``, ``F1Score``, ``FBetaScore``, ``Specificity`` and ``ConfusionMatrix`` (each a task wrapper:
``Accuracy(task="multiclass", num_classes=10)`` makes a ``MulticlassAccuracy``), and the task classes
``Binary*``, ``Multiclass*``, ``Multilabel*`` themselves.

``preds`` may be logits, probabilities or labels, ``target`` class indices (or 0/1); see
:mod:`fastnn.metrics._stat_scores` for the input forms. Results are float32 tensors (counts for a
confusion matrix without ``normalize``).
"""
import numpy as np

from ..tensor import _wrap
from . import _stat_scores as S
from .metric import Metric

__all__ = ["Accuracy", "Precision", "Recall", "F1Score", "FBetaScore", "Specificity", "ConfusionMatrix",
           "BinaryAccuracy", "BinaryPrecision", "BinaryRecall", "BinaryF1Score", "BinaryFBetaScore",
           "BinarySpecificity", "BinaryConfusionMatrix",
           "MulticlassAccuracy", "MulticlassPrecision", "MulticlassRecall", "MulticlassF1Score",
           "MulticlassFBetaScore", "MulticlassSpecificity", "MulticlassConfusionMatrix",
           "MultilabelAccuracy", "MultilabelPrecision", "MultilabelRecall", "MultilabelF1Score",
           "MultilabelFBetaScore", "MultilabelSpecificity", "MultilabelConfusionMatrix"]


def _f32(x):
    return _wrap(np.asarray(x, np.float32))


def _check_beta(beta):
    if isinstance(beta, bool) or not isinstance(beta, (float, int)) or not beta > 0:
        raise ValueError(f"beta: expected a number > 0, got {beta!r}")
    return float(beta)


class _StatScores(Metric):
    """Counts tp, fp, tn, fn (summed over batches, or one row per sample when samplewise) and reduces them
    with the metric's formula (_kind) at compute()."""

    _kind = "accuracy"
    higher_is_better = True
    plot_lower_bound, plot_upper_bound = 0.0, 1.0
    beta = 1.0

    def _states(self, size):
        for name in ("tp", "fp", "tn", "fn"):
            if self.multidim_average == "samplewise":
                self.add_state(name, [], dist_reduce_fx="cat")
            else:
                self.add_state(name, np.zeros(size, np.int64) if size else np.int64(0), dist_reduce_fx="sum")

    def _add(self, counts):
        for name, v in zip(("tp", "fp", "tn", "fn"), counts):
            if self.multidim_average == "samplewise":
                getattr(self, name).append(_wrap(np.asarray(v)))
            else:
                cur = getattr(self, name)
                object.__setattr__(self, name, _wrap(cur._a + np.asarray(v).reshape(cur._a.shape)))

    def _final(self):
        out = []
        for name in ("tp", "fp", "tn", "fn"):
            v = getattr(self, name)
            if isinstance(v, list):
                out.append(np.concatenate([x._a.reshape(-1, *x._a.shape[1:]) if x._a.ndim else x._a.reshape(1)
                                           for x in v]) if v else np.zeros(0, np.int64))
            else:
                out.append(v._a)
        return out

    def _reduce(self, average, multilabel=False):
        tp, fp, tn, fn = self._final()
        return _f32(S.reduce(self._kind, tp, fp, tn, fn, average, self.multidim_average, multilabel,
                             getattr(self, "top_k", 1), self.zero_division, self.beta))


class _Binary(_StatScores):
    def __init__(self, threshold=0.5, multidim_average="global", ignore_index=None, validate_args=True,
                 zero_division=0, **kwargs):
        S.check_args("binary", threshold=threshold, multidim_average=multidim_average, ignore_index=ignore_index,
                     zero_division=zero_division)
        super().__init__(**kwargs)
        self.threshold, self.multidim_average, self.ignore_index = threshold, multidim_average, ignore_index
        self.validate_args, self.zero_division = bool(validate_args), zero_division
        self._states(0)

    def update(self, preds, target):
        p, t = S.binary_format(preds, target, self.threshold, self.ignore_index, self.multidim_average,
                               self.validate_args)
        self._add(S.binary_stats(p, t, self.multidim_average))

    def compute(self):
        return self._reduce("binary")


class _Multiclass(_StatScores):
    def __init__(self, num_classes=None, top_k=1, average="macro", multidim_average="global", ignore_index=None,
                 validate_args=True, zero_division=0, **kwargs):
        S.check_args("multiclass", num_classes=num_classes, average=average, multidim_average=multidim_average,
                     top_k=top_k, ignore_index=ignore_index, zero_division=zero_division)
        super().__init__(**kwargs)
        self.num_classes, self.top_k, self.average = num_classes, top_k, average
        self.multidim_average, self.ignore_index = multidim_average, ignore_index
        self.validate_args, self.zero_division = bool(validate_args), zero_division
        self._micro_counts = average == "micro" and top_k == 1 and multidim_average == "global"
        self._states(0 if self._micro_counts else num_classes)

    def update(self, preds, target):
        C = self.num_classes
        p, t = S.multiclass_format(preds, target, C, self.top_k, self.multidim_average, self.ignore_index,
                                   self.validate_args)
        if C is None:  # micro without num_classes: the labels seen bound it
            C = max(int(t.max(initial=0)), int(p.max(initial=0)) if self.top_k == 1 else p.shape[1] - 1) + 1
        self._add(S.multiclass_stats(p, t, C, self.top_k, "micro" if self._micro_counts else self.average,
                                     self.multidim_average, self.ignore_index))

    def compute(self):
        return self._reduce(self.average)


class _Multilabel(_StatScores):
    def __init__(self, num_labels, threshold=0.5, average="macro", multidim_average="global", ignore_index=None,
                 validate_args=True, zero_division=0, **kwargs):
        S.check_args("multilabel", num_labels=num_labels, threshold=threshold, average=average,
                     multidim_average=multidim_average, ignore_index=ignore_index, zero_division=zero_division)
        super().__init__(**kwargs)
        self.num_labels, self.threshold, self.average = num_labels, threshold, average
        self.multidim_average, self.ignore_index = multidim_average, ignore_index
        self.validate_args, self.zero_division = bool(validate_args), zero_division
        self._states(num_labels)

    def update(self, preds, target):
        p, t = S.multilabel_format(preds, target, self.num_labels, self.threshold, self.ignore_index,
                                   self.multidim_average, self.validate_args)
        self._add(S.multilabel_stats(p, t, self.multidim_average))

    def compute(self):
        return self._reduce(self.average, multilabel=True)


def _family(kind, doc):
    """The Binary/Multiclass/Multilabel classes of one metric (fbeta takes beta first)."""
    out = []
    for base, prefix in ((_Binary, "Binary"), (_Multiclass, "Multiclass"), (_Multilabel, "Multilabel")):
        cls = type(prefix + kind[0], (base,), {"_kind": kind[1], "__doc__": f"{doc} ({prefix.lower()} task)."})
        cls.__module__ = __name__
        out.append(cls)
    return out


BinaryAccuracy, MulticlassAccuracy, MultilabelAccuracy = _family(
    ("Accuracy", "accuracy"), "Accuracy: the share of correct predictions")
BinaryPrecision, MulticlassPrecision, MultilabelPrecision = _family(
    ("Precision", "precision"), "Precision: TP / (TP + FP)")
BinaryRecall, MulticlassRecall, MultilabelRecall = _family(("Recall", "recall"), "Recall: TP / (TP + FN)")
BinarySpecificity, MulticlassSpecificity, MultilabelSpecificity = _family(
    ("Specificity", "specificity"), "Specificity: TN / (TN + FP)")


def _with_beta(base, name, doc):
    def __init__(self, beta, *args, **kwargs):
        beta = _check_beta(beta)
        base.__init__(self, *args, **kwargs)
        self.beta = beta

    cls = type(name, (base,), {"_kind": "fbeta", "__init__": __init__, "__doc__": doc})
    cls.__module__ = __name__
    return cls


def _f1(base, name, doc):
    def __init__(self, *args, **kwargs):
        base.__init__(self, 1.0, *args, **kwargs)

    cls = type(name, (base,), {"__init__": __init__, "__doc__": doc})
    cls.__module__ = __name__
    return cls


_FB = "F-beta: (1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP)"
BinaryFBetaScore = _with_beta(_Binary, "BinaryFBetaScore", _FB + " (binary task); beta first.")
MulticlassFBetaScore = _with_beta(_Multiclass, "MulticlassFBetaScore", _FB + " (multiclass task); beta first.")
MultilabelFBetaScore = _with_beta(_Multilabel, "MultilabelFBetaScore", _FB + " (multilabel task); beta first.")
BinaryF1Score = _f1(BinaryFBetaScore, "BinaryF1Score", "F1: 2 TP / (2 TP + FN + FP) (binary task).")
MulticlassF1Score = _f1(MulticlassFBetaScore, "MulticlassF1Score", "F1 score (multiclass task).")
MultilabelF1Score = _f1(MultilabelFBetaScore, "MultilabelF1Score", "F1 score (multilabel task).")


# ---- confusion matrices ----
class _Confusion(Metric):
    higher_is_better = None

    def _setup(self, shape, normalize, ignore_index, validate_args):
        if normalize not in (None, "none", "true", "pred", "all"):
            raise ValueError(f"normalize: expected None, 'true', 'pred', 'all' or 'none', got {normalize!r}")
        if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, int)):
            raise ValueError(f"ignore_index: expected None or an int, got {ignore_index!r}")
        self.normalize, self.ignore_index, self.validate_args = normalize, ignore_index, bool(validate_args)
        self.add_state("confmat", np.zeros(shape, np.int64), dist_reduce_fx="sum")

    def _add(self, cm):
        object.__setattr__(self, "confmat", _wrap(self.confmat._a + cm))

    def compute(self):
        cm = S.normalize_confusion(self.confmat._a, self.normalize)
        return _wrap(cm.astype(np.float32) if cm.dtype.kind == "f" else cm)


class BinaryConfusionMatrix(_Confusion):
    """The 2x2 confusion matrix [[TN, FP], [FN, TP]] (rows: target, columns: prediction)."""

    def __init__(self, threshold=0.5, ignore_index=None, normalize=None, validate_args=True, **kwargs):
        S.check_args("binary", threshold=threshold, ignore_index=ignore_index)
        super().__init__(**kwargs)
        self.threshold = threshold
        self._setup((2, 2), normalize, ignore_index, validate_args)

    def update(self, preds, target):
        p, t = S.binary_format(preds, target, self.threshold, self.ignore_index, "global", self.validate_args)
        self._add(S.confusion_binary(p, t))


class MulticlassConfusionMatrix(_Confusion):
    """The C x C confusion matrix: entry [i, j] counts samples of class i predicted as j."""

    def __init__(self, num_classes, ignore_index=None, normalize=None, validate_args=True, **kwargs):
        S.check_args("multiclass", num_classes=num_classes, average="macro", ignore_index=ignore_index)
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self._setup((num_classes, num_classes), normalize, ignore_index, validate_args)

    def update(self, preds, target):
        p, t = S.multiclass_format(preds, target, self.num_classes, 1, "global", self.ignore_index,
                                   self.validate_args)
        self._add(S.confusion_multiclass(p, t, self.num_classes, self.ignore_index))


class MultilabelConfusionMatrix(_Confusion):
    """One 2x2 confusion matrix per label: shape (num_labels, 2, 2)."""

    def __init__(self, num_labels, threshold=0.5, ignore_index=None, normalize=None, validate_args=True, **kwargs):
        S.check_args("multilabel", num_labels=num_labels, threshold=threshold, ignore_index=ignore_index)
        super().__init__(**kwargs)
        self.num_labels, self.threshold = num_labels, threshold
        self._setup((num_labels, 2, 2), normalize, ignore_index, validate_args)

    def update(self, preds, target):
        p, t = S.multilabel_format(preds, target, self.num_labels, self.threshold, self.ignore_index, "global",
                                   self.validate_args)
        self._add(S.confusion_multilabel(p, t, self.num_labels))


# ---- task wrappers: Accuracy(task=..., ...) builds the task's class, as torchmetrics ----
_TASKS = ("binary", "multiclass", "multilabel")


def _task(task):
    t = str(task).lower() if isinstance(task, str) else task
    if t not in _TASKS:
        raise ValueError(f"task: expected one of {_TASKS}, got {task!r}")
    return t


def _need_int(name, v):
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{name}: expected an int for this task, got {v!r}")


class _TaskWrapper(Metric):
    _classes = ()

    def __new__(cls, task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
                multidim_average="global", top_k=1, ignore_index=None, validate_args=True, **kwargs):
        binary, multiclass, multilabel = cls._classes
        kwargs.update(multidim_average=multidim_average, ignore_index=ignore_index, validate_args=validate_args)
        t = _task(task)
        if t == "binary":
            return binary(threshold, **kwargs)
        if t == "multiclass":
            _need_int("num_classes", num_classes)
            _need_int("top_k", top_k)
            return multiclass(num_classes, top_k, average, **kwargs)
        _need_int("num_labels", num_labels)
        return multilabel(num_labels, threshold, average, **kwargs)


class Accuracy(_TaskWrapper):
    """``Accuracy(task, threshold=0.5, num_classes=None, num_labels=None, average="micro",
    multidim_average="global", top_k=1, ignore_index=None, validate_args=True)``: a BinaryAccuracy,
    MulticlassAccuracy or MultilabelAccuracy, as torchmetrics.Accuracy."""

    _classes = (BinaryAccuracy, MulticlassAccuracy, MultilabelAccuracy)


class Precision(_TaskWrapper):
    """``Precision(task, ...)``: TP / (TP + FP) for the task (arguments as Accuracy, plus zero_division)."""

    _classes = (BinaryPrecision, MulticlassPrecision, MultilabelPrecision)


class Recall(_TaskWrapper):
    """``Recall(task, ...)``: TP / (TP + FN) for the task (arguments as Accuracy, plus zero_division)."""

    _classes = (BinaryRecall, MulticlassRecall, MultilabelRecall)


class F1Score(_TaskWrapper):
    """``F1Score(task, ...)``: the harmonic mean of precision and recall (arguments as Accuracy)."""

    _classes = (BinaryF1Score, MulticlassF1Score, MultilabelF1Score)


class Specificity(_TaskWrapper):
    """``Specificity(task, ...)``: TN / (TN + FP) for the task (arguments as Accuracy)."""

    _classes = (BinarySpecificity, MulticlassSpecificity, MultilabelSpecificity)


class FBetaScore(Metric):
    """``FBetaScore(task, beta=1.0, threshold=0.5, num_classes=None, ...)``."""

    def __new__(cls, task, beta=1.0, threshold=0.5, num_classes=None, num_labels=None, average="micro",
                multidim_average="global", top_k=1, ignore_index=None, validate_args=True, **kwargs):
        kwargs.update(multidim_average=multidim_average, ignore_index=ignore_index, validate_args=validate_args)
        t = _task(task)
        if t == "binary":
            return BinaryFBetaScore(beta, threshold, **kwargs)
        if t == "multiclass":
            _need_int("num_classes", num_classes)
            return MulticlassFBetaScore(beta, num_classes, top_k, average, **kwargs)
        _need_int("num_labels", num_labels)
        return MultilabelFBetaScore(beta, num_labels, threshold, average, **kwargs)


class ConfusionMatrix(Metric):
    """``ConfusionMatrix(task, threshold=0.5, num_classes=None, num_labels=None, normalize=None,
    ignore_index=None, validate_args=True)``: normalize "true" (rows sum to 1), "pred" (columns), "all"."""

    def __new__(cls, task, threshold=0.5, num_classes=None, num_labels=None, normalize=None, ignore_index=None,
                validate_args=True, **kwargs):
        kwargs.update(normalize=normalize, ignore_index=ignore_index, validate_args=validate_args)
        t = _task(task)
        if t == "binary":
            return BinaryConfusionMatrix(threshold, **kwargs)
        if t == "multiclass":
            _need_int("num_classes", num_classes)
            return MulticlassConfusionMatrix(num_classes, **kwargs)
        _need_int("num_labels", num_labels)
        return MultilabelConfusionMatrix(num_labels, threshold, **kwargs)
