"""The losses as functions of arrays, PyTorch's definitions: ``loss_fn(out, target, ..., need_grad, ws) ->
(loss, d loss / d out)`` -- the value and the gradient together (the common cases in one fused kernel).

nn.functional's losses call them under a graph node (whose backward scales the gradient), the loss
modules call nn.functional on tensors, and call them directly on arrays for the explicit chain (fit's
step): one implementation per loss. ``loss`` is a Python float, or an array for reduction='none'
(the gradient is then that of the sum). Outputs come from the workspace ``ws``.
"""
import numpy as np

from . import ops

REDUCTIONS = ("mean", "sum", "none")
_REDUCTION_SET = frozenset(REDUCTIONS)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def reduction_arg(reduction, size_average=None, reduce=None):
    """PyTorch's deprecated (size_average, reduce) pair folded into reduction, which is checked."""
    if size_average is None and reduce is None and reduction in _REDUCTION_SET:
        return reduction
    if size_average is not None or reduce is not None:
        reduction = "none" if reduce is False else ("sum" if size_average is False else "mean")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction: expected one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def output_arg(out, who):
    if out.dtype not in _FLOATS:
        raise TypeError(f"{who}: output must be float32 or float64, got {out.dtype}")
    return out


def _target(target, out, who, ws):
    target = np.asarray(target)
    if target.shape != out.shape:
        raise ValueError(f"{who}: target shape {target.shape} does not match output shape {out.shape}")
    if target.dtype != out.dtype:
        buf = ws.get("loss.t", target.shape, out.dtype)
        np.copyto(buf, target, casting="unsafe")
        target = buf
    return target


def _reduce(elems, reduction, n=None):
    if reduction == "none":
        return elems
    s = float(np.sum(elems, dtype=np.float64))
    if reduction == "sum":
        return s
    n = elems.size if n is None else n
    return s / n if n else float("nan")


def _scale(reduction, n):
    return 1.0 / n if reduction == "mean" and n else 1.0


def class_targets(t, n, c, who, ignore_index=None, check_range=True):
    """Class-index targets as int64 of shape (n,), each in [0, c) unless it is ignore_index."""
    t = np.asarray(t)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{who}: expected integer class indices as target (dtype int64), got dtype {t.dtype}")
    if t.shape != (n,):
        raise ValueError(f"{who}: expected a target of shape ({n},), got {t.shape}")
    if t.dtype != np.int64:  # other integer dtypes (uint8, int32, uint64, ...) as int64, values checked
        if t.size and t.dtype.kind == "u" and t.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{who}: target class index {t.max()} is outside [0, {c})")
        t = t.astype(np.int64)
    if not check_range:
        return t
    valid = t != ignore_index if ignore_index is not None else None
    tv = t if valid is None else t[valid]
    if tv.size and (tv.min() < 0 or tv.max() >= c):
        bad = tv[(tv < 0) | (tv >= c)][0]
        raise ValueError(f"{who}: target class index {bad} is outside [0, {c})")
    return t


def _to_rows(out, target):
    """(N, C, d1, ...) logits and (N, d1, ...) targets -> (N*d1*..., C) rows and flat targets."""
    if out.ndim > 2:
        C = out.shape[1]
        rows = np.ascontiguousarray(np.moveaxis(out, 1, -1)).reshape(-1, C)
        return rows, np.asarray(target).reshape(-1), out.shape
    return out, target, None


def _from_rows(grad, shape):
    if shape is None:
        return grad
    moved = grad.reshape((shape[0],) + shape[2:] + (shape[1],))
    return np.ascontiguousarray(np.moveaxis(moved, -1, 1))


def _per_row(loss, shape, reduction):
    return loss.reshape((shape[0],) + shape[2:]) if shape is not None and reduction == "none" else loss


def _fused(weight, ignore_index, c):
    """Whether the fused kernel computes a class-index loss over c classes: no class weights, and no class
    index that could be the ignored one (an ignore_index outside [0, c), as the default -100, makes the
    kernel's range check send such targets to the general path)."""
    return weight is None and not 0 <= ignore_index < c


