"""``torch.amp``'s names: ``fastnn.amp.autocast`` (bfloat16 products on the CPU; see ``fastnn.autocast``) and
``GradScaler``, so mixed-precision training loops written for PyTorch run unchanged.

bfloat16 has float32's exponent range, so its gradients need no scaling; ``GradScaler`` is here for code
that uses it (``scaler.scale(loss).backward(); scaler.step(opt); scaler.update()``), with PyTorch's
semantics: steps whose gradients hold an inf or NaN are skipped and the scale backs off.
"""
import math

import numpy as np

from ._autocast import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: F401

__all__ = ["autocast", "get_autocast_dtype", "is_autocast_enabled", "GradScaler"]


class GradScaler:
    """Loss scaling for mixed precision, as ``torch.amp.GradScaler``.

    Parameters
    ----------
    device : str
        Accepted for PyTorch's signature (fastnn runs on the CPU whatever it names).
    init_scale : float
        The first scale factor.
    growth_factor : float
        Multiplies the scale after `growth_interval` steps in a row without inf or NaN gradients (> 1).
    backoff_factor : float
        Multiplies the scale after a step with inf or NaN gradients (in (0, 1)).
    growth_interval : int
        Steps without inf or NaN before the scale grows.
    enabled : bool
        False: ``scale`` returns its input, ``step`` just steps, ``update`` does nothing.

    Examples
    --------
    >>> scaler = fastnn.amp.GradScaler("cpu")
    >>> with fastnn.autocast("cpu", dtype=fastnn.bfloat16):
    ...     loss = loss_fn(model(X), y)
    >>> scaler.scale(loss).backward()
    >>> scaler.step(optimizer)
    >>> scaler.update()
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        for name, v in (("init_scale", init_scale), ("growth_factor", growth_factor),
                        ("backoff_factor", backoff_factor)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"GradScaler: {name}: expected a positive finite number, got {v!r}")
        if growth_factor <= 1.0:
            raise ValueError(f"GradScaler: growth_factor: expected > 1, got {growth_factor!r}")
        if backoff_factor >= 1.0:
            raise ValueError(f"GradScaler: backoff_factor: expected < 1, got {backoff_factor!r}")
        if isinstance(growth_interval, bool) or not isinstance(growth_interval, int) or growth_interval < 1:
            raise ValueError(f"GradScaler: growth_interval: expected a positive int, got {growth_interval!r}")
        self._device = str(device)
        self._enabled = bool(enabled)
        self._scale = float(init_scale)
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._found = {}  # id(optimizer) -> found an inf / NaN when unscaling this iteration

    def is_enabled(self):
        return self._enabled

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """outputs (a tensor, or a list / tuple of them) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    @staticmethod
    def _grads(optimizer):
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    yield p.grad

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale (once per iteration), noting inf / NaN."""
        if not self._enabled:
            return
        if id(optimizer) in self._found:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        from .autograd import no_grad

        inv, found = 1.0 / self._scale, False
        with no_grad():
            for g in self._grads(optimizer):
                g.mul_(inv)
                found = found or not bool(np.isfinite(g.numpy()).all())
        self._found[id(optimizer)] = found

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(), unless the (unscaled) gradients hold an inf or NaN: then skipped (None)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._found:
            self.unscale_(optimizer)
        if self._found[id(optimizer)]:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Back off after an inf / NaN this iteration, grow after growth_interval clean ones (or set
        new_scale)."""
        if not self._enabled:
            return
        if new_scale is not None:
            v = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
            if not math.isfinite(v) or v <= 0:
                raise ValueError(f"GradScaler.update: new_scale: expected a positive finite number, got {new_scale!r}")
            self._scale = v
        elif any(self._found.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        elif self._found:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        self._found = {}

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
