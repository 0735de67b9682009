"""Smith's learning-rate range test: train with an exponentially growing learning rate and watch the
loss. The model and the optimizer are restored exactly afterwards (other finders change the model they
probe: fastai#3013, torch-lr-finder#11, Lightning#6675), and the same seed gives the same suggestion."""
import math

import numpy as np

from .._random import default_generator
from .._state import restore, snapshot
from ..nn.module import Module
from ._args import arrays_arg, loss_fn_arg
from ._step import Step


class LRFinderResult:
    """lrs, losses (smoothed and debiased), raw_losses; suggestion (fastai's "valley" rule) and
    suggestions {"valley", "steep", "minimum/10"}; plot(path).

    Parameters
    ----------
    lrs : list of float
        The learning rates tried, one per step.
    losses : list of float
        The smoothed (and debiased) losses.
    raw : list of float
        The raw losses.
    skip_end : int
        Points at the end left out of the suggestions.
    skip_start : int, default 0
        Points at the start left out of the suggestions.
    """

    def __init__(self, lrs, losses, raw, skip_end, skip_start=0):
        self.lrs, self.losses, self.raw_losses = list(lrs), list(losses), list(raw)
        self.suggestions = _suggest(self.lrs, self.losses, skip_end, skip_start)
        self.suggestion = self.suggestions.get("valley")

    def __repr__(self):
        s = ", ".join(f"{k} {v:.3g}" for k, v in self.suggestions.items() if v is not None)
        return f"LRFinderResult({len(self.lrs)} steps, {self.lrs[0]:.2g} .. {self.lrs[-1]:.2g}; suggestions: {s})"

    def plot(self, path, title="learning-rate range test"):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(self.lrs, self.losses, label="loss (smoothed)")
        ax.plot(self.lrs, self.raw_losses, alpha=0.3, label="loss")
        for (k, v), c in zip(self.suggestions.items(), ("C1", "C2", "C3")):
            if v is not None:
                ax.axvline(v, color=c, ls="--", label=f"{k}: {v:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        lo = min(self.losses)
        ax.set_ylim(lo - 0.05 * abs(lo), min(max(self.losses), 4 * max(lo, 1e-12) + abs(lo)))
        ax.legend(fontsize=8)
        ax.set_title(title)
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        return path


def _suggest(lrs, losses, skip_end, skip_start):
    """On the points past the first tenth (the smoothing's warm-up) and before the last skip_end (the
    divergence), as fastai."""
    hi = len(losses) - skip_end
    lo = min(skip_start, max(0, hi - 3))
    if hi - lo < 3:
        return {"valley": None, "steep": None, "minimum/10": None}
    lr, ls = np.asarray(lrs[lo:hi]), np.asarray(losses[lo:hi])
    n = len(ls)
    # fastai's valley: the longest strictly decreasing run (longest decreasing subsequence ending at each
    # point), then a point about two-thirds down it
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if ls[i] < ls[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    valley = float(lr[max_start + int(sections) + int(sections / 2)])
    grads = np.diff(ls) / np.diff(np.log(lr))
    steep = float(lr[int(np.argmin(grads))])
    minimum = float(lr[int(np.argmin(ls))]) / 10
    return {"valley": valley, "steep": steep, "minimum/10": minimum}


def lr_find(model, X, y, *, loss, optimizer, start_lr=1e-7, end_lr=10.0, num_iter=100, batch_size=32,
            smooth=0.98, diverge=4.0, skip_end=5, seed=0):
    """Smith's learning-rate range test: where to start the learning rate, without changing the model.

    Trains for up to `num_iter` batches with the learning rate growing exponentially from `start_lr`
    to `end_lr` (every parameter group gets it), recording the loss, and stops when the smoothed loss
    exceeds `diverge` x the best seen (or turns non-finite). Losses are smoothed exponentially (beta =
    `smooth`) and debiased. The model (parameters, gradients, buffers, modes), the optimizer (state,
    step counts, learning rates) and the random generators are restored exactly afterwards.

    Parameters
    ----------
    model : fastnn.nn.Module
    X, y : array_like or Tensor
    loss : Module, type or str
    optimizer : fastnn.optim.Optimizer
        The optimizer to probe (its settings other than the learning rate are kept).
    start_lr, end_lr : float, default 1e-7 and 10.0
    num_iter : int, default 100
    batch_size : int, default 32
    smooth : float, default 0.98
    diverge : float, default 4.0
    skip_end : int, default 5
        Points at the end (the divergence) that the suggestions ignore; they also ignore the first
        tenth of the points.
    seed : int, default 0
        The batches drawn: the same seed gives the same curve and suggestions.

    Returns
    -------
    LRFinderResult
        ``lrs``, ``losses`` (smoothed), ``raw_losses``; ``suggestion`` (fastai's "valley" rule) and
        ``suggestions`` ({"valley", "steep", "minimum/10"}); ``plot(path)``.

    Examples
    --------
    >>> found = fastnn.lr_find(model, X, y, loss="cross_entropy", optimizer=opt)
    >>> opt.param_groups[0]["lr"] = found.suggestion
    """
    if not isinstance(model, Module):
        raise TypeError(f"model: expected a fastnn Module, got {type(model).__name__}")
    for name, v in (("start_lr", start_lr), ("end_lr", end_lr)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name}: expected a positive learning rate, got {v!r}")
    if not start_lr < end_lr:
        raise ValueError(f"start_lr ({start_lr}) must be below end_lr ({end_lr})")
    if isinstance(num_iter, bool) or not isinstance(num_iter, (int, np.integer)) or num_iter < 3:
        raise ValueError(f"num_iter: expected an int >= 3, got {num_iter!r}")
    if not 0 <= smooth < 1:
        raise ValueError(f"smooth: expected a number in [0, 1), got {smooth!r}")
    if not diverge > 1:
        raise ValueError(f"diverge: expected a factor > 1, got {diverge!r}")
    X, y = arrays_arg(X, y)
    loss_fn = loss_fn_arg(loss)
    snap = snapshot(model, optimizer, full=True)
    step = Step(model, loss_fn, optimizer, None)
    rng = np.random.default_rng(seed)
    lrs, losses, raw = [], [], []
    avg, best = 0.0, math.inf
    try:
        default_generator.manual_seed(seed)
        model.train()
        order = rng.permutation(len(X))
        pos = 0
        for i in range(int(num_iter)):
            lr = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))
            for g in optimizer.param_groups:
                g["lr"] = lr
            if pos + batch_size > len(order):
                order, pos = rng.permutation(len(X)), 0
            idx = order[pos:pos + batch_size]
            pos += batch_size
            _, lv, _ = step(X[idx], y[idx])
            avg = smooth * avg + (1 - smooth) * lv
            sm = avg / (1 - smooth ** (i + 1))
            lrs.append(lr)
            raw.append(lv)
            losses.append(sm)
            best = min(best, sm)
            if not math.isfinite(sm) or sm > diverge * best:
                break
    finally:
        restore(model, optimizer, snap)
    finite = [i for i, v in enumerate(losses) if math.isfinite(v)]
    lrs = [lrs[i] for i in finite]
    return LRFinderResult(lrs, [losses[i] for i in finite], [raw[i] for i in finite],
                          skip_end if len(lrs) > skip_end + 3 else 0, max(1, int(num_iter) // 10))
