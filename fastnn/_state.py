"""Exact snapshots of a model (and its optimizer) taken before something that may have to be undone: fit's
restore point for a non-finite loss and its first step, lr_find's and the diagnosis's probes. Copies,
written back into the parameters' current storage (nothing moves)."""
import numpy as np

from ._random import default_generator
from ._tensor_base import wrote_raw


def snapshot(model, optimizer=None, full=False):
    """Copies of every parameter and buffer (batch-norm statistics) and the optimizer's state; full=True
    adds what a probe may touch besides: gradients, train/eval modes, the random layers' call counters,
    the global generators and the optimizer's hyperparameters."""
    params = list(model.parameters())
    snap = {"params": [p._a.copy() for p in params], "buffers": [b._a.copy() for b in model.buffers()],
            "optimizer": None if optimizer is None else optimizer._snapshot()}
    if full:
        snap.update(grads=[p._g.copy() for p in params], modes=[(m, m.training) for m in model.modules()],
                    calls=[(m, m.__dict__["_calls"]) for m in model.modules() if "_calls" in m.__dict__],
                    generator=default_generator.get_state(), numpy=np.random.get_state(),
                    groups=None if optimizer is None else [dict(g) for g in optimizer.param_groups])
    return snap


def restore(model, optimizer, snap):
    """Write a snapshot back, exactly."""
    params = list(model.parameters())
    for p, a in zip(params, snap["params"]):
        p._a[...] = a
    for b, a in zip(model.buffers(), snap["buffers"]):
        b._a[...] = a
    wrote_raw()
    if "grads" in snap:
        for p, g in zip(params, snap["grads"]):
            p._g[...] = g
        for m, t in snap["modes"]:
            m.__dict__["training"] = t
        for m, c in snap["calls"]:
            m.__dict__["_calls"] = c
        default_generator.set_state(snap["generator"])
        np.random.set_state(snap["numpy"])
    if optimizer is not None:
        optimizer._restore(snap["optimizer"])
        for g, saved in zip(optimizer.param_groups, snap.get("groups") or ()):
            g.update(saved)