# ---- classification ----
def cross_entropy(out, target, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean", need_grad=True,
                  ws=None):
    """Softmax cross-entropy from logits (N, C) (or (N, C, d1, ...)) and class indices (N,) (or (N, d1,
    ...)) -- or class probabilities of the logits' shape -- with class weights, ignore_index and label
    smoothing as PyTorch; 'mean' divides by the summed weights of the counted targets."""
    if (out.ndim == 2 and type(target) is np.ndarray and target.ndim == 1 and target.dtype == np.int64
            and _fused(weight, ignore_index, out.shape[1])):
        g = ws.get("ce.g", out.shape, out.dtype) if need_grad else None
        try:  # (N, C) logits and class indices (fit's step): straight to the fused kernel
            res = ops.cross_entropy(out, target, reduction=reduction, label_smoothing=label_smoothing, grad=g) \
                if g is not None else ops.cross_entropy(out, target, reduction=reduction,
                                                        label_smoothing=label_smoothing)
            return (res[0], g) if g is not None else (res, None)
        except ValueError:  # an index out of range (or ignored): the general path says which
            pass
    if out.ndim < 2:
        if out.ndim == 1:  # one unbatched sample
            loss, g = cross_entropy(out[None], np.asarray(target).reshape(1), weight, ignore_index, label_smoothing,
                                    reduction, need_grad, ws)
            return (loss[0] if reduction == "none" else loss), (g[0] if g is not None else None)
        raise ValueError(f"CrossEntropyLoss: expected logits of shape (N, C), got {out.shape}")
    target = np.asarray(target)
    if target.dtype.kind == "f":
        return _soft_ce(out, target, weight, label_smoothing, reduction, need_grad)
    rows, t, shape = _to_rows(out, target)
    n, c = rows.shape
    t = class_targets(t, n, c, "CrossEntropyLoss", check_range=False)
    if _fused(weight, ignore_index, c):
        g = ws.get("ce.g", rows.shape, rows.dtype) if need_grad else None
        try:  # the fused kernel (its binding checks every index: an ignored one sends us below)
            loss = ops.cross_entropy(rows, t, reduction=reduction, label_smoothing=label_smoothing, grad=g) \
                if g is not None else ops.cross_entropy(rows, t, reduction=reduction, label_smoothing=label_smoothing)
        except ValueError:
            if not (t == ignore_index).any():
                class_targets(t, n, c, "CrossEntropyLoss")
                raise
        else:
            if g is not None:
                loss = loss[0]
            return _per_row(loss, shape, reduction), (_from_rows(g, shape) if g is not None else None)
    class_targets(t, n, c, "CrossEntropyLoss", ignore_index)
    loss, g = _weighted_ce(rows, t, weight, ignore_index, label_smoothing, reduction, need_grad)
    return _per_row(loss, shape, reduction), (_from_rows(g, shape) if g is not None else None)


def _weighted_ce(x, t, weight, ignore_index, eps, reduction, need_grad):
    """Cross-entropy with class weights and/or ignored targets (PyTorch's definition), in NumPy over the
    fused log-softmax kernel."""
    n, c = x.shape
    logp = ops.log_softmax(x).astype(np.float64)
    valid = t != ignore_index
    tt = np.where(valid, t, 0)
    w = np.ones(c) if weight is None else weight
    if w.shape != (c,):
        raise ValueError(f"weight: expected {c} class weights, got shape {w.shape}")
    wt = w[tt] * valid
    nll = -logp[np.arange(n), tt] * wt
    smooth = -(logp * w).sum(axis=1) * valid if eps else 0.0
    per = (1 - eps) * nll + eps / c * smooth
    denom = wt.sum()
    if reduction == "mean":
        loss = float(per.sum() / denom) if denom else float("nan")
        scale = 1.0 / denom if denom else 0.0
    elif reduction == "sum":
        loss, scale = float(per.sum()), 1.0
    else:
        loss, scale = per.astype(x.dtype), 1.0
    g = None
    if need_grad:
        p = np.exp(logp)
        gd = p * ((1 - eps) * wt + eps / c * w.sum() * valid)[:, None]
        gd[np.arange(n), tt] -= (1 - eps) * wt
        gd -= (eps / c) * w[None, :] * valid[:, None]
        g = (gd * scale).astype(x.dtype)
    return loss, g


