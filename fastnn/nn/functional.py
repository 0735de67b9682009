"""fastnn.nn.functional: torch.nn.functional's names on fastnn tensors, each a forward/backward pair
over fastnn's kernels (floor 3) recorded on the autograd graph. Arrays are accepted wherever a tensor
is (they become tensors that do not require grad)."""
import math
import numbers

import numpy as np

from .. import ops
from .._random import default_generator, stream_seed
from ..autograd import Node, _mode, edge
from .._workspace import shared as _shared
from ..tensor import Tensor, _arr, _out, _softmax, _wrap, as_tensor, kernel_act

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh",
    "softplus", "softsign", "hardtanh", "logsigmoid", "hardsigmoid", "hardswish", "prelu", "rrelu", "threshold", "glu",
    "softmax", "log_softmax", "softmin", "linear", "bilinear", "dropout", "alpha_dropout", "batch_norm",
    "layer_norm", "normalize", "one_hot", "pad", "interpolate", "upsample", "embedding",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_similarity",
    "pairwise_distance",
]


def _t(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _float_arr(a):
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float32)


def _act(x, f, b, args=(), from_output=False):
    """y = f(x, *args) through a kernel; backward b(g, x or y, *args)."""
    return kernel_act(_t(x), f, b, args, from_output)


# ---- activations ----
def relu(input, inplace=False):
    return _act(input, ops.relu, ops.relu_backward)


def relu_(input):
    return input.relu_()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _act(input, ops.leaky_relu, ops.leaky_relu_backward, (float(negative_slope),))


def elu(input, alpha=1.0, inplace=False):
    return _act(input, ops.elu, ops.elu_backward, (float(alpha),))


def selu(input, inplace=False):
    return _act(input, ops.selu, ops.selu_backward)


def silu(input, inplace=False):
    return _act(input, ops.silu, ops.silu_backward)


def sigmoid(input):
    return _act(input, ops.sigmoid, ops.sigmoid_backward, from_output=True)


def tanh(input):
    return _act(input, ops.tanh, ops.tanh_backward, from_output=True)


def softplus(input, beta=1.0, threshold=20.0):
    return _act(input, ops.softplus, ops.softplus_backward, (float(beta), float(threshold)))


def _gelu_f(x, approximate, out=None):
    return ops.gelu(x, approximate=approximate, out=out)


def _gelu_b(g, x, approximate, out=None):
    return ops.gelu_backward(g, x, approximate=approximate, out=out)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")
    return _act(input, _gelu_f, _gelu_b, (approximate,))


def celu(input, alpha=1.0, inplace=False):
    x = _t(input)
    return relu(x) - relu(-alpha * (x / alpha).expm1()) if alpha != 1.0 else elu(x)


def mish(input, inplace=False):
    x = _t(input)
    return x * softplus(x).tanh()


def softsign(input):
    x = _t(input)
    return x / (1 + x.abs())


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _t(input).clamp(min_val, max_val)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input, inplace=False):
    return (_t(input) / 6 + 0.5).clamp(0.0, 1.0)


def hardswish(input, inplace=False):
    x = _t(input)
    return x * hardsigmoid(x)


def logsigmoid(input):
    return -softplus(-_t(input))


def glu(input, dim=-1):
    a, b = _t(input).chunk(2, dim)
    return a * b.sigmoid()


def threshold(input, threshold, value, inplace=False):
    x = _t(input)
    return x.masked_fill(x <= threshold, value)


def prelu(input, weight):
    x, w = _t(input), _t(weight)
    a = _float_arr(x._a)
    y = ops.prelu(a, w._a)
    return _out(y, _prelu_bwd, (a, w._a), x, w)


def _prelu_bwd(ctx, g, edges):
    x, w = ctx
    g = np.ascontiguousarray(g, x.dtype)
    gx, gw = ops.prelu_backward(g, x, w, need_input_grad=edges[0] is not None)
    return gx, (gw if edges[1] is not None else None)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    x = _t(input)
    a = _float_arr(x._a)
    seed = stream_seed(default_generator.next_seed(), 0) if training else 0
    y = ops.rrelu(a, lower, upper, training=training, seed=seed)
    return _out(y, _rrelu_bwd, (a, lower, upper, training, seed), x)


