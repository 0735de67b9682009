"""fit / evaluate / predict: the Keras-style training loop over fastnn models."""
import math
import signal
import threading
import time

import numpy as np

from .. import nn, optim, regularizers
from .._threads import ensure_single_pool
from ..data import DataLoader
from .callbacks import Callback, ProgressBar, _restore, _snapshot
from .history import History

_LOSSES = {"cross_entropy": nn.CrossEntropyLoss, "crossentropy": nn.CrossEntropyLoss, "mse": nn.MSELoss,
           "l1": nn.L1Loss, "bce_with_logits": nn.BCEWithLogitsLoss, "nll": nn.NLLLoss}
_OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
               "adagrad": optim.Adagrad, "nadam": optim.NAdam}


def _loss_fn(loss):
    if isinstance(loss, str):
        if loss.lower() not in _LOSSES:
            raise ValueError(f"loss: unknown name {loss!r}; expected one of {sorted(_LOSSES)} or a loss module")
        return _LOSSES[loss.lower()]()
    if not (callable(loss) and hasattr(loss, "backward")):
        raise TypeError(f"loss: expected a fastnn loss (e.g. nn.CrossEntropyLoss()), got {type(loss).__name__}")
    return loss


def _classification(loss_fn):
    return isinstance(loss_fn, (nn.CrossEntropyLoss, nn.NLLLoss))


def _task(loss_fn):
    """What "accuracy" means: argmax for class labels, sign of the logit for BCE, nothing for regression."""
    if loss_fn is None or _classification(loss_fn):
        return "multiclass"
    if isinstance(loss_fn, nn.BCEWithLogitsLoss):
        return "binary"
    return "regression"


def _check_arrays(X, y, name="X", yname="y"):
    X = np.asarray(X)
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError(f"{name}: empty dataset (shape {X.shape})")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected a numeric array, got dtype {X.dtype}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        bad = int(np.argwhere(~np.isfinite(X.reshape(X.shape[0], -1)).all(axis=1))[0, 0])
        raise ValueError(f"{name}: contains NaN or Inf (first at sample {bad})")
    if y is not None:
        y = np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"{name}, {yname}: different numbers of samples ({X.shape[0]} and {y.shape[0]})")
    return X, y


def _check_targets(model, X, y, loss_fn, yname="y"):
    """A dry forward on two samples (eval mode: no state changes) checks the input width (the layer
    raises) and, for classification, that the labels fit the model's outputs."""
    was = [m.training for m in model.modules()]
    model.eval()
    try:
        out = model(X[:2])
    finally:
        for m, t in zip(model.modules(), was):
            object.__setattr__(m, "training", t)
    if _classification(loss_fn):
        if y.dtype.kind not in "iu":
            raise TypeError(f"{yname}: expected integer class labels for {type(loss_fn).__name__}, got dtype {y.dtype}")
        c = out.shape[-1]
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= c:
            raise ValueError(f"{yname}: labels must lie in [0, {c}) (the model has {c} outputs), "
                             f"found {lo if lo < 0 else hi}")
    elif y is not None and out.shape[1:] != y.shape[1:]:
        raise ValueError(f"{yname}: each target has shape {y.shape[1:]}, the model outputs {out.shape[1:]}")


class _Trainer:
    """What callbacks see: model, optimizer, epochs, n_batches, history, stop_training."""

    def __init__(self, model, optimizer, epochs, history):
        self.model, self.optimizer, self.epochs, self.history = model, optimizer, epochs, history
        self.stop_training = False
        self.n_batches = 0


class _Interrupt:
    """Ctrl-C during fit: finish the current step, then stop (installed only in the main thread)."""

    def __init__(self):
        self.hit = False
        self._old = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, *_):
        if self.hit:  # a second Ctrl-C: give up at once
            raise KeyboardInterrupt
        self.hit = True

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


def _metric_values(out, yb, metrics, task):
    """Per-batch sums of the metrics (divided by the sample count at the end)."""
    vals = {}
    for m in metrics:
        if m == "accuracy":
            if task == "multiclass":
                vals["accuracy"] = float(np.count_nonzero(out.argmax(axis=1) == yb))
            elif task == "binary":  # per element: logit > 0 vs target > 0.5, averaged over outputs
                hits = np.count_nonzero((out > 0) == (yb > 0.5))
                vals["accuracy"] = float(hits) / (out.size / out.shape[0])
        elif callable(m):
            vals[getattr(m, "__name__", "metric")] = float(m(out, yb)) * out.shape[0]
    return vals