def _soft_ce(out, target, weight, eps, reduction, need_grad):
    """Cross-entropy against class probabilities: loss_i = -sum_c t_ic log softmax(x_i)_c."""
    if target.shape != out.shape:
        raise ValueError(f"CrossEntropyLoss: probability targets must have the logits' shape {out.shape}, "
                         f"got {target.shape}")
    rows, _, shape = _to_rows(out, np.zeros(0))
    trows, _, _ = _to_rows(target.astype(out.dtype), np.zeros(0))
    n, c = rows.shape
    tr = trows.astype(np.float64) * (1 - eps) + eps / c
    if weight is not None:
        tr = tr * weight[None, :]
    logp = ops.log_softmax(rows).astype(np.float64)
    per = -(tr * logp).sum(axis=1)
    loss = _reduce(per.astype(out.dtype), reduction, n) if reduction != "none" else per.astype(out.dtype)
    g = None
    if need_grad:
        g = ((np.exp(logp) * tr.sum(axis=1, keepdims=True) - tr) * _scale(reduction, n)).astype(out.dtype)
        g = _from_rows(g, shape)
    return _per_row(loss, shape, reduction), g


def nll_loss(out, target, weight=None, ignore_index=-100, reduction="mean", need_grad=True, ws=None):
    """Negative log-likelihood of log-probabilities (N, C) (e.g. a LogSoftmax output):
    -sum_i w_{t_i} x_i[t_i] / sum_i w_{t_i} (mean), targets equal to ignore_index skipped."""
    if out.ndim < 2:
        raise ValueError(f"NLLLoss: expected log-probabilities of shape (N, C), got {out.shape}")
    rows, t, shape = _to_rows(out, np.asarray(target))
    n, c = rows.shape
    t = class_targets(t, n, c, "NLLLoss", ignore_index)
    valid = t != ignore_index
    tt = np.where(valid, t, 0)
    w = (np.ones(c) if weight is None else weight)[tt] * valid
    picked = rows[np.arange(n), tt].astype(np.float64)
    per = -picked * w
    denom = w.sum()
    if reduction == "mean":
        loss, scale = (float(per.sum() / denom) if denom else float("nan")), (1.0 / denom if denom else 0.0)
    elif reduction == "sum":
        loss, scale = float(per.sum()), 1.0
    else:
        loss, scale = _per_row(per.astype(out.dtype), shape, reduction), 1.0
    g = None
    if need_grad:
        g = ws.get("nll.g", rows.shape, rows.dtype) if shape is None else np.zeros(rows.shape, rows.dtype)
        g.fill(0)
        g[np.arange(n), tt] = -w * scale
        g = _from_rows(g, shape)
    return loss, g


# ---- element-wise losses of output and target of one shape ----
def _pair(kernel, who, out, target, reduction, need_grad, ws):
    target = _target(target, out, who, ws)
    if need_grad:
        g = ws.get("pair.g", out.shape, out.dtype)
        loss, _ = kernel(out, target, reduction=reduction, grad=g)
        return loss, g
    return kernel(out, target, reduction=reduction), None


def mse_loss(out, target, reduction="mean", need_grad=True, ws=None):
    """mean (or sum) of (output - target)^2, fused with its gradient."""
    return _pair(ops.mse_loss, "MSELoss", out, target, reduction, need_grad, ws)


def l1_loss(out, target, reduction="mean", need_grad=True, ws=None):
    """mean (or sum) of abs(output - target), fused with its gradient."""
    return _pair(ops.l1_loss, "L1Loss", out, target, reduction, need_grad, ws)


def binary_cross_entropy_with_logits(out, target, weight=None, pos_weight=None, reduction="mean", need_grad=True,
                                     ws=None):
    """Binary cross-entropy on logits, stable: log(1 + e^x) - x t; with pos_weight p and weight w
    (PyTorch's): w [p t log(1 + e^-x) + (1 - t) log(1 + e^x)]."""
    if weight is None and pos_weight is None:
        return _pair(ops.binary_cross_entropy_with_logits, "BCEWithLogitsLoss", out, target, reduction, need_grad, ws)
    t = _target(target, out, "BCEWithLogitsLoss", ws).astype(np.float64)
    x = out.astype(np.float64)
    pw = 1.0 if pos_weight is None else pos_weight
    w = 1.0 if weight is None else weight
    sp_neg = np.logaddexp(0, -x)  # log(1 + e^-x) = -log sigmoid(x)
    sp_pos = np.logaddexp(0, x)
    elems = w * (pw * t * sp_neg + (1 - t) * sp_pos)
    loss = _reduce(elems.astype(out.dtype), reduction) if reduction != "none" else elems.astype(out.dtype)
    g = None
    if need_grad:
        s = 1 / (1 + np.exp(-x))
        g = (w * (-(pw * t) * (1 - s) + (1 - t) * s) * _scale(reduction, out.size)).astype(out.dtype)
        g = np.broadcast_to(g, out.shape).copy() if g.shape != out.shape else g
    return loss, g


