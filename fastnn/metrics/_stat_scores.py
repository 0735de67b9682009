"""Counting true/false positives/negatives for binary, multiclass and multilabel tasks, and the reductions
of those counts into accuracy, precision, recall, F-beta and specificity -- torchmetrics' definitions
(stat_scores, _adjust_weights_safe_divide), in NumPy.

Inputs follow torchmetrics: binary ``preds``/``target`` of one shape (N, ...), float preds outside [0, 1]
taken as logits (sigmoid), then thresholded; multiclass ``preds`` (N, C, ...) scores (argmax, or top-k)
or (N, ...) labels; multilabel (N, L, ...). ``multidim_average`` "global" pools the extra dimensions,
"samplewise" gives one value per sample.
"""
import numpy as np

from ..tensor import Tensor

AVERAGES = ("micro", "macro", "weighted", "none", None)


def as_array(x, name):
    """The array of a tensor / array / number / torch tensor."""
    if isinstance(x, Tensor):
        return x._a
    try:
        return np.asarray(x)
    except Exception:
        raise TypeError(f"{name}: expected a tensor or an array, got {type(x).__name__}") from None


def check_args(task, *, num_classes=None, num_labels=None, threshold=0.5, average="micro",
               multidim_average="global", top_k=1, ignore_index=None, zero_division=0):
    """Validate a classification metric's arguments (before anything is stored)."""
    if task == "binary" or task == "multilabel":
        if isinstance(threshold, bool) or not isinstance(threshold, (float, int)) or not 0 <= threshold <= 1:
            raise ValueError(f"threshold: expected a float in [0, 1], got {threshold!r}")
    if task == "multiclass":
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                                        or num_classes < 2):
            raise ValueError(f"num_classes: expected an int > 1, got {num_classes!r}")
        if num_classes is None and average != "micro":
            raise ValueError(f"num_classes: needed unless average='micro' (average={average!r})")
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k: expected an int >= 1, got {top_k!r}")
        if top_k > (num_classes or 1):
            raise ValueError(f"top_k: expected at most num_classes ({num_classes}), got {top_k}")
    if task == "multilabel" and (isinstance(num_labels, bool) or not isinstance(num_labels, int) or num_labels < 2):
        raise ValueError(f"num_labels: expected an int > 1, got {num_labels!r}")
    if task != "binary" and average not in AVERAGES:
        raise ValueError(f"average: expected one of {AVERAGES}, got {average!r}")
    if multidim_average not in ("global", "samplewise"):
        raise ValueError(f"multidim_average: expected 'global' or 'samplewise', got {multidim_average!r}")
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, int)):
        raise ValueError(f"ignore_index: expected None or an int, got {ignore_index!r}")
    if zero_division not in (0, 1):
        raise ValueError(f"zero_division: expected 0 or 1, got {zero_division!r}")


def _sigmoid_if_logits(p):
    if not np.all((p >= 0) & (p <= 1)):
        with np.errstate(over="ignore"):
            p = (1 / (1 + np.exp(-p))).astype(p.dtype, copy=False)
    return p


def _rows(a):
    return a.reshape(a.shape[0] if a.ndim else 1, -1)


def _check_labels(a, name, allowed_hi, ignore_index, what):
    """Every value of a (not ignored) is an integer in [0, allowed_hi)."""
    v = a if ignore_index is None else a[a != ignore_index]
    if v.size and (v.dtype.kind == "f" and np.any(v != np.floor(v)) or v.min() < 0 or v.max() >= allowed_hi):
        bad = np.unique(v[(v < 0) | (v >= allowed_hi) | (v != np.floor(v))])[:8]
        raise RuntimeError(f"{name}: found values {bad.tolist()}; expected {what}"
                           + (f" (or ignore_index={ignore_index})" if ignore_index is not None else ""))


# ---- binary ----
def binary_format(preds, target, threshold, ignore_index, multidim_average, validate=True):
    p, t = as_array(preds, "preds"), as_array(target, "target")
    if validate:
        if p.shape != t.shape:
            raise ValueError(f"preds and target must have the same shape, got {p.shape} and {t.shape}")
        _check_labels(t, "target", 2, ignore_index, "only 0 and 1")
        if p.dtype.kind != "f":
            _check_labels(p, "preds", 2, None, "only 0 and 1 (integer preds are labels)")
        if multidim_average == "samplewise" and p.ndim < 2:
            raise ValueError("preds: expected at least 2 dimensions when multidim_average='samplewise'")
    if p.dtype.kind == "f":
        p = _sigmoid_if_logits(p) > threshold
    p, t = _rows(p), _rows(t)
    if ignore_index is not None:
        t = np.where(t == ignore_index, -1, t)
    return p, t


