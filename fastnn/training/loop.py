"""fit / evaluate / predict: the Keras-style training loop over fastnn models.

Any fastnn model trains: a chain of built-in layers runs the fused array path (explicit forward and
backward, workspaces reused inside the loop), any other module (a user nn.Module) runs on tensors with
autograd. Both call the same kernels. fit checks its arguments first (training._args), then runs epochs
of steps (training._step) with callbacks, validation, and a restore point for a non-finite loss.
"""
import contextlib
import math
import os
import signal
import threading
import time
import warnings

import numpy as np

from .. import _mpi, optim, regularizers
from .._autocast import autocast
from .._state import restore, snapshot
from .._threads import ensure_single_pool, get_num_threads, set_num_threads, thread_status
from ..utils.data import DataLoader, TensorDataset
from ..nn.loss import _Loss
from ..tensor import _arr, _wrap
from . import _args
from ._args import arrays_arg, forward_eval, loss_fn_arg, metrics_arg, modes, set_modes, task_of
from ._step import DistStep, Step
from .callbacks import Callback, ProgressBar
from .history import History


def _loss_value(loss_fn, out, yb):
    """The loss of array outputs as a float (a user's loss callable gets tensors)."""
    if isinstance(loss_fn, _Loss):
        return float(loss_fn(out, yb))
    from ..autograd import no_grad

    with no_grad():
        return float(np.asarray(_arr(loss_fn(_wrap(out), _wrap(np.asarray(yb))))))


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
    batch_size = _args.positive_int(batch_size, "batch_size")
    X, y = arrays_arg(X, y)
    if y is None:
        raise ValueError("y: evaluate needs targets")
    loss_fn = loss_fn_arg(loss) if loss is not None else None
    metrics = metrics_arg(metrics)
    saved = modes(model)
    model.eval()
    task = task_of(loss_fn)
    sums, n = {}, 0
    try:
        for i in range(0, X.shape[0], batch_size):
            xb, yb = X[i:i + batch_size], y[i:i + batch_size]
            out = forward_eval(model, xb)
            k = xb.shape[0]
            if loss_fn is not None:
                sums["loss"] = sums.get("loss", 0.0) + _loss_value(loss_fn, out, yb) * k
            for name, v in _metric_values(out, yb, metrics, task).items():
                sums[name] = sums.get(name, 0.0) + v
            n += k
    finally:
        set_modes(saved)
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
    batch_size = _args.positive_int(batch_size, "batch_size")
    X = np.asarray(_arr(X))
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError(f"X: empty dataset (shape {X.shape})")
    _args.dry_run(model, X)
    saved = modes(model)
    model.eval()
    try:
        parts = [forward_eval(model, X[i:i + batch_size]) for i in range(0, X.shape[0], batch_size)]
    finally:
        set_modes(saved)
    return np.concatenate(parts, axis=0)


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
        return set_num_threads(nt - 1, adaptive=thread_status()["adaptive"])
    return contextlib.nullcontext()


def fit(model, X, y, *, loss, optimizer, epochs, batch_size=32, validation_data=None, validation_split=0.0,
        scheduler=None, callbacks=(), metrics=("accuracy",), transform=None, clip_grad_norm=None, verbose=1,
        seed=None, shuffle=True, prefetch=None, terminate_on_nan=True, distributed=None, initial_epoch=0,
        precision="32"):
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
    precision : str, default "32"
        ``"bf16"`` (or Lightning's ``"bf16-mixed"``, Keras' ``"mixed_bfloat16"``) trains and validates under
        :class:`fastnn.autocast`: the products of linear layers and convolutions in bfloat16 with float32
        accumulation, everything else -- and the weights -- in float32. It pays on large products (see
        the performance guide); ``"32"`` (``"32-true"``, ``"float32"``) is plain float32.

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

    fit leaves the model in eval mode (``model.eval()``: dropout off, batch norm on its running
    statistics), so ``model(X_test)`` right after it predicts as :func:`evaluate` does; call
    ``model.train()`` before training it further by hand.

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
        run = _FitRun(model, X, y, loss, optimizer, epochs, batch_size, validation_data, validation_split, scheduler,
                      callbacks, metrics, transform, clip_grad_norm, verbose, seed, shuffle, prefetch,
                      terminate_on_nan, distributed, initial_epoch, precision)
        return run.train()