def evaluate(model, X, y, *, loss=None, batch_size=256, metrics=("accuracy",)):
    """Mean loss and metrics over (X, y) in eval mode (the mode is restored afterwards). "accuracy" is
    the argmax match for class labels (also without a loss), the sign of the logit against targets > 0.5
    with BCEWithLogitsLoss, and not computed for regression losses."""
    X, y = _check_arrays(X, y)
    loss_fn = _loss_fn(loss) if loss is not None else None
    was = [m.training for m in model.modules()]
    model.eval()
    task = _task(loss_fn)
    sums, n = {}, 0
    try:
        for i in range(0, X.shape[0], batch_size):
            xb, yb = X[i:i + batch_size], y[i:i + batch_size]
            out = model(xb)
            k = xb.shape[0]
            if loss_fn is not None:
                sums["loss"] = sums.get("loss", 0.0) + loss_fn(out, yb) * k
            for name, v in _metric_values(out, yb, metrics, task).items():
                sums[name] = sums.get(name, 0.0) + v
            n += k
    finally:
        for m, t in zip(model.modules(), was):
            object.__setattr__(m, "training", t)
    return {k: v / n for k, v in sums.items()}


def predict(model, X, *, batch_size=256):
    """Model outputs for X in eval mode, as a new array (the mode is restored afterwards)."""
    X = np.asarray(X)
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError(f"X: empty dataset (shape {X.shape})")
    was = [m.training for m in model.modules()]
    model.eval()
    try:
        parts = [model(X[i:i + batch_size]).copy() for i in range(0, X.shape[0], batch_size)]
    finally:
        for m, t in zip(model.modules(), was):
            object.__setattr__(m, "training", t)
    return np.concatenate(parts, axis=0)


