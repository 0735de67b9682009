"""One training step, shared by fit, its data-parallel form and lr_find: the explicit chain (each call its
own context, begin_update) for a chain of built-in layers with a built-in loss, autograd for any other
model; then clipping and the optimizer's update."""
import math

import numpy as np

from .. import nn
from ..nn.loss import _Loss
from ..nn.parameter import hooked
from ..tensor import Tensor, _wrap


def chain_writes_each_once(model, optimizer):
    """Whether the explicit chain of `model` writes the gradient of every trainable parameter the
    optimizer updates exactly once (no module or parameter used twice, only layers that honour
    assignment): the step may then assign the gradients instead of zeroing the arena and adding
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


class Step:
    """``out, loss, ok = step(xb, yb)``: forward, backward, clip, update; a non-finite loss updates nothing
    (ok False)."""

    def __init__(self, model, loss_fn, optimizer, clip):
        self.model, self.loss_fn, self.opt, self.clip = model, loss_fn, optimizer, clip
        self.native = model._fusable() and isinstance(loss_fn, _Loss)
        self.assign = self.native and chain_writes_each_once(model, optimizer)

    def targets(self, yb):
        """The targets of the samples this process trained on (all of the batch)."""
        return yb

    def gradients(self, xb, yb):
        """(outputs, loss value, whether it is finite), the gradients of a finite loss in the arena (zeroed
        first, or assigned when the chain writes each once)."""
        m, lf, opt = self.model, self.loss_fn, self.opt
        if self.native:
            out, backprop = m.begin_update(xb)
            lval, loss_backprop = lf.begin_update(out, yb)
            if not math.isfinite(lval):
                return out, lval, False
            if self.assign and not hooked[0]:  # every gradient written once: assigned, no zero_grad
                backprop(loss_backprop(), need_input_grad=False, accumulate=False)
            else:
                opt.zero_grad()
                backprop(loss_backprop(), need_input_grad=False)
            return out, lval, True
        o = m(_wrap(xb))
        loss = lf(o, yb if isinstance(lf, _Loss) else _wrap(yb))
        if not isinstance(loss, Tensor):
            raise TypeError(f"loss: the loss function returned {type(loss).__name__}, expected a fastnn tensor")
        lval = float(loss.item())
        if not math.isfinite(lval):
            return o._a, lval, False
        opt.zero_grad()
        if loss.requires_grad:
            loss.backward()
        return o._a, lval, True

    def update(self):
        if self.clip is not None:
            nn.utils.clip_grad_norm_(self.model, self.clip)
        self.opt.step()

    def __call__(self, xb, yb):
        out, lval, ok = self.gradients(xb, yb)
        if ok:
            self.update()
        return out, lval, ok


class DistStep(Step):
    """A data-parallel step (fit under mpiexec): the batch is the same global batch on every rank; each
    rank trains on its contiguous shard, then the ranks agree on the loss (and on whether it is finite)
    and average the gradients weighted by shard size -- the gradient of the whole batch's mean loss --
    before clipping and the update. A rank that fails ends every rank (MPI_Abort), never a hang."""

    def __init__(self, model, loss_fn, optimizer, clip):
        super().__init__(model, loss_fn, optimizer, clip)
        from .. import distributed as dist

        self.dist, self.R, self.P = dist, dist.rank(), dist.world_size()
        self.shard = slice(0, 0)
        self.assign = False  # each rank zeroes, so an empty shard contributes zeros

    def targets(self, yb):
        return yb[self.shard]

    def __call__(self, xb, yb):
        n = xb.shape[0]
        lo, hi = self.R * n // self.P, (self.R + 1) * n // self.P
        self.shard = slice(lo, hi)
        out, lval, ok = np.zeros((0,)), 0.0, True
        try:
            self.opt.zero_grad()
            if hi > lo:
                out, lval, ok = self.gradients(xb[lo:hi], yb[lo:hi])
            stat = np.array([hi - lo, (hi - lo) * lval if ok else 0.0, 0.0 if ok else 1.0])
            self.dist._reduce_sum(stat)
            if stat[2] > 0:
                return out, float("nan"), False
            self.dist.synchronize_gradients(self.opt._params, weight=hi - lo, total=stat[0])
            self.update()
        except Exception as e:  # every rank waits on this one: end them all with the reason
            self.dist.abort(f"{type(e).__name__}: {e}")
        return out, stat[1] / stat[0], True