class _FitRun:
    """One fit call: its checked arguments, the loader, the step and the callbacks; train() runs the epochs."""

    def __init__(self, model, X, y, loss, optimizer, epochs, batch_size, validation_data, validation_split,
                 scheduler, callbacks, metrics, transform, clip_grad_norm, verbose, seed, shuffle, prefetch,
                 terminate_on_nan, distributed, initial_epoch, precision):
        self.bf16 = _args.precision_arg(precision)
        epochs, initial_epoch, batch_size = _args.scalars_arg(epochs, initial_epoch, batch_size, validation_split,
                                                              clip_grad_norm, model, transform)
        loss_fn, metrics = loss_fn_arg(loss), metrics_arg(metrics)
        X, y = arrays_arg(X, y)
        if y is None:
            raise ValueError("y: fit needs targets")
        X, y, Xv, yv = _args.validation_arg(X, y, validation_data, validation_split)
        _args.check_targets(model, X, y, loss_fn)
        if Xv is not None:
            _args.check_targets(model, Xv, yv, loss_fn, "validation_data[1]")
        optimizer = _args.optimizer_arg(optimizer, model)
        distributed, optimizer, seed, verbose = _args.distributed_arg(distributed, optimizer, model, X, y, Xv,
                                                                      batch_size, epochs, seed, verbose)
        callbacks = _args.callbacks_arg(callbacks, Xv is not None)
        bn = _args.batchnorm_arg(model, X, batch_size, distributed)
        callbacks.append(ProgressBar(verbose))
        ensure_single_pool()
        self.model, self.X, self.y, self.Xv, self.yv = model, X, y, Xv, yv
        self.loss_fn, self.optimizer, self.scheduler, self.metrics = loss_fn, optimizer, scheduler, metrics
        self.epochs, self.initial_epoch, self.batch_size = epochs, initial_epoch, batch_size
        self.verbose, self.terminate_on_nan, self.distributed = verbose, terminate_on_nan, distributed
        self.callbacks, self.task = callbacks, task_of(loss_fn)
        self.regularized = any(p.regularizer is not None for p in model.parameters())
        self.prefetch = (2 if transform is not None else 0) if prefetch is None else prefetch
        self.loader = self._loader(transform, seed, shuffle, bn)
        self.history = History()
        self.history.seed = self.loader.seed
        self.trainer = _Trainer(model, optimizer, epochs, self.history)
        self.trainer.scheduler, self.trainer.seed = scheduler, self.loader.seed
        self.trainer.n_batches = len(self.loader)
        self.trainer.X, self.trainer.y, self.trainer.loss_fn = X, y, loss_fn  # (for callbacks that look at the data)
        self.per_batch = bool(getattr(scheduler, "per_batch", False))
        self.step = (DistStep if distributed else Step)(model, loss_fn, optimizer, clip_grad_norm)

    def _loader(self, transform, seed, shuffle, bn):
        from .. import distributed as dist

        X, batch_size = self.X, self.batch_size
        if seed is None:  # still reproducible afterwards: the seed drawn is in the history
            seed = int(np.random.SeedSequence().entropy % (1 << 63))
        # batch norm needs two samples per step (per rank): a last batch of fewer joins the previous one
        min_last = (2 * dist.world_size() if self.distributed else 2) if bn else 1
        loader = DataLoader(TensorDataset(X, self.y), batch_size=batch_size, shuffle=shuffle, transform=transform,
                            seed=seed, prefetch=self.prefetch, min_last_batch=min_last)
        if bn and self.verbose and X.shape[0] % batch_size == 1 and len(loader) > 1:
            print(f"fit: {X.shape[0]} samples leave a last batch of one; it is merged into the previous batch "
                  "(batch norm needs two)", flush=True)
        loader.set_epoch(self.initial_epoch)  # the data order and augmentations of epoch e come from (seed, e)
        return loader

    def train(self):
        for cb in self.callbacks:
            cb.set_context(self.trainer)
            cb.on_train_begin({})
        # the callbacks that do something after a batch (a silent progress bar does not)
        self.batch_cbs = [cb for cb in self.callbacks if type(cb).on_batch_end is not Callback.on_batch_end
                          and not (isinstance(cb, ProgressBar) and not cb.verbose)]
        prev = None
        with _Interrupt() as intr, _loader_core(self.prefetch), autocast("cpu", enabled=self.bf16):
            for epoch in range(self.initial_epoch, self.epochs):
                self.model.train()
                snap = snapshot(self.model, self.optimizer)
                for cb in self.callbacks:
                    cb.on_epoch_begin(epoch, {})
                t0 = time.perf_counter()
                sums, seen, b = self._epoch(epoch, snap, intr)
                if sums is None:  # a non-finite loss
                    self._restore_finite(epoch, b, prev if (b == 0 and prev is not None) else snap, prev)
                    break
                prev = snap
                logs = self._epoch_logs(epoch, sums, seen, time.perf_counter() - t0)
                for cb in self.callbacks:
                    cb.on_epoch_end(epoch, logs)
                if intr.hit:
                    self.history.interrupted = True
                    if self.verbose:
                        print("\nfit: interrupted (Ctrl-C); returning the history so far", flush=True)
                    break
                if self.trainer.stop_training:
                    break
        for cb in self.callbacks:
            cb.on_train_end({})
        self.model.eval()  # ready to predict: dropout off, batch norm on its running statistics
        return self.history

    def _epoch(self, epoch, snap, intr):
        """One pass over the loader: (metric sums, samples seen, last batch index), or (None, 0, batch)
        at a non-finite loss."""
        sums, seen, b = {"loss": 0.0}, 0, -1
        for b, (xb, yb) in enumerate(self.loader):
            xb, yb = xb._a, yb._a
            try:
                out, lval, ok = self.step(xb, yb)
            except KeyboardInterrupt:
                raise
            except BaseException:
                if epoch == 0 and b == 0:  # the first step failed: the call changes nothing
                    restore(self.model, self.optimizer, snap)
                raise
            if self.regularized:
                lval += regularizers.penalty(self.model)
            if self.terminate_on_nan and (not ok or not math.isfinite(lval)):
                return None, 0, b
            k = xb.shape[0]
            seen += k
            sums["loss"] += lval * k
            for name, v in _metric_values(out, self.step.targets(yb), self.metrics, self.task).items():
                sums[name] = sums.get(name, 0.0) + v
            if self.per_batch and self.scheduler is not None:
                self.scheduler.step()
            for cb in self.batch_cbs:
                cb.on_batch_end(b, {"loss": sums["loss"] / seen, "samples": seen})
            if intr.hit:
                break
        return sums, seen, b

    def _restore_finite(self, epoch, b, good, prev):
        """A non-finite loss: back to the last state known to give a finite one, with a warning."""
        restore(self.model, self.optimizer, good)
        self.history.terminated_on_nan = True
        which = "the previous epoch" if good is prev else "that epoch"
        msg = (f"fit: non-finite loss at epoch {epoch + 1}, batch {b + 1}: training stopped and the parameters "
               f"and optimizer state of the start of {which} restored (lower the learning rate, or clip gradients)")
        warnings.warn(msg, RuntimeWarning, stacklevel=4)
        if self.verbose:
            print("\n" + msg, flush=True)

    def _epoch_logs(self, epoch, sums, seen, secs):
        """The epoch's history entry (training and validation values, gap, lr, speed); steps an epoch-wise
        scheduler."""
        if self.distributed:  # the metrics' sums over every rank's shards (the loss is already global)
            from .. import distributed as dist

            names = sorted(k for k in sums if k != "loss")
            tot = np.array([sums[k] for k in names], np.float64)
            dist._reduce_sum(tot)
            sums.update(zip(names, tot.tolist()))
        logs = {"epoch": epoch + 1}
        logs.update({k: v / max(seen, 1) for k, v in sums.items()})
        if self.Xv is not None:
            ev = (_evaluate_sharded if self.distributed else evaluate)(
                self.model, self.Xv, self.yv, loss=self.loss_fn, metrics=self.metrics,
                batch_size=max(256, self.batch_size))
            logs.update({f"val_{k}": v for k, v in ev.items()})
        if "accuracy" in logs and "val_accuracy" in logs:
            logs["gap"] = (1 - logs["val_accuracy"]) - (1 - logs["accuracy"])
        elif "val_loss" in logs:
            logs["gap"] = logs["val_loss"] - logs["loss"]
        logs["lr"] = self.optimizer.param_groups[0]["lr"]
        logs["seconds"] = secs
        logs["samples_per_sec"] = seen / secs if secs > 0 else float("nan")
        self.history.append(logs)
        if self.scheduler is not None and not self.per_batch:
            if isinstance(self.scheduler, optim.lr_scheduler.ReduceLROnPlateau):
                self.scheduler.step(logs.get("val_loss", logs["loss"]))
            else:
                self.scheduler.step()
        return logs
