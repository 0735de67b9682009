"""fit / evaluate / predict: the Keras-style training loop over fastnn models.

Any fastnn model trains: a chain of built-in layers runs the fused array path (explicit forward and
backward, workspaces reused inside the loop), any other module (a user nn.Module) runs on tensors with
autograd. Both call the same kernels.
"""
import contextlib
import math
import os
import signal
import threading
import time
import warnings

import numpy as np

from .. import _mpi, nn, optim, regularizers
from .._threads import ensure_single_pool, get_num_threads, set_num_threads
from .._autograd import no_grad
from ..data import DataLoader
from ..nn.loss import _Loss
from ..nn.parameter import hooked
from ..tensor import Tensor, _arr, _wrap
from .callbacks import Callback, ModelCheckpoint, ProgressBar, _restore, _snapshot
from .history import History

_LOSSES = {"cross_entropy": nn.CrossEntropyLoss, "crossentropy": nn.CrossEntropyLoss, "mse": nn.MSELoss,
           "l1": nn.L1Loss, "bce_with_logits": nn.BCEWithLogitsLoss, "bce": nn.BCELoss, "nll": nn.NLLLoss,
           "huber": nn.HuberLoss, "smooth_l1": nn.SmoothL1Loss}
_OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
               "adagrad": optim.Adagrad, "nadam": optim.NAdam}
_METRICS = {"accuracy": "accuracy", "acc": "accuracy"}


def _loss_fn(loss):
    if isinstance(loss, str):
        if loss.lower() not in _LOSSES:
            raise ValueError(f"loss: unknown name {loss!r}; expected one of {sorted(_LOSSES)} or a loss module")
        return _LOSSES[loss.lower()]()
    if isinstance(loss, type) and issubclass(loss, nn.Module):
        return loss()  # the class itself (nn.CrossEntropyLoss): its default instance
    if not callable(loss):
        raise TypeError(f"loss: expected a fastnn loss (e.g. nn.CrossEntropyLoss()), its name, or a callable "
                        f"loss(outputs, targets) -> tensor, got {type(loss).__name__}")
    return loss


def _loss_value(loss_fn, out, yb):
    """The loss of array outputs as a float (a user's loss callable gets tensors)."""
    if isinstance(loss_fn, _Loss):
        return float(loss_fn(out, yb))
    with no_grad():
        return float(np.asarray(_arr(loss_fn(_wrap(out), _wrap(np.asarray(yb))))))


def _metrics(metrics):
    out = []
    for m in metrics or ():
        if callable(m):
            out.append(m)
        elif isinstance(m, str) and m.lower() in _METRICS:
            out.append(_METRICS[m.lower()])
        else:
            raise ValueError(f"metrics: unknown metric {m!r}; expected 'accuracy' (or 'acc') or a callable "
                             "f(outputs, targets) -> value")
    return out


def _positive_int(v, name):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name}: expected a positive int, got {v!r}")
    return int(v)


def _classification(loss_fn):
    if not isinstance(loss_fn, _Loss):
        return False
    return isinstance(loss_fn, (nn.CrossEntropyLoss, nn.NLLLoss))


def _task(loss_fn):
    """What "accuracy" means: argmax for class labels, sign of the logit for BCE, nothing for regression."""
    if loss_fn is None or _classification(loss_fn):
        return "multiclass"
    if isinstance(loss_fn, nn.BCEWithLogitsLoss):
        return "binary"
    if isinstance(loss_fn, nn.BCELoss):
        return "binary_prob"
    return "regression"


def _check_arrays(X, y, name="X", yname="y"):
    X = np.asarray(_arr(X))
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError(f"{name}: empty dataset (shape {X.shape})")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected a numeric array, got dtype {X.dtype}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        bad = int(np.argwhere(~np.isfinite(X.reshape(X.shape[0], -1)).all(axis=1))[0, 0])
        raise ValueError(f"{name}: contains NaN or Inf (first at sample {bad})")
    if y is not None:
        y = np.asarray(_arr(y))
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise ValueError(f"{name}, {yname}: different numbers of samples ({X.shape[0]} and "
                             f"{y.shape[0] if y.ndim else 'a scalar'})")
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            bad = int(np.argwhere(~np.isfinite(y.reshape(y.shape[0], -1)).all(axis=1))[0, 0])
            raise ValueError(f"{yname}: contains NaN or Inf (first at sample {bad}); the targets must be finite")
    return X, y