def binary_stats(p, t, multidim_average):
    axis = (0, 1) if multidim_average == "global" else 1
    eq, pos, neg = t == p, t == 1, t == 0
    return ((eq & pos).sum(axis), (~eq & neg).sum(axis), (eq & neg).sum(axis), (~eq & pos).sum(axis))


# ---- multiclass ----
def multiclass_format(preds, target, num_classes, top_k, multidim_average, ignore_index, validate=True):
    p, t = as_array(preds, "preds"), as_array(target, "target")
    if validate:
        if p.ndim == t.ndim + 1:
            if p.dtype.kind != "f":
                raise ValueError("preds: with one more dimension than target, preds must be float scores (N, C, ...)")
            if num_classes is not None and p.shape[1] != num_classes:
                raise ValueError(f"preds: expected shape (N, {num_classes}, ...) (num_classes={num_classes}), "
                                 f"got {p.shape}")
            if p.shape[2:] != t.shape[1:] or p.shape[0] != t.shape[0]:
                raise ValueError(f"preds (N, C, ...) and target (N, ...) do not match: {p.shape} and {t.shape}")
            if multidim_average != "global" and p.ndim < 3:
                raise ValueError("preds: expected (N, C, ...) with at least 3 dimensions when "
                                 "multidim_average='samplewise'")
        elif p.ndim == t.ndim:
            if p.shape != t.shape:
                raise ValueError(f"preds and target must have the same shape, got {p.shape} and {t.shape}")
            if top_k != 1:
                raise ValueError(f"top_k={top_k} needs float scores of shape (N, C, ...) as preds")
            if multidim_average != "global" and p.ndim < 2:
                raise ValueError("preds: expected at least 2 dimensions when multidim_average='samplewise'")
        else:
            raise ValueError(f"preds and target: expected (N, ...) and (N, ...), or (N, C, ...) and (N, ...); "
                             f"got {p.shape} and {t.shape}")
        if num_classes is not None:
            _check_labels(t, "target", num_classes, ignore_index, f"class indices in [0, {num_classes})")
            if p.ndim == t.ndim:
                _check_labels(p, "preds", num_classes, ignore_index, f"class indices in [0, {num_classes})")
    if p.ndim == t.ndim + 1 and top_k == 1:
        p = p.argmax(1)
    p = p.reshape(p.shape[0], p.shape[1], -1) if top_k != 1 else _rows(p)
    return p, _rows(t).astype(np.int64, copy=False)


def _one_hot(labels, n):
    return (labels[..., None] == np.arange(n)).astype(np.int64)


def multiclass_stats(p, t, num_classes, top_k, average, multidim_average, ignore_index):
    C = num_classes
    if multidim_average == "samplewise" or top_k != 1:
        ignore_in = ignore_index is not None and 0 <= ignore_index < C
        extra = ignore_index is not None and not ignore_in
        if extra:
            idx = t == ignore_index
            t = np.where(idx, C, t)
            if top_k == 1:
                p = np.where(idx, C, p)
        if top_k > 1:  # the prediction is the target when it is among the top k, else the top 1
            order = np.argsort(-p, axis=1, kind="stable")[:, :top_k]  # (N, k, L)
            hit = np.any(order == t[:, None, :], axis=1)
            label = np.where(hit, t, order[:, 0])
            p_oh = _one_hot(label, C + 1 if extra else C)
        else:
            p_oh = _one_hot(p.astype(np.int64), C + 1 if extra else C)
        t_oh = _one_hot(t, C + 1 if extra else C)
        if extra:
            p_oh, t_oh = p_oh[..., :-1], t_oh[..., :-1]
            t_oh[t == C] = -1
        elif ignore_index is not None:
            t_oh[t == ignore_index] = -1
        axis = (0, 1) if multidim_average == "global" else 1
        eq, pos, neg = t_oh == p_oh, t_oh == 1, t_oh == 0
        return (eq & pos).sum(axis), (~eq & neg).sum(axis), (eq & neg).sum(axis), (~eq & pos).sum(axis)
    p, t = p.reshape(-1).astype(np.int64), t.reshape(-1)
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    if average == "micro":
        tp = np.int64((p == t).sum())
        wrong = np.int64((p != t).sum())
        return tp, wrong, np.int64(C * p.size - (2 * wrong + tp)), wrong
    cm = np.bincount(t * C + p, minlength=C * C).reshape(C, C)
    tp = np.diag(cm).copy()
    fp, fn = cm.sum(0) - tp, cm.sum(1) - tp
    return tp, fp, cm.sum() - (fp + fn + tp), fn


