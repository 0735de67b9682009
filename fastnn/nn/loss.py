"""Losses with PyTorch's names, arguments and values.

On tensors, ``loss = loss_fn(output, target)`` is a 0-d tensor in the graph (``loss.backward()``). On
arrays (the explicit chain that ``fit`` uses) it returns a Python float -- an array for
reduction='none' -- and ``loss_fn.backward()`` returns d loss / d output (for 'none': of the sum).
The common cases run one fused kernel that computes the loss and its gradient together.
"""
import numpy as np

from .. import ops
from .._autograd import Node, _mode, edge
from ..tensor import Tensor, _arr, _wrap
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _loss_bwd(ctx, g, edges):
    grad, none_rows = ctx
    if g.ndim == 0:
        gv = g.item()
        return (grad if gv == 1.0 else grad * np.asarray(gv, grad.dtype),)
    if none_rows is not None:  # reduction='none' over rows of a (N, C) loss: scale each row
        return (grad * g.reshape(none_rows).astype(grad.dtype, copy=False),)
    return (grad * g.astype(grad.dtype, copy=False),)


class _Loss(Module):
    _rows = False  # reduction='none' gives one value per row (classification losses)
    _node_impl = staticmethod(_loss_bwd)

    def __init__(self, reduction="mean", size_average=None, reduce=None):
        super().__init__()
        if size_average is not None or reduce is not None:  # PyTorch's deprecated pair
            reduction = "none" if reduce is False else ("sum" if size_average is False else "mean")
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction: expected one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction
        self._g = None

    def __call__(self, output, target):
        if self._forward_hooks or self._forward_pre_hooks:
            return self._hooked_call((output, target), {})
        return self.forward(output, target)

    def forward(self, output, target):
        if isinstance(output, Tensor):
            out = self._output(output._a)
            need = _mode.enabled and output.requires_grad
            loss, grad = self._compute(out, _arr(target), need)
            y = np.asarray(loss, out.dtype)
            if need:
                t = _wrap(y)
                rows = (out.shape[0], 1) + out.shape[2:] if self.reduction == "none" and self._rows else None
                t._node, t.requires_grad = Node(type(self)._node_fn, (grad, rows), (edge(output),)), True
                return t
            return _wrap(y)
        out = self._output(np.asarray(output))
        loss, self._g = self._compute(out, _arr(target), True)
        return loss

    def backward(self, grad=1.0, need_input_grad=True):
        """d loss / d output of the last array-mode call (scaled by grad)."""
        if self._g is None:
            raise RuntimeError(f"{type(self).__name__}.backward(): call the loss on arrays first (with "
                               "tensors, call loss.backward())")
        if grad != 1.0:
            np.multiply(self._g, grad, out=self._g)
        return self._g

    def _output(self, output):
        if output.dtype not in (np.float32, np.float64):
            raise TypeError(f"{type(self).__name__}: output must be float32 or float64, got {output.dtype}")
        return output

    def _target(self, target, output):
        target = np.asarray(target)
        if target.shape != output.shape:
            raise ValueError(f"{type(self).__name__}: target shape {target.shape} does not match output "
                             f"shape {output.shape}")
        if target.dtype != output.dtype:
            buf = self._buf("t", target.shape, output.dtype)
            np.copyto(buf, target, casting="unsafe")
            target = buf
        return target

    def _reduce(self, elems, n=None):
        if self.reduction == "none":
            return elems
        s = float(np.sum(elems, dtype=np.float64))
        if self.reduction == "sum":
            return s
        n = elems.size if n is None else n
        return s / n if n else float("nan")

    def _scale(self, n):
        return 1.0 / n if self.reduction == "mean" and n else 1.0

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