def _modes(model):
    return [(m, m.training) for m in model.modules()]


def _set_modes(saved):
    for m, t in saved:
        m.__dict__["training"] = t


def _forward_eval(model, xb):
    """Outputs of one batch without recording anything (eval mode set by the caller)."""
    with no_grad():
        out = model(_wrap(np.asarray(xb)))
    return out._a if isinstance(out, Tensor) else np.asarray(out)


def _dry_run(model, X, who="X"):
    """A forward on two samples in eval mode (no state changes): the layer raises on a wrong width,
    with a hint for the common mistake of passing one sample."""
    saved = _modes(model)
    model.eval()
    try:
        return _forward_eval(model, X[:2])
    except (ValueError, RuntimeError) as e:
        hint = ""
        if X.ndim == 1:
            hint = (f" ({who} has shape {X.shape}: a batch of samples is expected; for one sample of "
                    f"{X.shape[0]} features pass {who}[None] or {who}.reshape(1, -1))")
        raise type(e)(f"{e}{hint}") from None
    finally:
        _set_modes(saved)


def _check_targets(model, X, y, loss_fn, yname="y"):
    """The dry forward checks the input width and, for classification, that the labels fit the model's
    outputs; for other losses, that targets and outputs have one shape per sample."""
    out = _dry_run(model, X)
    if _classification(loss_fn):
        if y.dtype.kind not in "iu":
            raise TypeError(f"{yname}: expected integer class labels for {type(loss_fn).__name__}, got dtype {y.dtype}")
        c = out.shape[-1] if out.ndim == 2 else out.shape[1]
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= c:
            raise ValueError(f"{yname}: labels must lie in [0, {c}) (the model has {c} outputs), "
                             f"found {lo if lo < 0 else hi}")
    elif isinstance(loss_fn, _Loss) and y is not None and out.shape[1:] != y.shape[1:]:
        raise ValueError(f"{yname}: each target has shape {y.shape[1:]}, the model outputs {out.shape[1:]}")


class _Trainer:
    """What callbacks see: model, optimizer, epochs, n_batches, history, stop_training; X, y, loss_fn."""

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
    if task == "multiclass" and out.ndim == 2 and len(metrics) == 1 and metrics[0] == "accuracy":
        return {"accuracy": float(np.count_nonzero(out.argmax(axis=1) == yb))}  # (the common case)
    vals = {}
    for m in metrics:
        if m == "accuracy":
            if task == "multiclass":
                pred = out.argmax(axis=1)
                vals["accuracy"] = float(np.count_nonzero(pred == yb)) * (out.shape[0] / max(pred.size, 1))
            elif task in ("binary", "binary_prob"):  # per element, averaged over outputs
                hits = np.count_nonzero((out > (0 if task == "binary" else 0.5)) == (yb > 0.5))
                vals["accuracy"] = float(hits) / (out.size / out.shape[0])
        elif callable(m):
            vals[getattr(m, "__name__", "metric")] = float(m(out, yb)) * out.shape[0]
    return vals


def _check_batch_size(batch_size):
    return _positive_int(batch_size, "batch_size")


def evaluate(model, X, y, *, loss=None, batch_size=256, metrics=("accuracy",)):
    """Mean loss and metrics over (X, y) in eval mode (the mode is restored afterwards).

    Parameters
    ----------
    model : fastnn.nn.Module
    X, y : array_like or Tensor
    loss : Module, type or str, optional
        Without it only the metrics are computed.
    batch_size : int, default 256
    metrics : sequence, default ("accuracy",)
        "accuracy" is the argmax match for class labels (also without a loss), the sign of the logit
        against targets > 0.5 with BCEWithLogitsLoss, and not computed for regression losses.

    Returns
    -------
    dict
        ``{"loss": ..., "accuracy": ...}``.
    """
    batch_size = _check_batch_size(batch_size)
    X, y = _check_arrays(X, y)
    if y is None:
        raise ValueError("y: evaluate needs targets")
    loss_fn = _loss_fn(loss) if loss is not None else None
    metrics = _metrics(metrics)
    saved = _modes(model)
    model.eval()
    task = _task(loss_fn)
    sums, n = {}, 0
    try:
        for i in range(0, X.shape[0], batch_size):
            xb, yb = X[i:i + batch_size], y[i:i + batch_size]
            out = _forward_eval(model, xb)
            k = xb.shape[0]
            if loss_fn is not None:
                sums["loss"] = sums.get("loss", 0.0) + _loss_value(loss_fn, out, yb) * k
            for name, v in _metric_values(out, yb, metrics, task).items():
                sums[name] = sums.get(name, 0.0) + v
            n += k
    finally:
        _set_modes(saved)
    return {k: v / n for k, v in sums.items()}


