"""Model utilities: finiteness check and gradient clipping (one reduction over the gradient arena)."""
import math

import numpy as np

from .. import ops
from .._tensor_base import wrote_raw
from ..tensor import Tensor, _wrap
from .parameter import Parameter, in_arena


def check_finite(model):
    """Names of parameters (and buffers) holding NaN or Inf; empty when all are finite. The kernels
    let NaN/Inf through unchanged (no silent clamping): this is the caller's check."""
    bad = [n for n, p in model.named_parameters() if not np.isfinite(p._a).all()]
    bad += [n for n, b in model.named_buffers() if b._a.dtype.kind == "f" and not np.isfinite(b._a).all()]
    return bad


def _params(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    elif hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()
    out = []
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters: expected fastnn Parameters or tensors, got {type(p).__name__}")
        if p.requires_grad and (isinstance(p, Parameter) or p.grad is not None):
            out.append(p)
    return out


def _grad_views(params):
    """The gradients as few contiguous arrays as possible (maximal runs within each arena, in arena
    order), without moving any parameter."""
    runs, loose = [], []
    for p in params:
        if isinstance(p, Parameter) and in_arena(p):
            runs.append((id(p._arena), p._offset, p._offset + p._a.size, p._arena))
        else:
            loose.append(p._g.reshape(-1) if isinstance(p, Parameter) else p.grad._a.reshape(-1))
    runs.sort(key=lambda r: (r[0], r[1]))
    merged = []
    for key, lo, hi, arena in runs:
        if merged and merged[-1][0] == key and merged[-1][2] == lo:
            merged[-1][2] = hi
        else:
            merged.append([key, lo, hi, arena])
    return [a.grad[lo:hi] for _, lo, hi, a in merged] + loose


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale gradients in place so their global norm is at most max_norm (PyTorch's rule:
    ``g *= max_norm / (total + 1e-6)`` when that factor is < 1). Returns the total norm before clipping
    (a 0-d tensor, as PyTorch; NaN or Inf when a gradient is). error_if_nonfinite=True raises
    (changing nothing) when the norm is NaN or Inf; otherwise the gradients are scaled by the
    non-finite coefficient exactly as PyTorch does (NaN norm -> NaN gradients, Inf norm -> zeros)."""
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.floating, np.integer)) \
            or not max_norm >= 0:
        raise ValueError(f"max_norm: expected a number >= 0, got {max_norm!r}")
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"norm_type: expected > 0 (or inf), got {norm_type}")
    params = _params(parameters)
    views = _grad_views(params)
    total = float(ops.global_norm(views, norm_type)) if views else 0.0
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is "
                           "non-finite, so it cannot be clipped. To disable this error and scale the "
                           "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # also NaN, as torch's clamp(coef, max=1)
        for v in views:
            ops.scale_(v, coef)
    dt = params[0]._a.dtype if params else np.float32
    return _wrap(np.asarray(total, dt))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    if not clip_value >= 0:
        raise ValueError(f"clip_value: expected >= 0, got {clip_value}")
    for v in _grad_views(_params(parameters)):
        ops.clamp_(v, -clip_value, clip_value)


def parameters_to_vector(parameters):
    from ..tensor import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    v = np.asarray(vec._a if isinstance(vec, Tensor) else vec)
    i = 0
    for p in parameters:
        n = p._a.size
        p._a[...] = v[i:i + n].reshape(p._a.shape)
        i += n
    wrote_raw()