def _class_targets(t, n, c, who, ignore_index=None, check_range=True):
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


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits (N, C) (or (N, C, d1, ...)) and class indices (N,) (or
    (N, d1, ...)) -- or class probabilities of the logits' shape:
    loss_i = w_{t_i} (logsumexp(x_i) - (1 - eps) x_i[t_i]) - eps/C sum_j w_j x_ij ... as PyTorch,
    eps = label_smoothing, w = weight (per class), targets equal to ignore_index skipped; 'mean' divides
    by the summed weights of the counted targets. Without weight and ignore_index it is one fused,
    stable kernel."""

    _rows = True

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(reduction, size_average, reduce)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing: expected a value in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)
        self.ignore_index = int(ignore_index)
        self.weight = None if weight is None else np.asarray(_arr(weight), np.float64)

    def forward(self, output, target):
        if (type(output) is np.ndarray and output.ndim == 2 and output.dtype in _FLOATS
                and type(target) is np.ndarray and target.ndim == 1 and target.dtype == np.int64
                and self._fused(output.shape[1])):
            # (N, C) logits and class indices, on arrays: fit's step, straight to the fused kernel
            g = self._buf("g", output.shape, output.dtype)
            try:
                loss, _ = ops.cross_entropy(output, target, reduction=self.reduction,
                                            label_smoothing=self.label_smoothing, grad=g)
            except ValueError:  # an index out of range (or ignored): the general path says which
                return super().forward(output, target)
            self.__dict__["_g"] = g
            return loss
        return super().forward(output, target)

    def _fused(self, c):
        """Whether the fused kernel computes this loss over c classes: no class weights, and no class
        index that could be the ignored one (an ignore_index outside [0, c), as the default -100,
        makes the kernel's range check send such targets to the general path)."""
        return self.weight is None and not 0 <= self.ignore_index < c

    def _compute(self, out, target, need_grad):
        if out.ndim < 2:
            if out.ndim == 1:  # one unbatched sample
                loss, g = self._compute(out[None], np.asarray(target).reshape(1), need_grad)
                return (loss[0] if self.reduction == "none" else loss), (g[0] if g is not None else None)
            raise ValueError(f"CrossEntropyLoss: expected logits of shape (N, C), got {out.shape}")
        target = np.asarray(target)
        if target.dtype.kind == "f":
            return _soft_ce(self, out, target, need_grad)
        rows, t, shape = _to_rows(out, target)
        n, c = rows.shape
        t = _class_targets(t, n, c, "CrossEntropyLoss", check_range=False)
        if self._fused(c):
            g = self._buf("g", rows.shape, rows.dtype) if need_grad else None
            try:  # the fused kernel (its binding checks every index: an ignored one sends us below)
                loss = ops.cross_entropy(rows, t, reduction=self.reduction, label_smoothing=self.label_smoothing,
                                         grad=g) if g is not None else \
                    ops.cross_entropy(rows, t, reduction=self.reduction, label_smoothing=self.label_smoothing)
            except ValueError:
                if not (t == self.ignore_index).any():
                    _class_targets(t, n, c, "CrossEntropyLoss")
                    raise
            else:
                if g is not None:
                    loss = loss[0]
                if shape is not None and self.reduction == "none":
                    loss = loss.reshape((shape[0],) + shape[2:])
                return loss, (_from_rows(g, shape) if g is not None else None)
        _class_targets(t, n, c, "CrossEntropyLoss", self.ignore_index)
        loss, g = _weighted_ce(rows, t, self.weight, self.ignore_index, self.label_smoothing, self.reduction,
                               need_grad)
        if shape is not None and self.reduction == "none":
            loss = loss.reshape((shape[0],) + shape[2:])
        return loss, (_from_rows(g, shape) if g is not None else None)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


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


def _soft_ce(m, out, target, need_grad):
    """Cross-entropy against class probabilities: loss_i = -sum_c t_ic log softmax(x_i)_c."""
    if target.shape != out.shape:
        raise ValueError(f"CrossEntropyLoss: probability targets must have the logits' shape {out.shape}, "
                         f"got {target.shape}")
    rows, _, shape = _to_rows(out, np.zeros(0))
    trows, _, _ = _to_rows(target.astype(out.dtype), np.zeros(0))
    n, c = rows.shape
    eps = m.label_smoothing
    tr = trows.astype(np.float64) * (1 - eps) + eps / c
    if m.weight is not None:
        tr = tr * m.weight[None, :]
    logp = ops.log_softmax(rows).astype(np.float64)
    per = -(tr * logp).sum(axis=1)
    scale = m._scale(n)
    loss = m._reduce(per.astype(out.dtype), n) if m.reduction != "none" else per.astype(out.dtype)
    g = None
    if need_grad:
        g = ((np.exp(logp) * tr.sum(axis=1, keepdims=True) - tr) * scale).astype(out.dtype)
        g = _from_rows(g, shape)
    if shape is not None and m.reduction == "none":
        loss = loss.reshape((shape[0],) + shape[2:])
    return loss, g


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, C) (e.g. a LogSoftmax output):
    loss = -sum_i w_{t_i} x_i[t_i] / sum_i w_{t_i} (mean), targets equal to ignore_index skipped."""

    _rows = True

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(reduction, size_average, reduce)
        self.ignore_index = int(ignore_index)
        self.weight = None if weight is None else np.asarray(_arr(weight), np.float64)

    def _fused(self, c):
        """Whether the fused kernel computes this loss over c classes: no class weights, and no class
        index that could be the ignored one (an ignore_index outside [0, c), as the default -100,
        makes the kernel's range check send such targets to the general path)."""
        return self.weight is None and not 0 <= self.ignore_index < c

    def _compute(self, out, target, need_grad):
        if out.ndim < 2:
            raise ValueError(f"NLLLoss: expected log-probabilities of shape (N, C), got {out.shape}")
        rows, t, shape = _to_rows(out, np.asarray(target))
        n, c = rows.shape
        t = _class_targets(t, n, c, "NLLLoss", self.ignore_index)
        valid = t != self.ignore_index
        tt = np.where(valid, t, 0)
        w = (np.ones(c) if self.weight is None else self.weight)[tt] * valid
        picked = rows[np.arange(n), tt].astype(np.float64)
        per = -picked * w
        denom = w.sum()
        if self.reduction == "mean":
            loss, scale = (float(per.sum() / denom) if denom else float("nan")), (1.0 / denom if denom else 0.0)
        elif self.reduction == "sum":
            loss, scale = float(per.sum()), 1.0
        else:
            loss, scale = per.astype(out.dtype), 1.0
            if shape is not None:
                loss = loss.reshape((shape[0],) + shape[2:])
        g = None
        if need_grad:
            g = self._buf("g", rows.shape, rows.dtype) if shape is None else np.zeros(rows.shape, rows.dtype)
            g.fill(0)
            g[np.arange(n), tt] = -w * scale
            g = _from_rows(g, shape)
        return loss, g


class _PairLoss(_Loss):
    """Element-wise losses of output and target of one shape, fused with their gradient."""
    _op = None

    def _compute(self, out, target, need_grad):
        target = self._target(target, out)
        if need_grad:
            g = self._buf("g", out.shape, out.dtype)
            loss, _ = type(self)._op(out, target, reduction=self.reduction, grad=g)
            return loss, g
        return type(self)._op(out, target, reduction=self.reduction), None


class MSELoss(_PairLoss):
    """mean (or sum) of (output - target)^2."""
    _op = staticmethod(ops.mse_loss)


class L1Loss(_PairLoss):
    """mean (or sum) of abs(output - target)."""
    _op = staticmethod(ops.l1_loss)


class BCEWithLogitsLoss(_PairLoss):
    """Binary cross-entropy on logits, stable: mean of log(1 + e^x) - x t; with pos_weight p and
    weight w (PyTorch's): w [p t log(1 + e^-x) + (1 - t) log(1 + e^x)] ... ."""
    _op = staticmethod(ops.binary_cross_entropy_with_logits)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(reduction, size_average, reduce)
        self.weight = None if weight is None else np.asarray(_arr(weight))
        self.pos_weight = None if pos_weight is None else np.asarray(_arr(pos_weight))

    def _compute(self, out, target, need_grad):
        if self.weight is None and self.pos_weight is None:
            return super()._compute(out, target, need_grad)
        t = self._target(target, out).astype(np.float64)
        x = out.astype(np.float64)
        pw = 1.0 if self.pos_weight is None else self.pos_weight
        w = 1.0 if self.weight is None else self.weight
        sp_neg = np.logaddexp(0, -x)  # log(1 + e^-x) = -log sigmoid(x)
        sp_pos = np.logaddexp(0, x)
        elems = w * (pw * t * sp_neg + (1 - t) * sp_pos)
        loss = self._reduce(elems.astype(out.dtype)) if self.reduction != "none" else elems.astype(out.dtype)
        g = None
        if need_grad:
            s = 1 / (1 + np.exp(-x))
            g = (w * (-(pw * t) * (1 - s) + (1 - t) * s) * self._scale(out.size)).astype(out.dtype)
            g = np.broadcast_to(g, out.shape).copy() if g.shape != out.shape else g
        return loss, g


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities: -(t log p + (1 - t) log(1 - p)), logs clamped at -100
    (PyTorch's); prefer BCEWithLogitsLoss (stable)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction, size_average, reduce)
        self.weight = None if weight is None else np.asarray(_arr(weight))

    def _compute(self, out, target, need_grad):
        t = self._target(target, out).astype(np.float64)
        p = out.astype(np.float64)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError("BCELoss: all elements of input should be between 0 and 1")
        w = 1.0 if self.weight is None else self.weight
        with np.errstate(divide="ignore"):
            lp, l1p = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
        elems = -w * (t * lp + (1 - t) * l1p)
        loss = self._reduce(elems.astype(out.dtype)) if self.reduction != "none" else elems.astype(out.dtype)
        g = None
        if need_grad:
            g = (w * (p - t) / np.maximum((1 - p) * p, 1e-12) * self._scale(out.size)).astype(out.dtype)
            g = np.broadcast_to(g, out.shape).copy() if g.shape != out.shape else g
        return loss, g


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where abs(d) < beta, abs(d) - 0.5 beta elsewhere (d = output - target)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(reduction, size_average, reduce)
        if beta < 0:
            raise ValueError(f"beta: expected >= 0, got {beta}")
        self.beta = float(beta)

    def _huber(self, d, delta, scale_quad):
        a = np.abs(d)
        if delta == 0:
            return a, np.sign(d)
        quad = a < delta
        elems = np.where(quad, 0.5 * d * d * scale_quad, (a - 0.5 * delta) * (delta * scale_quad))
        grad = np.where(quad, d * scale_quad, np.sign(d) * delta * scale_quad)
        return elems, grad

    def _compute(self, out, target, need_grad):
        d = out.astype(np.float64) - self._target(target, out)
        elems, grad = self._huber(d, self.beta, 1.0 / self.beta if self.beta else 1.0)
        loss = self._reduce(elems.astype(out.dtype)) if self.reduction != "none" else elems.astype(out.dtype)
        return loss, ((grad * self._scale(out.size)).astype(out.dtype) if need_grad else None)


class HuberLoss(SmoothL1Loss):
    """0.5 d^2 where abs(d) < delta, delta (abs(d) - 0.5 delta) elsewhere."""

    def __init__(self, reduction="mean", delta=1.0):
        _Loss.__init__(self, reduction)
        if delta <= 0:
            raise ValueError(f"delta: expected > 0, got {delta}")
        self.delta = float(delta)

    def _compute(self, out, target, need_grad):
        d = out.astype(np.float64) - self._target(target, out)
        elems, grad = self._huber(d, self.delta, 1.0)
        loss = self._reduce(elems.astype(out.dtype)) if self.reduction != "none" else elems.astype(out.dtype)
        return loss, ((grad * self._scale(out.size)).astype(out.dtype) if need_grad else None)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence with log-probability input: t (log t - input) (log_target: the
    target is log-probabilities too). reduction='batchmean' divides the sum by the batch size."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        if reduction == "batchmean":
            super().__init__("sum", size_average, reduce)
            self.reduction = "batchmean"
        else:
            super().__init__(reduction, size_average, reduce)
        self.log_target = bool(log_target)

    def _compute(self, out, target, need_grad):
        t = np.asarray(target, np.float64)
        if t.shape != out.shape:
            raise ValueError(f"KLDivLoss: target shape {t.shape} does not match input shape {out.shape}")
        x = out.astype(np.float64)
        if self.log_target:
            elems, grad = np.exp(t) * (t - x), -np.exp(t)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                elems = np.where(t > 0, t * (np.log(np.where(t > 0, t, 1)) - x), 0.0)
            grad = -t
        n = out.shape[0] if out.ndim else 1
        if self.reduction == "batchmean":
            return float(elems.sum() / n), ((grad / n).astype(out.dtype) if need_grad else None)
        loss = self._reduce(elems.astype(out.dtype)) if self.reduction != "none" else elems.astype(out.dtype)
        return loss, ((grad * self._scale(out.size)).astype(out.dtype) if need_grad else None)
