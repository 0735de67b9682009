"""Callbacks for fit (Keras-style): hooks at train/epoch/batch boundaries. A callback stops training by
setting ``trainer.stop_training = True``."""
import csv
import math
import os
import sys
import time

import numpy as np

from .._state import restore, snapshot


class Callback:
    def set_context(self, trainer):
        self.trainer = trainer

    def on_train_begin(self, logs):
        pass

    def on_epoch_begin(self, epoch, logs):
        pass

    def on_batch_end(self, batch, logs):
        pass

    def on_epoch_end(self, epoch, logs):
        pass

    def on_train_end(self, logs):
        pass


def _mode(mode, monitor):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode: expected 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if ("acc" in monitor or monitor.endswith("auc")) else "min"
    return mode


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than min_delta for `patience` epochs, and (by
    default) restore the best parameters seen -- kept as one arena copy in memory, not a file.
    Epochs before start_from_epoch are not counted.

    Parameters
    ----------
    monitor : str, default 'val_loss'
        The logged value watched ("val_loss", "val_accuracy", "loss", ...).
    min_delta : float, default 0.0
        The smallest change that counts as an improvement.
    patience : int, default 10
        Epochs without improvement before acting.
    mode : str, default 'auto'
        "min", "max" or "auto" (from the monitored name).
    restore_best_weights : bool, default True
        Restore the best parameters seen when stopping.
    start_from_epoch : int, default 0
        Epochs before it are not counted.

    Examples
    --------
    >>> fastnn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=100, validation_split=0.1,
    ...            callbacks=[fastnn.training.EarlyStopping(patience=5)])
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=10, mode="auto", restore_best_weights=True,
                 start_from_epoch=0):
        if patience < 0:
            raise ValueError(f"patience: expected >= 0, got {patience}")
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.mode = _mode(mode, monitor)
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch

    def on_train_begin(self, logs):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch, self.stopped_epoch, self.wait, self._best = None, None, 0, None

    def _better(self, v):
        return v < self.best - self.min_delta if self.mode == "min" else v > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs):
        v = logs.get(self.monitor)
        if v is None or epoch < self.start_from_epoch:
            return
        if self._better(v):
            self.best, self.best_epoch, self.wait = v, epoch, 0
            if self.restore_best_weights:
                self._best = snapshot(self.trainer.model)
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.trainer.stop_training = True
                self.trainer.history.stopped_early = True

    def on_train_end(self, logs):
        if self.restore_best_weights and self._best is not None:
            restore(self.trainer.model, None, self._best)


class ModelCheckpoint(Callback):
    """Save a checkpoint (fastnn.save, with the optimizer state) after each epoch, or only when
    `monitor` improves (save_best_only). path may contain {epoch} and any log key, e.g.
    "ckpt-{epoch:03d}-{val_loss:.3f}.npz".

    Parameters
    ----------
    path : str or path
        The file written; may contain {epoch} and any log key.
    monitor : str, default 'val_loss'
        The logged value watched ("val_loss", "val_accuracy", "loss", ...).
    save_best_only : bool, default False
        Write only when the monitored value improves.
    mode : str, default 'auto'
        "min", "max" or "auto" (from the monitored name).
    """

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto"):
        self.path, self.monitor, self.save_best_only = os.fspath(path), monitor, save_best_only
        self.mode = _mode(mode, monitor)
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs):
        from .._mpi import _W

        if _W.rank != 0:  # one writer under mpiexec
            return
        self._on_epoch_end(epoch, logs)

    def _on_epoch_end(self, epoch, logs):
        from ..checkpoint import save

        v = logs.get(self.monitor)
        if self.save_best_only:
            if v is None or not (v < self.best if self.mode == "min" else v > self.best):
                return
            self.best = v
        path = self.path.format(epoch=epoch, **{k: x for k, x in logs.items() if x is not None and k != "epoch"})
        from ..checkpoint import UnstorableState

        t = self.trainer
        extra = {"logs": {k: x for k, x in logs.items() if isinstance(x, (int, float))},
                 "seed": getattr(t, "seed", None), "next_epoch": epoch + 1}
        try:
            save(t.model, path, optimizer=t.optimizer, scheduler=getattr(t, "scheduler", None), epoch=epoch,
                 extra=extra)
        except UnstorableState:  # a scheduler whose state holds a function: the rest is still worth keeping
            save(t.model, path, optimizer=t.optimizer, epoch=epoch, extra=extra)


