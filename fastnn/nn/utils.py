"""Model utilities: finiteness check and gradient clipping (one reduction over the gradient arena)."""
import numpy as np

from .. import ops
from .parameter import Parameter, pack


def check_finite(model):
    """Names of parameters (and buffers) holding NaN or Inf; empty when all are finite. The kernels
    let NaN/Inf through unchanged (no silent clamping): this is the caller's check."""
    bad = [n for n, p in model.named_parameters() if not np.isfinite(p.data).all()]
    bad += [n for n, b in model.named_buffers() if b.dtype.kind == "f" and not np.isfinite(b).all()]
    return bad


def _params(parameters):
    if isinstance(parameters, Parameter):
        parameters = [parameters]
    elif hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()
    return [p for p in parameters if p.requires_grad]


def _grad_views(params):
    """The gradients as few contiguous arrays as possible (the arena's runs)."""
    if not params:
        return []
    r = pack(params)
    return [r.arena.grad[lo:hi] for lo, hi in r.ranges(lambda p: True)]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale gradients in place so their global norm is at most max_norm (PyTorch's rule:
    g *= max_norm / (total + 1e-6) when that factor is < 1). Returns the total norm before clipping.
    error_if_nonfinite=True raises (changing nothing) when the norm is NaN or Inf."""
    if not max_norm >= 0:
        raise ValueError(f"max_norm: expected >= 0, got {max_norm}")
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"norm_type: expected > 0 (or inf), got {norm_type}")
    views = _grad_views(_params(parameters))
    total = ops.global_norm(views, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} is {total}: "
                           "non-finite gradients (set error_if_nonfinite=False to clip anyway)")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for v in views:
            ops.scale_(v, coef)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    if not clip_value >= 0:
        raise ValueError(f"clip_value: expected >= 0, got {clip_value}")
    for v in _grad_views(_params(parameters)):
        ops.clamp_(v, -clip_value, clip_value)