def _rrelu_bwd(ctx, g, edges):
    a, lo, hi, tr, seed = ctx
    return (ops.rrelu_backward(np.ascontiguousarray(g, a.dtype), a, lo, hi, training=tr, seed=seed),)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax(_t(input), dim, False, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax(_t(input), dim, True, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax(-_t(input), dim, False, dtype)


# ---- layers ----
def _linear_bwd(ctx, g, edges):
    x, w, has_b = ctx
    g = np.ascontiguousarray(g, x.dtype)
    need_x, need_w = edges[0] is not None, edges[1] is not None
    need_b = has_b and edges[2] is not None
    gx, gw, gb = ops.linear_backward(
        g, x, w, need_input_grad=need_x, need_weight_grad=need_w, need_bias_grad=need_b,
        grad_input=_shared.get("linear.gx", x.shape, x.dtype) if need_x else None,
        grad_weight=_shared.get("linear.gw", w.shape, w.dtype) if need_w else None,
        grad_bias=_shared.get("linear.gb", (w.shape[0],), w.dtype) if need_b else None)
    return (gx, gw, gb) if has_b else (gx, gw)


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias (weight (out, in), as PyTorch), through the fused GEMM kernel."""
    x, w = _t(input), _t(weight)
    a = x._a if x._a.dtype == w._a.dtype else x._a.astype(w._a.dtype)
    if a.ndim < 1 or w._a.ndim != 2 or a.shape[-1] != w._a.shape[1]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, a.shape))} and "
                           f"{w._a.shape[1]}x{w._a.shape[0]})")
    out = _shared.get("linear.y", a.shape[:-1] + (w._a.shape[0],), a.dtype)
    if bias is not None:
        b = _t(bias)
        y = ops.linear(a, w._a, b._a, out=out)
        return _out(y, _linear_bwd, (a, w._a, True), x, w, b)
    y = ops.linear(a, w._a, out=out)
    return _out(y, _linear_bwd, (a, w._a, False), x, w)


def bilinear(input1, input2, weight, bias=None):
    y = einsum_bilinear(_t(input1), _t(input2), _t(weight))
    return y + bias if bias is not None else y


def einsum_bilinear(x1, x2, w):
    from ..tensor import einsum

    return einsum("bi,oij,bj->bo", x1, w, x2)


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout with a fresh counter-based mask (identity when not training or p = 0)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _t(input)
    if not training or p == 0:
        return x
    a = _float_arr(x._a)
    seed = default_generator.next_seed()
    y = ops.dropout(a, p, seed=seed)
    return _out(y, _dropout_bwd, (p, seed, a.dtype), x)


def _dropout_bwd(ctx, g, edges):
    p, seed, dt = ctx
    return (ops.dropout_backward(np.ascontiguousarray(g, dt), p, seed=seed),)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    x = _t(input)
    if not training or p == 0:
        return x
    alpha = -1.7580993408473766
    keep = default_generator.numpy.random(x.shape) >= p
    a = ((1 - p) * (1 + p * alpha ** 2)) ** -0.5
    b = -a * alpha * p
    return (x * _wrap(keep.astype(x._a.dtype)) + _wrap((~keep * alpha).astype(x._a.dtype))) * a + b


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-05):
    """Batch normalization over axis 1 (PyTorch's functional form; running statistics updated in place
    when training)."""
    x = _t(input)
    a = _float_arr(x._a)
    if a.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2-D input (N, C, ...), got shape {a.shape}")
    C = a.shape[1]
    rm = None if running_mean is None else _arr(running_mean)
    rv = None if running_var is None else _arr(running_var)
    if not training and (rm is None or rv is None):
        raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
    if training and a.size // max(C, 1) <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(a.shape)}")
    w = None if weight is None else _t(weight)
    b = None if bias is None else _t(bias)
    mean, invstd = np.empty(C, a.dtype), np.empty(C, a.dtype)
    if training:
        y = ops.batch_norm(a, None if w is None else w._a, None if b is None else b._a, rm, rv, training=True,
                           momentum=momentum, eps=eps, return_stats=True, save_mean=mean, save_invstd=invstd)[0]
    else:
        y = ops.batch_norm(a, None if w is None else w._a, None if b is None else b._a, rm, rv, training=False,
                           eps=eps)
        mean[...] = rm
        invstd[...] = 1 / np.sqrt(rv + eps)
    ins = [x] + [t for t in (w, b) if t is not None]
    return _out(y, _bn_bwd, (a, None if w is None else w._a, mean, invstd, training, w is not None, b is not None),
                *ins)


def _bn_bwd(ctx, g, edges):
    a, w, mean, invstd, training, has_w, has_b = ctx
    g = np.ascontiguousarray(g, a.dtype)
    gx, gw, gb = ops.batch_norm_backward(g, a, w, mean, invstd, training=training,
                                         need_input_grad=edges[0] is not None)
    out = [gx]
    if has_w:
        out.append(gw)
    if has_b:
        out.append(gb)
    return tuple(out)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    x = _t(input)
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    dims = tuple(range(-len(normalized_shape), 0))
    m = x.mean(dims, keepdim=True)
    v = ((x - m) ** 2).mean(dims, keepdim=True)
    y = (x - m) / (v + eps).sqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    x = _t(input)
    return x / x.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    a, b = _t(x1), _t(x2)
    return (a * b).sum(dim) / (a.norm(2, dim) * b.norm(2, dim)).clamp(min=eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-06, keepdim=False):
    return (_t(x1) - _t(x2) + eps).norm(p, -1, keepdim)


def one_hot(tensor, num_classes=-1):
    t = _arr(tensor)
    if t.dtype.kind not in "iu":
        raise TypeError("one_hot is only applicable to index tensor (integer dtype)")
    if t.size and t.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    n = int(t.max()) + 1 if num_classes == -1 else int(num_classes)
    if t.size and t.max() >= n:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(t.shape + (n,), np.int64)
    np.put_along_axis(out, t[..., None].astype(np.int64), 1, axis=-1)
    return _wrap(out)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    idx = _arr(input)
    w = _t(weight)
    y = w.index_select(0, _wrap(idx.reshape(-1))).reshape(*idx.shape, w.shape[-1])
    return y


# ---- padding and resizing ----
def _pad_index(n, before, after, mode):
    """Source indices of a padded axis of length n (mode: reflect, replicate, circular)."""
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return np.mod(i, n)
    if before >= n or after >= n:
        raise ValueError(f"pad: reflect padding ({before}, {after}) must be smaller than the dimension ({n})")
    period = 2 * (n - 1) if n > 1 else 1
    j = np.mod(i, period)
    return np.where(j < n, j, period - j)


def _pad_bwd(ctx, g, edges):
    mode, shape, pads, idxs = ctx
    if mode == "constant":
        sl = tuple(slice(b, g.shape[d] - a) for d, (b, a) in zip(range(len(shape)), pads))
        return (g[sl],)
    for d, idx in reversed(idxs):
        gx = np.zeros(g.shape[:d] + (shape[d],) + g.shape[d + 1:], g.dtype)
        np.add.at(gx, (slice(None),) * d + (idx,), g)
        g = gx
    return (g,)


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 axes: pad = (left, right, top, bottom, ...) as PyTorch; modes
    'constant', 'reflect', 'replicate', 'circular'."""
    x = _t(input)
    a = x._a
    if len(pad) % 2:
        raise ValueError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > a.ndim:
        raise ValueError(f"Padding length too large for a {a.ndim}-D input")
    pads = [(0, 0)] * a.ndim
    for i in range(k):
        pads[a.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if mode == "constant":
        if any(b < 0 or e < 0 for b, e in pads):
            sl = tuple(slice(-b if b < 0 else 0, a.shape[d] + e if e < 0 else None) for d, (b, e) in enumerate(pads))
            return pad_nonneg(x[sl], [(max(b, 0), max(e, 0)) for b, e in pads], value)
        return pad_nonneg(x, pads, value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    y, idxs = a, []
    for d, (b, e) in enumerate(pads):
        if b or e:
            idx = _pad_index(a.shape[d], b, e, mode)
            y = np.take(y, idx, axis=d)
            idxs.append((d, idx))
    return _out(np.ascontiguousarray(y), _pad_bwd, (mode, a.shape, pads, idxs), x)


def pad_nonneg(x, pads, value):
    a = x._a
    y = np.pad(a, pads, mode="constant", constant_values=0 if value is None else value)
    return _out(y, _pad_bwd, ("constant", a.shape, pads, None), x)


def _interp_matrix(n_in, n_out, mode, align_corners, scale):
    """(n_out, n_in) matrix M with out = M @ in along one axis, PyTorch's sampling rules."""
    M = np.zeros((n_out, n_in))
    dst = np.arange(n_out)
    if mode == "nearest":
        ratio = (1.0 / scale) if scale else n_in / n_out
        src = np.minimum(np.floor(dst * ratio).astype(np.int64), n_in - 1)
        M[dst, src] = 1.0
        return M
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        ratio = (1.0 / scale) if scale else n_in / n_out
        src = np.maximum((dst + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    np.add.at(M, (dst, i0), 1 - lam)
    np.add.at(M, (dst, i1), lam)
    return M


def _interp_bwd(ctx, g, edges):
    mats = ctx
    for d, M in mats:
        g = np.moveaxis(np.tensordot(M.T.astype(g.dtype), np.moveaxis(g, d, 0), axes=1), 0, d)
    return (np.ascontiguousarray(g),)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial axes (all but N, C): mode 'nearest', 'linear' (3-D), 'bilinear' (4-D),
    'trilinear' (5-D), with PyTorch's sampling (align_corners, size or scale_factor)."""
    x = _t(input)
    a = _float_arr(x._a)
    sp = a.ndim - 2
    if sp < 1:
        raise ValueError(f"interpolate: expected input of shape (N, C, ...spatial), got {a.shape}")
    lin = {"linear": 1, "bilinear": 2, "trilinear": 3}
    if mode in lin and lin[mode] != sp:
        raise ValueError(f"interpolate: mode {mode!r} needs {lin[mode] + 2}-D input, got {a.ndim}-D")
    if mode not in ("nearest",) and mode not in lin:
        raise NotImplementedError(f"interpolate: mode {mode!r} (fastnn has nearest, linear, bilinear, trilinear)")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (int(size),) * sp
        scales = (None,) * sp
    else:
        sf = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (float(scale_factor),) * sp
        out = tuple(int(math.floor(n * s)) for n, s in zip(a.shape[2:], sf))
        scales = (None,) * sp if recompute_scale_factor else sf
    y, mats = a, []
    for k in range(sp):
        d = 2 + k
        M = _interp_matrix(a.shape[d], out[k], "nearest" if mode == "nearest" else "linear", bool(align_corners),
                           scales[k])
        y = np.moveaxis(np.tensordot(M.astype(a.dtype), np.moveaxis(y, d, 0), axes=1), 0, d)
        mats.append((d, M))
    return _out(np.ascontiguousarray(y), _interp_bwd, list(reversed(mats)), x)


upsample = interpolate


# ---- losses (the loss modules' math) ----
def _loss(cls, input, target, **kw):
    m = cls(**kw)
    return m(_t(input), target)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    from .loss import CrossEntropyLoss
    return _loss(CrossEntropyLoss, input, target, weight=weight, size_average=size_average,
                 ignore_index=ignore_index, reduce=reduce, reduction=reduction, label_smoothing=label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    from .loss import NLLLoss
    return _loss(NLLLoss, input, target, weight=weight, size_average=size_average, ignore_index=ignore_index,
                 reduce=reduce, reduction=reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    from .loss import MSELoss
    return _pair_loss(MSELoss, input, target, reduction=reduction, size_average=size_average, reduce=reduce)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    from .loss import L1Loss
    return _pair_loss(L1Loss, input, target, reduction=reduction, size_average=size_average, reduce=reduce)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    from .loss import SmoothL1Loss
    return _pair_loss(SmoothL1Loss, input, target, reduction=reduction, beta=beta)


def huber_loss(input, target, reduction="mean", delta=1.0):
    from .loss import HuberLoss
    return _pair_loss(HuberLoss, input, target, reduction=reduction, delta=delta)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    from .loss import BCELoss
    return _pair_loss(BCELoss, input, target, weight=weight, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    from .loss import BCEWithLogitsLoss
    return _pair_loss(BCEWithLogitsLoss, input, target, weight=weight, reduction=reduction, pos_weight=pos_weight)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    from .loss import KLDivLoss
    return _pair_loss(KLDivLoss, input, target, reduction=reduction, log_target=log_target)


def _pair_loss(cls, input, target, **kw):
    """A loss of two same-shape tensors; a target that requires grad gets its gradient by autograd
    on the tensor expression of the loss (rare: most targets are data)."""
    x = _t(input)
    if isinstance(target, Tensor) and target.requires_grad and _mode.enabled:
        return _pair_loss_expr(cls, x, target, **kw)
    return cls(**kw)(x, target)


def _pair_loss_expr(cls, x, t, reduction="mean", **kw):
    name = cls.__name__
    d = x - t
    if name == "MSELoss":
        e = d * d
    elif name == "L1Loss":
        e = d.abs()
    else:
        raise NotImplementedError(f"{name} with a target that requires grad")
    return e.mean() if reduction == "mean" else (e.sum() if reduction == "sum" else e)


def __getattr__(name):  # PyTorch's functional ops fastnn lacks: a NotImplementedError naming them
    from .. import _missing

    return _missing.lookup(_missing.FUNCTIONAL, "fastnn.nn.functional", name)