def _evaluate_sharded(model, X, y, **kw):
    """evaluate under mpiexec: each rank scores its contiguous shard and the sums are combined, so every
    rank gets the same values at 1/P of the work."""
    from .. import distributed as dist

    R, P, n = dist.rank(), dist.world_size(), X.shape[0]
    if n < P:
        return evaluate(model, X, y, **kw)
    lo, hi = R * n // P, (R + 1) * n // P
    ev = evaluate(model, X[lo:hi], y[lo:hi], **kw)
    names = sorted(ev)
    tot = np.array([ev[k] * (hi - lo) for k in names], np.float64)
    dist._reduce_sum(tot)
    return {k: v / n for k, v in zip(names, tot.tolist())}


def predict(model, X, *, batch_size=256):
    """Model outputs for X in eval mode, as a new array (the mode is restored afterwards).

    Parameters
    ----------
    model : fastnn.nn.Module
    X : array_like or Tensor
    batch_size : int, default 256

    Returns
    -------
    numpy.ndarray
        The outputs (logits for a classifier: ``predict(model, X).argmax(1)`` gives the classes).
    """
    batch_size = _check_batch_size(batch_size)
    X = np.asarray(_arr(X))
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError(f"X: empty dataset (shape {X.shape})")
    _dry_run(model, X)
    saved = _modes(model)
    model.eval()
    try:
        parts = [_forward_eval(model, X[i:i + batch_size]) for i in range(0, X.shape[0], batch_size)]
    finally:
        _set_modes(saved)
    return np.concatenate(parts, axis=0)


def _has_batchnorm(model):
    from ..nn.normalization import _BatchNorm

    return any(isinstance(m, _BatchNorm) for m in model.modules())


def _validation(X, y, validation_data, validation_split):
    if validation_data is not None:
        if validation_split:
            raise ValueError("validation_data, validation_split: give one or the other")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data: expected a pair (X_val, y_val)")
        Xv, yv = _check_arrays(*validation_data, name="validation_data[0]", yname="validation_data[1]")
        return X, y, Xv, yv
    if validation_split:
        nv = int(round(X.shape[0] * validation_split))
        if nv < 1 or nv >= X.shape[0]:
            raise ValueError(f"validation_split: {validation_split} of {X.shape[0]} samples leaves an empty split")
        return X[:-nv], y[:-nv], X[-nv:], y[-nv:]
    return X, y, None, None