# ---- multilabel ----
def multilabel_format(preds, target, num_labels, threshold, ignore_index, multidim_average, validate=True):
    p, t = as_array(preds, "preds"), as_array(target, "target")
    if validate:
        if p.shape != t.shape:
            raise ValueError(f"preds and target must have the same shape, got {p.shape} and {t.shape}")
        if p.ndim < 2 or p.shape[1] != num_labels:
            raise ValueError(f"preds: expected shape (N, {num_labels}, ...) (num_labels={num_labels}), got {p.shape}")
        _check_labels(t, "target", 2, ignore_index, "only 0 and 1")
        if p.dtype.kind != "f":
            _check_labels(p, "preds", 2, None, "only 0 and 1 (integer preds are labels)")
        if multidim_average == "samplewise" and p.ndim < 3:
            raise ValueError("preds: expected (N, L, ...) with at least 3 dimensions when multidim_average="
                             "'samplewise'")
    if p.dtype.kind == "f":
        p = _sigmoid_if_logits(p) > threshold
    p, t = p.reshape(p.shape[0], p.shape[1], -1), t.reshape(t.shape[0], t.shape[1], -1)
    if ignore_index is not None:
        t = np.where(t == ignore_index, -1, t)
    return p, t


def multilabel_stats(p, t, multidim_average):
    axis = (0, 2) if multidim_average == "global" else 2
    eq, pos, neg = t == p, t == 1, t == 0
    return ((eq & pos).sum(axis), (~eq & neg).sum(axis), (eq & neg).sum(axis), (~eq & pos).sum(axis))


# ---- reductions ----
def safe_divide(num, den, zero_division=0.0):
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1), float(zero_division))


def _weighted(score, average, multilabel, tp, fp, fn, top_k=1):
    if average is None or average == "none":
        return score
    if average == "weighted":
        w = (tp + fn).astype(np.float64)
    else:
        w = np.ones_like(score, dtype=np.float64)
        if not multilabel:
            w[(tp + fp + fn == 0) if top_k == 1 else (tp + fn == 0)] = 0.0
    return safe_divide(w * score, w.sum(-1, keepdims=True)).sum(-1)


def _micro(x, multidim_average):
    x = np.asarray(x)
    return x.sum(0 if multidim_average == "global" else 1) if x.ndim else x


def reduce(kind, tp, fp, tn, fn, average, multidim_average, multilabel=False, top_k=1, zero_division=0,
           beta=1.0):
    """accuracy / precision / recall / fbeta / specificity from the counts, averaged as torchmetrics does."""
    tp, fp, tn, fn = (np.asarray(v) for v in (tp, fp, tn, fn))
    if average == "micro":
        tp, fp, tn, fn = (_micro(v, multidim_average) for v in (tp, fp, tn, fn))
    if kind == "accuracy":
        if average == "binary" or multilabel:
            score = safe_divide(tp + tn, tp + tn + fp + fn)
        else:
            score = safe_divide(tp, tp + fn)
    elif kind == "precision":
        score = safe_divide(tp, tp + fp, zero_division)
    elif kind == "recall":
        score = safe_divide(tp, tp + fn, zero_division)
    elif kind == "specificity":
        score = safe_divide(tn, tn + fp, zero_division)
    else:
        b2 = beta * beta
        score = safe_divide((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp, zero_division)
    if average in ("binary", "micro"):
        return score
    return _weighted(score, average, multilabel, tp, fp, fn, top_k if kind != "fbeta" else 1)


# ---- confusion matrices ----
def confusion_binary(p, t):
    keep = t.reshape(-1) != -1
    return np.bincount(t.reshape(-1)[keep].astype(np.int64) * 2 + p.reshape(-1)[keep].astype(np.int64),
                       minlength=4).reshape(2, 2)


def confusion_multiclass(p, t, num_classes, ignore_index):
    p, t = p.reshape(-1).astype(np.int64), t.reshape(-1)
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    return np.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def confusion_multilabel(p, t, num_labels):
    L = num_labels
    p = np.moveaxis(p, 1, -1).reshape(-1, L).astype(np.int64)
    t = np.moveaxis(t, 1, -1).reshape(-1, L).astype(np.int64)
    keep = t != -1
    code = (t * 2 + p + 4 * np.arange(L))[keep]
    return np.bincount(code, minlength=4 * L).reshape(L, 2, 2)


def normalize_confusion(cm, normalize):
    if normalize is None or normalize == "none":
        return cm
    cm = cm.astype(np.float64)
    axes = {"true": (-1,), "pred": (-2,), "all": (-2, -1)}[normalize]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = cm / cm.sum(axis=axes, keepdims=True)
    nans = int(np.isnan(out).sum())
    if nans:
        import warnings

        warnings.warn(f"{nans} NaN values found in confusion matrix have been replaced with zeros.", UserWarning,
                      stacklevel=4)
    return np.nan_to_num(out, nan=0.0)