def fit(model, X, y, *, loss, optimizer, epochs, batch_size=32, validation_data=None, validation_split=0.0,
        scheduler=None, callbacks=(), metrics=("accuracy",), transform=None, clip_grad_norm=None, verbose=1,
        seed=None, shuffle=True, prefetch=None, terminate_on_nan=True):
    """Train `model` on (X, y) for `epochs` epochs; returns a History.

    loss: a loss module or name ("cross_entropy", "mse", ...); optimizer: a fastnn optimizer or a name
    ("adam", "sgd", ... with its default settings). validation_data=(X_val, y_val), or
    validation_split: the last fraction of (X, y), set aside before shuffling (Keras' rule).
    scheduler: stepped once per epoch -- ReduceLROnPlateau with the validation loss (training loss
    without validation data) -- or once per batch when its ``per_batch`` attribute is true (OneCycleLR).
    transform: augmentation applied to each training batch (fastnn.data transforms), fresh every epoch.
    clip_grad_norm: clip the global gradient norm to this value every step. Penalties attached with
    fastnn.regularizers are added to the reported loss. seed: reproducible batches and augmentation.
    prefetch: batches prepared ahead by the loader's background thread; default 2 with a transform
    (augmentation overlaps training) and 0 without (gathering an in-memory batch takes microseconds,
    while handing batches between threads costs a GIL switch per step: digits MLP at batch 32 measured
    636k samples/s inline vs 205k through the thread).

    Safety: every argument is checked before training starts (ValueError naming it); a non-finite loss
    stops training and restores the parameters of the start of that epoch (terminate_on_nan); Ctrl-C
    stops after the current step and returns the history so far, the model intact.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs: expected a positive int, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    if not (0.0 <= validation_split < 1.0):
        raise ValueError(f"validation_split: expected a fraction in [0, 1), got {validation_split!r}")
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ValueError(f"clip_grad_norm: expected a positive number, got {clip_grad_norm!r}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a fastnn Module, got {type(model).__name__}")
    loss_fn = _loss_fn(loss)
    X, y = _check_arrays(X, y)
    if y is None:
        raise ValueError("y: fit needs targets")
    if validation_data is not None:
        if validation_split:
            raise ValueError("validation_data, validation_split: give one or the other")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data: expected a pair (X_val, y_val)")
        Xv, yv = _check_arrays(*validation_data, name="validation_data[0]", yname="validation_data[1]")
    elif validation_split:
        nv = int(round(X.shape[0] * validation_split))
        if nv < 1 or nv >= X.shape[0]:
            raise ValueError(f"validation_split: {validation_split} of {X.shape[0]} samples leaves an empty split")
        X, Xv, y, yv = X[:-nv], X[-nv:], y[:-nv], y[-nv:]
    else:
        Xv = yv = None
    _check_targets(model, X, y, loss_fn)
    if Xv is not None:
        _check_targets(model, Xv, yv, loss_fn, "validation_data[1]")
    if isinstance(optimizer, str):
        if optimizer.lower() not in _OPTIMIZERS:
            raise ValueError(f"optimizer: unknown name {optimizer!r}; expected one of {sorted(_OPTIMIZERS)}")
        optimizer = _OPTIMIZERS[optimizer.lower()](model)
    if not isinstance(optimizer, optim.Optimizer):
        raise TypeError(f"optimizer: expected a fastnn optimizer, got {type(optimizer).__name__}")
    own = {id(p) for p in optimizer._params}
    if not any(id(p) in own for p in model.parameters()):
        raise ValueError("optimizer: it drives none of the model's parameters")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks: expected fastnn.training callbacks, got {type(cb).__name__}")
        mon = getattr(cb, "monitor", None)
        if mon and mon.startswith("val_") and Xv is None:
            raise ValueError(f"{type(cb).__name__}: monitors {mon!r} but fit has no validation data")
    callbacks.append(ProgressBar(verbose))
    ensure_single_pool()

    task = _task(loss_fn)
    regularized = any(p.regularizer is not None for p in model.parameters())
    history = History()
    trainer = _Trainer(model, optimizer, int(epochs), history)
    if prefetch is None:
        prefetch = 2 if transform is not None else 0
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, transform=transform, seed=seed,
                        prefetch=prefetch)
    trainer.n_batches = len(loader)
    per_batch = bool(getattr(scheduler, "per_batch", False))
    plateau = isinstance(scheduler, optim.lr_scheduler.ReduceLROnPlateau)
    for cb in callbacks:
        cb.set_context(trainer)
        cb.on_train_begin({})
    with _Interrupt() as intr:
        for epoch in range(int(epochs)):
            model.train()
            snap = _snapshot(model), {k: v.copy() for k, v in optimizer._state_buf.items()}
            for cb in callbacks:
                cb.on_epoch_begin(epoch, {})
            t0 = time.perf_counter()
            sums, seen, bad = {"loss": 0.0}, 0, False
            for b, (xb, yb) in enumerate(loader):
                out = model(xb)
                lval = loss_fn(out, yb)
                if regularized:
                    lval += regularizers.penalty(model)
                if terminate_on_nan and not math.isfinite(lval):
                    bad = True
                    break
                optimizer.zero_grad()
                model.backward(loss_fn.backward(), need_input_grad=False)
                if clip_grad_norm is not None:
                    nn.utils.clip_grad_norm_(model, clip_grad_norm)
                optimizer.step()
                if per_batch and scheduler is not None:
                    scheduler.step()
                k = xb.shape[0]
                seen += k
                sums["loss"] += lval * k
                for name, v in _metric_values(out, yb, metrics, task).items():
                    sums[name] = sums.get(name, 0.0) + v
                for cb in callbacks:
                    cb.on_batch_end(b, {"loss": sums["loss"] / seen, "samples": seen})
                if intr.hit:
                    break
            if bad:
                (model_snap, opt_snap) = snap
                _restore(model, model_snap)
                for k2, v in opt_snap.items():
                    optimizer._state_buf[k2][...] = v
                history.terminated_on_nan = True
                if verbose:
                    print(f"\nfit: non-finite loss at epoch {epoch + 1}, batch {b + 1}: training stopped and the "
                          "parameters of the start of that epoch restored (lower the learning rate, or clip "
                          "gradients)", flush=True)
                break
            secs = time.perf_counter() - t0
            logs = {"epoch": epoch + 1}
            logs.update({k: v / max(seen, 1) for k, v in sums.items()})
            if Xv is not None:
                ev = evaluate(model, Xv, yv, loss=loss_fn, metrics=metrics, batch_size=max(256, batch_size))
                logs.update({f"val_{k}": v for k, v in ev.items()})
            if "accuracy" in logs and "val_accuracy" in logs:
                logs["gap"] = (1 - logs["val_accuracy"]) - (1 - logs["accuracy"])
            elif "val_loss" in logs:
                logs["gap"] = logs["val_loss"] - logs["loss"]
            logs["lr"] = optimizer.param_groups[0]["lr"]
            logs["seconds"] = secs
            logs["samples_per_sec"] = seen / secs if secs > 0 else float("nan")
            history.append(logs)
            if scheduler is not None and not per_batch:
                if plateau:
                    scheduler.step(logs.get("val_loss", logs["loss"]))
                else:
                    scheduler.step()
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if intr.hit:
                history.interrupted = True
                if verbose:
                    print("\nfit: interrupted (Ctrl-C); returning the history so far", flush=True)
                break
            if trainer.stop_training:
                break
    for cb in callbacks:
        cb.on_train_end({})
    return history