def _loader_core(prefetch):
    """With a background loader thread (augmentation), a training step whose kernels would take every
    core leaves it one: the step's OpenMP workers spin between kernels and would starve it (2 cores:
    fit with augmentation 21k samples/s on 1 step thread, 13k on 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    nt = get_num_threads()
    if prefetch and nt > 1 and nt >= cores:
        return set_num_threads(nt - 1)
    return contextlib.nullcontext()


def _check_callbacks(callbacks, has_val, metrics):
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks: expected fastnn.training callbacks, got {type(cb).__name__}")
        mon = getattr(cb, "monitor", None)
        if mon and mon.startswith("val_") and not has_val:
            raise ValueError(f"{type(cb).__name__}: monitors {mon!r} but fit has no validation data")
        if isinstance(cb, ModelCheckpoint) and "{val_" in cb.path and not has_val:
            raise ValueError(f"ModelCheckpoint: its path {cb.path!r} uses a validation value but fit has no "
                             "validation data")


def _chain_writes_each_once(model, optimizer):
    """Whether the explicit chain of `model` writes the gradient of every trainable parameter the
    optimizer updates exactly once (no module or parameter used twice, only layers that honour
    assignment): fit's step may then assign the gradients instead of zeroing the arena and adding
    onto it -- one pass less over the gradients, and the products need not read them."""
    counts = {}

    def walk(m):
        kids = [c for c in m._modules.values() if c is not None]
        if kids and not isinstance(m, nn.Sequential):
            return False
        own = [p for p in m._parameters.values() if p is not None and p.requires_grad]
        if own and not getattr(type(m), "_assigns_grads", False):
            return False
        for p in own:
            counts[id(p)] = counts.get(id(p), 0) + 1
        return all(walk(c) for c in kids)

    if not walk(model) or any(c != 1 for c in counts.values()):
        return False
    return all(id(p) in counts for p in optimizer._params if p.requires_grad)


class _Step:
    """One training step: the fused array chain for built-in models, autograd for the rest."""

    def __init__(self, model, loss_fn, optimizer, clip):
        self.model, self.loss_fn, self.opt, self.clip = model, loss_fn, optimizer, clip
        self.native = model._fusable() and isinstance(loss_fn, _Loss)
        self.assign = self.native and _chain_writes_each_once(model, optimizer)

    def targets(self, yb):
        """The targets of the samples this process trained on (all of the batch)."""
        return yb

    def __call__(self, xb, yb):
        m, lf, opt = self.model, self.loss_fn, self.opt
        if self.native:
            out = m(xb)
            lval = lf(out, yb)
            if not math.isfinite(lval):
                return out, lval, False
            if self.assign and not hooked[0]:  # every gradient written once: assigned, no zero_grad
                m.backward(lf.backward(), need_input_grad=False, accumulate=False)
            else:
                opt.zero_grad()
                m.backward(lf.backward(), need_input_grad=False)
        else:
            o = m(_wrap(xb))
            loss = lf(o, yb if isinstance(lf, _Loss) else _wrap(yb))
            if not isinstance(loss, Tensor):
                raise TypeError(f"loss: the loss function returned {type(loss).__name__}, expected a fastnn tensor")
            lval = float(loss.item())
            out = o._a
            if not math.isfinite(lval):
                return out, lval, False
            opt.zero_grad()
            if loss.requires_grad:
                loss.backward()
        if self.clip is not None:
            nn.utils.clip_grad_norm_(m, self.clip)
        opt.step()
        return out, lval, True


class _DistStep(_Step):
    """A data-parallel step (fit under mpiexec): the batch is the same global batch on every rank; each
    rank trains on its contiguous shard, then the ranks agree on the loss (and on whether it is finite)
    and average the gradients weighted by shard size -- the gradient of the whole batch's mean loss --
    before clipping and the update. A rank that fails ends every rank (MPI_Abort), never a hang."""

    def __init__(self, model, loss_fn, optimizer, clip):
        super().__init__(model, loss_fn, optimizer, clip)
        from .. import distributed as dist

        self.dist, self.R, self.P = dist, dist.rank(), dist.world_size()
        self.shard = slice(0, 0)

    def targets(self, yb):
        return yb[self.shard]

    def __call__(self, xb, yb):
        n = xb.shape[0]
        lo, hi = self.R * n // self.P, (self.R + 1) * n // self.P
        self.shard = slice(lo, hi)
        m, lf, opt = self.model, self.loss_fn, self.opt
        out, lval, ok = np.zeros((0,)), 0.0, True
        try:
            opt.zero_grad()
            if hi > lo:
                xs, ys = xb[lo:hi], yb[lo:hi]
                if self.native:
                    out = m(xs)
                    lval = lf(out, ys)
                    ok = math.isfinite(lval)
                    if ok:
                        m.backward(lf.backward(), need_input_grad=False)
                else:
                    o = m(_wrap(xs))
                    loss = lf(o, ys if isinstance(lf, _Loss) else _wrap(ys))
                    lval, out = float(loss.item()), o._a
                    ok = math.isfinite(lval)
                    if ok and loss.requires_grad:
                        loss.backward()
            stat = np.array([hi - lo, (hi - lo) * lval if ok else 0.0, 0.0 if ok else 1.0])
            self.dist._reduce_sum(stat)
            if stat[2] > 0:
                return out, float("nan"), False
            self.dist.synchronize_gradients(opt._params, weight=hi - lo, total=stat[0])
            if self.clip is not None:
                nn.utils.clip_grad_norm_(m, self.clip)
            opt.step()
        except Exception as e:  # every rank waits on this one: end them all with the reason
            self.dist.abort(f"{type(e).__name__}: {e}")
        return out, stat[1] / stat[0], True


def fit(model, X, y, *, loss, optimizer, epochs, batch_size=32, validation_data=None, validation_split=0.0,
        scheduler=None, callbacks=(), metrics=("accuracy",), transform=None, clip_grad_norm=None, verbose=1,
        seed=None, shuffle=True, prefetch=None, terminate_on_nan=True, distributed=None, initial_epoch=0):
    """Train `model` on (X, y) for `epochs` epochs, Keras-style; returns the History.

    Parameters
    ----------
    model : fastnn.nn.Module
        A built-in model (runs the fused array chain) or any module (runs through autograd).
    X, y : array_like or Tensor
        Inputs and targets (class indices for cross-entropy, values for regression losses).
    loss : Module, type or str
        A loss module, its class, or a name: ``"cross_entropy"``, ``"mse"``, ...
    optimizer : fastnn.optim.Optimizer or str
        An optimizer, or a name (``"adam"``, ``"sgd"``, ...) with its default settings.
    epochs : int
        The epoch to train up to (passes over the data, counting those before initial_epoch).
    batch_size : int, default 32
        Samples per step. When the last batch of an epoch would hold a single sample and the model has
        batch norm, it is merged into the previous batch (said once with verbose).
    validation_data : tuple of (X_val, y_val), optional
        Evaluated after every epoch (``val_loss``, ``val_accuracy``, the generalization ``gap``).
    validation_split : float, default 0.0
        Or: the last fraction of (X, y), set aside before shuffling (Keras' rule).
    scheduler : LR scheduler, optional
        Stepped once per epoch -- ReduceLROnPlateau with the validation loss (the training loss without
        validation data) -- or once per batch when its ``per_batch`` attribute is true (OneCycleLR).
    callbacks : sequence of Callback
        EarlyStopping, ModelCheckpoint, CSVLogger, LearningRateScheduler, Diagnostics, ...
    metrics : sequence, default ("accuracy",)
        ``"accuracy"`` (or ``"acc"``) and callables ``f(outputs, targets)``.
    transform : fastnn.data transform, optional
        Augmentation applied to each training batch, drawn anew every epoch.
    clip_grad_norm : float, optional
        Clip the global gradient norm to this value every step.
    verbose : int, default 1
        1: a progress bar and one line per epoch; 0: silent.
    seed : int, optional
        Reproducible batches and augmentation.
    shuffle : bool, default True
        Shuffle the samples every epoch.
    prefetch : int, optional
        Batches prepared ahead by the loader's background thread; default 2 with a transform
        (augmentation overlaps training) and 0 without (gathering an in-memory batch takes
        microseconds, while handing batches between threads costs a GIL switch per step: the digits MLP
        at batch 32 measured 636k samples/s inline vs 205k through the thread). While that thread
        runs, the step's kernels leave it one core when they would otherwise take them all.
    terminate_on_nan : bool, default True
        Stop at a non-finite loss and restore the last state known to be finite (below).
    distributed : bool, optional
        Data-parallel training over MPI (:mod:`fastnn.distributed`); None turns it on when the script
        runs under ``mpiexec`` with more than one rank. Parameters start from rank 0's; every rank sees
        the same shuffled global batches of `batch_size` and trains on its shard; gradients are averaged
        before each update (and before clipping); losses, metrics and validation values are the whole
        batch's, so early stopping and LR-on-plateau decide alike everywhere; the progress bar and
        checkpoints are rank 0's. Batch-norm statistics stay per rank (use ``nn.SyncBatchNorm``).
    initial_epoch : int, default 0
        The epoch to resume at (Keras'): epochs initial_epoch .. epochs - 1 run, with the data order,
        augmentation and dropout streams those epochs would have had. With the model, optimizer (and
        scheduler) of a ``ModelCheckpoint`` file and its ``seed``, training resumes bit for bit as if it
        had never stopped: ``ck = fastnn.load_checkpoint(path)``, then ``fit(ck.model, ...,
        optimizer=ck.restore_optimizer(opt), seed=ck.seed, initial_epoch=ck.next_epoch)``.

    Returns
    -------
    History
        Per epoch: loss, metrics, validation values, gap, lr, seconds, samples_per_sec.

    Notes
    -----
    Every argument is checked before training starts (a ValueError naming it), targets included (NaN
    or Inf refused). A failure in the very first step restores the model and optimizer and re-raises:
    the call changes nothing. A non-finite loss stops training and restores, exactly, the parameters,
    buffers and optimizer state (step counts included) of the last point known to give a finite loss --
    the start of the epoch, or of the previous epoch when the epoch's first batch was already non-finite
    -- with a warning. Ctrl-C stops after the current step and returns the history so far, the model
    intact. Penalties attached with :mod:`fastnn.regularizers` are added to the reported loss.

    Examples
    --------
    >>> opt = fastnn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    >>> history = fastnn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=20,
    ...                      validation_split=0.1, callbacks=[fastnn.training.EarlyStopping(patience=5)])
    >>> history["val_accuracy"][-1]
    """
    from .. import distributed as dist

    # under MPI, a failure on one rank anywhere in fit (a bad argument included) ends every rank: the
    # others would wait for it in a collective forever
    together = dist.world_size() > 1 and distributed is not False
    with _mpi.collective_region(together):
        return _fit(model, X, y, loss, optimizer, epochs, batch_size, validation_data, validation_split, scheduler,
                    callbacks, metrics, transform, clip_grad_norm, verbose, seed, shuffle, prefetch, terminate_on_nan,
                    distributed, initial_epoch)


def _fit(model, X, y, loss, optimizer, epochs, batch_size, validation_data, validation_split, scheduler, callbacks,
         metrics, transform, clip_grad_norm, verbose, seed, shuffle, prefetch, terminate_on_nan, distributed,
         initial_epoch):
    epochs = _positive_int(epochs, "epochs")
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or \
            not 0 <= initial_epoch <= epochs:
        raise ValueError(f"initial_epoch: expected an int in [0, epochs={epochs}], got {initial_epoch!r}")
    initial_epoch = int(initial_epoch)
    batch_size = _check_batch_size(batch_size)
    if not (0.0 <= validation_split < 1.0):
        raise ValueError(f"validation_split: expected a fraction in [0, 1), got {validation_split!r}")
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ValueError(f"clip_grad_norm: expected a positive number, got {clip_grad_norm!r}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a fastnn Module, got {type(model).__name__}")
    if transform is not None and not callable(transform):
        raise TypeError(f"transform: expected a callable, got {type(transform).__name__}")
    loss_fn = _loss_fn(loss)
    metrics = _metrics(metrics)
    X, y = _check_arrays(X, y)
    if y is None:
        raise ValueError("y: fit needs targets")
    X, y, Xv, yv = _validation(X, y, validation_data, validation_split)
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
    from .. import distributed as dist

    if distributed is None:
        distributed = dist.world_size() > 1
    elif distributed and dist.world_size() == 1 and not dist.is_available():
        raise RuntimeError("distributed=True: mpi4py is not installed (pip install 'fastnn[mpi]')")
    if isinstance(optimizer, dist.DistributedOptimizer):
        optimizer = optimizer.optimizer  # fit averages the gradients itself (before clipping)
    distributed = bool(distributed) and dist.world_size() > 1
    if distributed:
        _mpi.check_same(model=[(n, tuple(p.shape), str(p.dtype)) for n, p in model.named_parameters()],
                        X=(tuple(X.shape), str(X.dtype)), y=None if y is None else (tuple(y.shape), str(y.dtype)),
                        batch_size=batch_size, epochs=epochs,
                        validation=None if Xv is None else tuple(Xv.shape))
        dist.broadcast_parameters(model)
        if seed is None:  # the same batches on every rank
            s0 = np.array([np.random.SeedSequence().entropy % (1 << 62)], np.float64)
            dist._W.comm.Bcast(s0, root=0)
            seed = int(s0[0])
        if dist.rank() != 0:
            verbose = 0
    callbacks = list(callbacks)
    _check_callbacks(callbacks, Xv is not None, metrics)
    bn = _has_batchnorm(model)
    if bn and X.shape[0] < 2:
        raise ValueError(f"X: the model has batch norm, which needs at least 2 training samples, got {X.shape[0]}")
    if bn and distributed and min(batch_size, X.shape[0]) < 2 * dist.world_size():
        raise ValueError(f"batch_size: the model has batch norm and {dist.world_size()} ranks share each batch; "
                         f"expected at least 2 samples per rank ({2 * dist.world_size()}), got "
                         f"{min(batch_size, X.shape[0])}")
    callbacks.append(ProgressBar(verbose))
    ensure_single_pool()

    task = _task(loss_fn)
    regularized = any(p.regularizer is not None for p in model.parameters())
    history = History()
    trainer = _Trainer(model, optimizer, epochs, history)
    trainer.scheduler = scheduler
    trainer.X, trainer.y, trainer.loss_fn = X, y, loss_fn  # (for callbacks that look at the data: Diagnostics)
    if prefetch is None:
        prefetch = 2 if transform is not None else 0
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, transform=transform, seed=seed,
                        prefetch=prefetch, merge_single=bn)
    if bn and distributed:
        loader.min_last = 2 * dist.world_size()
    if bn and verbose and X.shape[0] % batch_size == 1 and len(loader) > 1:
        print(f"fit: {X.shape[0]} samples leave a last batch of one; it is merged into the previous batch "
              "(batch norm needs two)", flush=True)
    trainer.n_batches = len(loader)
    loader.epoch = initial_epoch  # the data order and augmentations of epoch e come from (seed, e)
    trainer.seed = history.seed = loader.seed
    per_batch = bool(getattr(scheduler, "per_batch", False))
    plateau = isinstance(scheduler, optim.lr_scheduler.ReduceLROnPlateau)
    step = (_DistStep if distributed else _Step)(model, loss_fn, optimizer, clip_grad_norm)
    for cb in callbacks:
        cb.set_context(trainer)
        cb.on_train_begin({})
    # the callbacks that do something after a batch (a silent progress bar does not)
    batch_cbs = [cb for cb in callbacks if type(cb).on_batch_end is not Callback.on_batch_end
                 and not (isinstance(cb, ProgressBar) and not cb.verbose)]
    prev = None
    with _Interrupt() as intr, _loader_core(prefetch):
        for epoch in range(initial_epoch, epochs):
            model.train()
            snap = _snapshot(model), optimizer._snapshot()
            for cb in callbacks:
                cb.on_epoch_begin(epoch, {})
            t0 = time.perf_counter()
            sums, seen, bad, b = {"loss": 0.0}, 0, False, -1
            for b, (xb, yb) in enumerate(loader):
                try:
                    out, lval, ok = step(xb, yb)
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    if epoch == 0 and b == 0:  # the first step failed: the call changes nothing
                        _restore(model, snap[0])
                        optimizer._restore(snap[1])
                    raise
                if regularized:
                    lval += regularizers.penalty(model)
                if terminate_on_nan and (not ok or not math.isfinite(lval)):
                    bad = True
                    break
                k = xb.shape[0]
                seen += k
                sums["loss"] += lval * k
                for name, v in _metric_values(out, step.targets(yb), metrics, task).items():
                    sums[name] = sums.get(name, 0.0) + v
                if per_batch and scheduler is not None:
                    scheduler.step()
                for cb in batch_cbs:
                    cb.on_batch_end(b, {"loss": sums["loss"] / seen, "samples": seen})
                if intr.hit:
                    break
            if bad:
                good = prev if (b == 0 and prev is not None) else snap
                _restore(model, good[0])
                optimizer._restore(good[1])
                history.terminated_on_nan = True
                which = "the previous epoch" if good is prev else "that epoch"
                msg = (f"fit: non-finite loss at epoch {epoch + 1}, batch {b + 1}: training stopped and the "
                       f"parameters and optimizer state of the start of {which} restored (lower the learning "
                       "rate, or clip gradients)")
                warnings.warn(msg, RuntimeWarning, stacklevel=3)
                if verbose:
                    print("\n" + msg, flush=True)
                break
            prev = snap
            if distributed:  # the metrics' sums over every rank's shards (the loss is already global)
                names = sorted(k for k in sums if k != "loss")
                tot = np.array([sums[k] for k in names], np.float64)
                dist._reduce_sum(tot)
                sums.update(zip(names, tot.tolist()))
            secs = time.perf_counter() - t0
            logs = {"epoch": epoch + 1}
            logs.update({k: v / max(seen, 1) for k, v in sums.items()})
            if Xv is not None:
                ev = (_evaluate_sharded if distributed else evaluate)(model, Xv, yv, loss=loss_fn, metrics=metrics,
                                                                       batch_size=max(256, batch_size))
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