class TerminateOnNaN(Callback):
    """Stop training at the first non-finite loss and restore the last finite parameters (those of the
    start of the epoch). fit does this by default (terminate_on_nan=True); this class exists for
    Keras-style explicitness."""


class CSVLogger(Callback):
    """Append each epoch's logs as a CSV row (rank 0's alone under mpiexec).

    Parameters
    ----------
    path : str or path
        The CSV file.
    append : bool, default False
        Append to an existing file instead of replacing it.
    """

    def __init__(self, path, append=False):
        self.path, self.append = os.fspath(path), append
        self._keys = None

    def on_epoch_end(self, epoch, logs):
        from .._mpi import _W

        if _W.rank != 0:
            return
        new = self._keys is None
        if new:
            self._keys = list(logs)
        with open(self.path, "a" if (self.append or not new) else "w", newline="") as f:
            w = csv.writer(f)
            if new and not (self.append and os.path.getsize(self.path) > 0):
                w.writerow(self._keys)
            w.writerow(["" if logs.get(k) is None else logs.get(k) for k in self._keys])


class LearningRateScheduler(Callback):
    """Set every group's lr to schedule(epoch, lr) at the start of each epoch (Keras).

    Parameters
    ----------
    schedule : callable
        f(epoch, lr) -> the epoch's learning rate.
    """

    def __init__(self, schedule):
        if not callable(schedule):
            raise TypeError("schedule: expected a callable f(epoch, lr) -> lr")
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs):
        groups = self.trainer.optimizer.param_groups
        lr = float(self.schedule(epoch, groups[0]["lr"]))
        if not lr >= 0:
            raise ValueError(f"LearningRateScheduler: schedule returned an invalid lr {lr!r}")
        for g in groups:
            g["lr"] = lr


class ProgressBar(Callback):
    """tqdm-style bar per epoch (batches, loss, samples/s, ETA) on a terminal; one line per epoch
    otherwise; silent with verbose=0.

    Parameters
    ----------
    verbose : int, default 1
        0: silent, 1: a line per epoch.
    stream : file, optional
        Where it prints (default: standard output).
    """

    def __init__(self, verbose=1, stream=None):
        self.verbose, self.stream = verbose, stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def on_epoch_begin(self, epoch, logs):
        self.t0 = self._last = time.perf_counter()
        self.epoch = epoch

    def on_batch_end(self, batch, logs):
        if not (self.verbose and self.tty):
            return
        now = time.perf_counter()
        nb = self.trainer.n_batches
        if now - self._last < 0.1 and batch + 1 < nb:
            return
        self._last = now
        done = (batch + 1) / nb
        el = now - self.t0
        eta = el / done - el if done > 0 else 0
        bar = "=" * int(25 * done) + (">" if done < 1 else "") + "." * (25 - int(25 * done) - (1 if done < 1 else 0))
        sps = logs.get("samples", 0) / el if el > 0 else 0
        self.stream.write(f"\rEpoch {self.epoch + 1}/{self.trainer.epochs} [{bar}] {batch + 1}/{nb} "
                          f"loss {logs.get('loss', float('nan')):.4f} {sps:,.0f} samples/s ETA {eta:4.1f}s ")
        self.stream.flush()

    def on_epoch_end(self, epoch, logs):
        if not self.verbose:
            return
        parts = [f"{k} {v:.4f}" for k, v in logs.items()
                 if v is not None and k not in ("epoch", "seconds", "samples_per_sec", "lr")]
        line = (f"Epoch {epoch + 1}/{self.trainer.epochs} - {logs['seconds']:.2f}s "
                f"{logs['samples_per_sec']:,.0f} samples/s - " + " - ".join(parts) + f" - lr {logs['lr']:.3g}")
        self.stream.write(("\r" + line + " " * 8 + "\n") if self.tty else line + "\n")
        self.stream.flush()