def binary_cross_entropy(out, target, weight=None, reduction="mean", need_grad=True, ws=None):
    """Binary cross-entropy on probabilities: -(t log p + (1 - t) log(1 - p)), logs clamped at -100
    (PyTorch's)."""
    t = _target(target, out, "BCELoss", ws).astype(np.float64)
    p = out.astype(np.float64)
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError("BCELoss: all elements of input should be between 0 and 1")
    w = 1.0 if weight is None else weight
    with np.errstate(divide="ignore"):
        lp, l1p = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
    elems = -w * (t * lp + (1 - t) * l1p)
    loss = _reduce(elems.astype(out.dtype), reduction) if reduction != "none" else elems.astype(out.dtype)
    g = None
    if need_grad:
        g = (w * (p - t) / np.maximum((1 - p) * p, 1e-12) * _scale(reduction, out.size)).astype(out.dtype)
        g = np.broadcast_to(g, out.shape).copy() if g.shape != out.shape else g
    return loss, g


def _huber(d, delta, scale_quad):
    a = np.abs(d)
    if delta == 0:
        return a, np.sign(d)
    quad = a < delta
    elems = np.where(quad, 0.5 * d * d * scale_quad, (a - 0.5 * delta) * (delta * scale_quad))
    grad = np.where(quad, d * scale_quad, np.sign(d) * delta * scale_quad)
    return elems, grad


def _robust(out, target, delta, scale_quad, who, reduction, need_grad, ws):
    d = out.astype(np.float64) - _target(target, out, who, ws)
    elems, grad = _huber(d, delta, scale_quad)
    loss = _reduce(elems.astype(out.dtype), reduction) if reduction != "none" else elems.astype(out.dtype)
    return loss, ((grad * _scale(reduction, out.size)).astype(out.dtype) if need_grad else None)


def smooth_l1_loss(out, target, beta=1.0, reduction="mean", need_grad=True, ws=None):
    """0.5 d^2 / beta where abs(d) < beta, abs(d) - 0.5 beta elsewhere (d = output - target)."""
    return _robust(out, target, beta, 1.0 / beta if beta else 1.0, "SmoothL1Loss", reduction, need_grad, ws)


def huber_loss(out, target, delta=1.0, reduction="mean", need_grad=True, ws=None):
    """0.5 d^2 where abs(d) < delta, delta (abs(d) - 0.5 delta) elsewhere."""
    return _robust(out, target, delta, 1.0, "HuberLoss", reduction, need_grad, ws)


def kl_div(out, target, log_target=False, reduction="mean", need_grad=True, ws=None):
    """Kullback-Leibler divergence with log-probability input: t (log t - input) (log_target: the target is
    log-probabilities too); reduction='batchmean' divides the sum by the batch size."""
    t = np.asarray(target, np.float64)
    if t.shape != out.shape:
        raise ValueError(f"KLDivLoss: target shape {t.shape} does not match input shape {out.shape}")
    x = out.astype(np.float64)
    if log_target:
        elems, grad = np.exp(t) * (t - x), -np.exp(t)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            elems = np.where(t > 0, t * (np.log(np.where(t > 0, t, 1)) - x), 0.0)
        grad = -t
    n = out.shape[0] if out.ndim else 1
    if reduction == "batchmean":
        return float(elems.sum() / n), ((grad / n).astype(out.dtype) if need_grad else None)
    loss = _reduce(elems.astype(out.dtype), reduction) if reduction != "none" else elems.astype(out.dtype)
    return loss, ((grad * _scale(reduction, out.size)).astype(out.dtype) if need_grad else None)