class Diagnostics(Callback):
    """The diagnosis of fastnn.diagnostics during fit, on a fixed random `batch_size` of the training
    samples: per-layer statistics go into ``history.diagnostics`` (a list of {"epoch", "layers",
    "problems"}) and summary columns into the epoch's record (``history["diag_grad_ratio"]``: the lowest
    layer's weight gradient over the top layer's; ``diag_saturated`` / ``diag_dead``: the worst layer's
    fraction; ``diag_problems``); each kind of problem is warned about once (RuntimeWarning).

    every: diagnose every that many epochs; "auto" (default): after the first epoch, as often as keeps
    the diagnosis under `budget` (5 %) of the training time -- every epoch on large data, every few
    epochs when an epoch takes milliseconds.

    Parameters
    ----------
    every : int or "auto", default 'auto'
        Diagnose every this many epochs (auto: within the time budget).
    batch_size : int, default 128
        Training samples diagnosed (a fixed random batch).
    warn : bool, default True
        Warn once about each kind of problem found.
    seed : int, default 0
        Seed of the diagnosed batch.
    budget : float, default 0.05
        Largest share of fit's time the diagnosis may take.
    """

    def __init__(self, every="auto", batch_size=128, warn=True, seed=0, budget=0.05):
        if every != "auto" and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ValueError(f"every: expected a positive int or 'auto', got {every!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 2:
            raise ValueError(f"batch_size: expected an int >= 2, got {batch_size!r}")
        if not 0 < budget < 1:
            raise ValueError(f"budget: expected a fraction in (0, 1), got {budget!r}")
        self.every, self.batch_size, self.warn, self.seed, self.budget = every, batch_size, warn, seed, budget

    def on_train_begin(self, logs):
        self.seen = set()
        self.trainer.history.diagnostics = []
        n = len(self.trainer.X)
        self.idx = np.sort(np.random.default_rng(self.seed).permutation(n)[:self.batch_size])
        self.train_time = self.diag_time = 0.0

    def _due(self, epoch, logs):
        if self.every != "auto":
            return (epoch + 1) % self.every == 0
        self.train_time += logs.get("seconds", 0.0)
        due = epoch == 0 or self.diag_time <= self.budget * self.train_time
        from .._mpi import _W

        if _W.size > 1:  # timings differ between ranks; the diagnosis (SyncBatchNorm) must run on all or none
            due = bool(_W.comm.bcast(due, root=0))
        return due

    def on_epoch_end(self, epoch, logs):
        if not self._due(epoch, logs):
            return
        import warnings

        from ..diagnostics import diagnose

        from .._mpi import _W

        t = self.trainer
        t0 = time.perf_counter()
        rep = diagnose(t.model, t.X[self.idx], t.y[self.idx], loss=t.loss_fn, batch_size=len(self.idx))
        self.diag_time += time.perf_counter() - t0
        t.history.diagnostics.append({"epoch": epoch + 1, "layers": rep.layers,
                                      "problems": [vars(p) for p in rep.problems]})
        rec = t.history.epochs[-1]
        ratios = [r["grad_ratio"] for r in rep.layers if r.get("grad_ratio") is not None]
        rec["diag_grad_ratio"] = ratios[0] if ratios else None
        rec["diag_saturated"] = max([r["saturated"] for r in rep.layers if r["saturated"] is not None], default=None)
        rec["diag_dead"] = max([r["dead"] for r in rep.layers if r["dead"] is not None], default=None)
        rec["diag_problems"] = ",".join(rep.kinds())
        for p in rep.problems:
            if self.warn and p.kind not in self.seen and _W.rank == 0:
                self.seen.add(p.kind)
                warnings.warn(f"Diagnostics (epoch {epoch + 1}): {p}", RuntimeWarning, stacklevel=2)
