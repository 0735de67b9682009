"""fastnn.nn.functional: torch.nn.functional's names on fastnn tensors, each a forward/backward pair
over fastnn's kernels (floor 3) recorded on the autograd graph. Arrays are accepted wherever a tensor
is (they become tensors that do not require grad)."""
import functools
import inspect
import math
import numbers

import numpy as np

from .. import ops
from .._ext import _pairs as U
from .._ext._pairs import dropout_bwd, dropout_fwd, linear_bwd, linear_fwd
from .._random import default_generator, stream_seed
from .._autograd import _mode
from .._workspace import shared as _shared
from ..tensor import (Tensor, _arr, _bump, _out, _softmax, _wrap, apply_inplace, as_tensor, kernel_act, products,
                      reads)

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh",
    "softplus", "softsign", "hardtanh", "logsigmoid", "hardsigmoid", "hardswish", "prelu", "rrelu", "threshold", "glu",
    "softmax", "log_softmax", "softmin", "linear", "bilinear", "dropout", "alpha_dropout", "batch_norm",
    "layer_norm", "normalize", "one_hot", "pad", "interpolate", "upsample", "embedding",
    "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "dropout1d", "dropout2d",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_similarity",
    "pairwise_distance",
]


def _t(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _float_arr(a):
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float32)


def _act(x, op, a=0.0, b=0.0, from_output=False):
    """An element-wise activation through its kernel pair (op: the kernel's code; a, b its parameters)."""
    return kernel_act(_t(x), op, a, b, from_output)


# ---- activations ----
def _inplace_capable(f):
    """Honour inplace=True (positional or keyword) as torch does: the result is written into the input
    tensor, which is returned (apply_inplace); the default path costs one check."""
    params = list(inspect.signature(f).parameters)
    pos = params.index("inplace")

    @functools.wraps(f)
    def g(*args, **kwargs):
        inplace = kwargs.get("inplace", args[pos] if len(args) > pos else False)
        if not inplace:
            return f(*args, **kwargs)
        kwargs.pop("inplace", None)
        args = args[:pos] + (False,) + args[pos + 1:] if len(args) > pos else args
        x = args[0] if args else kwargs.pop("input")
        if not isinstance(x, Tensor):
            return f(x, *args[1:], **kwargs)
        return apply_inplace(x, lambda s: f(s, *args[1:], **kwargs))
    return g


@_inplace_capable
def relu(input, inplace=False):
    return _act(input, U.RELU)


def relu_(input):
    return input.relu_()


@_inplace_capable
def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _act(input, U.LEAKY_RELU, float(negative_slope))


@_inplace_capable
def elu(input, alpha=1.0, inplace=False):
    return _act(input, U.ELU, float(alpha))


@_inplace_capable
def selu(input, inplace=False):
    return _act(input, U.SELU)


@_inplace_capable
def silu(input, inplace=False):
    return _act(input, U.SILU)


def sigmoid(input):
    return _act(input, U.SIGMOID, from_output=True)


def tanh(input):
    return _act(input, U.TANH, from_output=True)


def softplus(input, beta=1.0, threshold=20.0):
    return _act(input, U.SOFTPLUS, float(beta), float(threshold))


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")
    return _act(input, U.GELU_TANH if approximate == "tanh" else U.GELU)


@_inplace_capable
def celu(input, alpha=1.0, inplace=False):
    x = _t(input)
    return relu(x) - relu(-alpha * (x / alpha).expm1()) if alpha != 1.0 else elu(x)


@_inplace_capable
def mish(input, inplace=False):
    x = _t(input)
    return x * softplus(x).tanh()


def softsign(input):
    x = _t(input)
    return x / (1 + x.abs())


@_inplace_capable
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _t(input).clamp(min_val, max_val)


@_inplace_capable
def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0)


@_inplace_capable
def hardsigmoid(input, inplace=False):
    return (_t(input) / 6 + 0.5).clamp(0.0, 1.0)


@_inplace_capable
def hardswish(input, inplace=False):
    x = _t(input)
    return x * hardsigmoid(x)


def logsigmoid(input):
    return -softplus(-_t(input))


def glu(input, dim=-1):
    a, b = _t(input).chunk(2, dim)
    return a * b.sigmoid()


@_inplace_capable
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


@_inplace_capable
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
    need_b = has_b and edges[2] is not None
    gw = _shared.get("linear.gw", w.shape, w.dtype) if edges[1] is not None else None
    gb = _shared.get("linear.gb", (w.shape[0],), w.dtype) if need_b else None
    gx = linear_bwd(x, g, w, gw, gb, edges[0] is not None, False, _shared)
    return (gx, gw, gb) if has_b else (gx, gw)


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias (weight (out, in), as PyTorch), through the linear kernel pair."""
    x, w = _t(input), _t(weight)
    a = x._a if x._a.dtype == w._a.dtype else x._a.astype(w._a.dtype)
    if a.ndim < 1 or w._a.ndim != 2 or a.shape[-1] != w._a.shape[1]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, a.shape))} and "
                           f"{w._a.shape[1]}x{w._a.shape[0]})")
    if bias is not None:
        b = _t(bias)
        y, ctx = linear_fwd(a, w._a, b._a, _shared)
        return _out(y, _linear_bwd, (ctx, w._a, True), x, w, b)
    y, ctx = linear_fwd(a, w._a, None, _shared)
    return _out(y, _linear_bwd, (ctx, w._a, False), x, w)


def bilinear(input1, input2, weight, bias=None):
    y = einsum_bilinear(_t(input1), _t(input2), _t(weight))
    return y + bias if bias is not None else y


def einsum_bilinear(x1, x2, w):
    from ..tensor import einsum

    return einsum("bi,oij,bj->bo", x1, w, x2)


@_inplace_capable
def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout with a fresh counter-based mask (identity when not training or p = 0)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _t(input)
    if not training or p == 0:
        return x
    y, ctx = dropout_fwd(p, default_generator.next_seed(), _float_arr(x._a), _shared)
    return _out(y, _dropout_bwd, ctx, x)


def _dropout_bwd(ctx, g, edges):
    return (dropout_bwd(ctx, g, _shared),)


@_inplace_capable
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
    """Rows of weight (num_embeddings, dim) picked by the integer input, output (*input.shape, dim), as
    torch.nn.functional.embedding: the padding_idx row gets no gradient; max_norm renormalizes the rows
    looked up, in weight itself, to at most that norm (norm_type); scale_grad_by_freq divides each row's
    gradient by how often its index occurs in the batch. sparse gradients are not supported."""
    idx = _arr(input)
    w = _t(weight)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected integer indices (input), got dtype {idx.dtype}")
    n = w.shape[0]
    flat = idx.reshape(-1).astype(np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= n):
        bad = flat[(flat < 0) | (flat >= n)][0]
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings")
    if sparse:
        raise NotImplementedError("embedding(sparse=True): fastnn has no sparse gradients")
    if padding_idx is not None:
        padding_idx = int(padding_idx) + (n if padding_idx < 0 else 0)
        if not 0 <= padding_idx < n:
            raise ValueError(f"padding_idx: must be within num_embeddings ({n}), got {padding_idx}")
    if max_norm is not None:  # torch renormalizes the looked-up rows of weight in place, outside the graph
        rows = np.unique(flat)
        a = w._a
        norms = np.linalg.norm(a[rows].astype(np.float64), ord=norm_type, axis=1)
        over = norms > max_norm
        if over.any():
            a[rows[over]] *= (max_norm / (norms[over] + 1e-7))[:, None].astype(a.dtype)
            _bump(w)
    return _out(np.take(w._a, flat, axis=0).reshape(*idx.shape, n and w.shape[-1]), _embedding_bwd,
                (flat, w._a.shape, w._a.dtype, padding_idx, scale_grad_by_freq), w)


def _embedding_bwd(ctx, g, edges):
    flat, shape, dtype, padding_idx, by_freq = ctx
    g2 = g.reshape(-1, shape[1]).astype(dtype, copy=False)
    if by_freq:
        counts = np.bincount(flat, minlength=shape[0])
        g2 = g2 / counts[flat][:, None]
    if padding_idx is not None:
        g2 = np.where((flat == padding_idx)[:, None], 0, g2)
    gw = np.zeros(shape, dtype)
    np.add.at(gw, flat, g2)
    return (gw,)


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


# ---- convolution and pooling (csrc/conv.c, csrc/pool.c); 1-D forms run as 2-D with H = 1 ----
def _tuple(v, n, name, lo=None):
    t = (v,) * n if isinstance(v, numbers.Integral) and not isinstance(v, bool) else tuple(v)
    if len(t) != n or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in t):
        raise ValueError(f"{name}: expected an int or {n} ints, got {v!r}")
    if lo is not None and any(a < lo for a in t):
        raise ValueError(f"{name}: expected values >= {lo}, got {v!r}")
    return tuple(int(a) for a in t)


def conv_pads(kernel, stride, dilation, padding):
    """((before, after) per spatial axis) for padding given as ints, "valid" or "same" (PyTorch's "same":
    stride 1, the odd one out of an even total on the end side)."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(f"padding: expected an int, a tuple, 'valid' or 'same', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        out = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            out.append((total // 2, total - total // 2))
        return tuple(out)
    p = _tuple(padding, n, "padding", 0)
    return tuple((a, a) for a in p)


def pad_index(n, before, after, mode):
    """Source indices of an axis of length n padded by (before, after) in `mode` (reflect, replicate,
    circular), as numpy/PyTorch do."""
    return _pad_index(n, before, after, {"replicate": "replicate", "circular": "circular"}.get(mode, "reflect"))


def _conv_bwd(ctx, g, edges):
    x, w, has_b, kw, nd, xshape, wshape = ctx
    g = np.ascontiguousarray(g, x.dtype)
    g4 = g.reshape(g.shape[:2] + (1,) + g.shape[2:]) if nd == 1 else g
    gx, gw, gb = ops.conv2d_backward(g4, x, w, need_input_grad=edges[0] is not None,
                                     need_weight_grad=edges[1] is not None,
                                     need_bias_grad=has_b and edges[2] is not None, **kw)
    gx = None if gx is None else gx.reshape(xshape)
    gw = None if gw is None else gw.reshape(wshape)
    return (gx, gw, gb) if has_b else (gx, gw)


def _conv(input, weight, bias, stride, padding, dilation, groups, nd):
    x, w = _t(input), _t(weight)
    a = x._a if x._a.dtype == w._a.dtype else x._a.astype(w._a.dtype)
    if a.ndim != nd + 2 or w._a.ndim != nd + 2:
        raise ValueError(f"conv{nd}d: expected input of {nd + 2} dimensions (N, C, ...) and weight of {nd + 2}, got "
                         f"{a.shape} and {w._a.shape}")
    k = w._a.shape[2:]
    st, dl = _tuple(stride, nd, "stride", 1), _tuple(dilation, nd, "dilation", 1)
    pads = conv_pads(k, st, dl, padding)
    if nd == 1:
        a4, w4 = a.reshape(a.shape[:2] + (1,) + a.shape[2:]), w._a.reshape(w._a.shape[:2] + (1,) + k)
        kw = dict(stride=(1, st[0]), padding=(0, 0) + pads[0], dilation=(1, dl[0]), groups=groups)
    else:
        a4, w4 = a, w._a
        kw = dict(stride=st, padding=pads[0] + pads[1], dilation=dl, groups=groups)
    b = None if bias is None else _t(bias)
    y = ops.conv2d(a4, w4, None if b is None else b._a, **kw)
    if nd == 1:
        y = y.reshape(y.shape[:2] + y.shape[3:])
    ctx = (a4, w4, b is not None, kw, nd, a.shape, w._a.shape)
    return _out(y, _conv_bwd, ctx, x, w, b) if b is not None else _out(y, _conv_bwd, ctx, x, w)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation, as PyTorch): input (N, C, L), weight (OC, C / groups, K)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution: input (N, C, H, W), weight (OC, C / groups, KH, KW); padding an int, a pair,
    "valid" or "same"."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def pool_windows(n, k, s, p, d, ceil_mode):
    """(first tap, tap count, output length) of one axis of a fixed-size pooling (PyTorch's sizes)."""
    if k < 1 or s < 1 or d < 1:
        raise ValueError(f"kernel_size, stride and dilation must be positive, got {k}, {s}, {d}")
    if p < 0 or 2 * p > k:
        raise ValueError(f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k}")
    eff = d * (k - 1) + 1
    span = n + 2 * p - eff
    if span < 0:
        raise ValueError(f"output size is too small: input size {n}, kernel {k}, padding {p}, dilation {d}")
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:  # the last window must start inside the input or its left padding
        out -= 1
    start = np.arange(out, dtype=np.int64) * s - p
    i0 = np.maximum(0, (-start + d - 1) // d)
    i1 = np.minimum(k - 1, (n - 1 - start) // d)
    cnt = np.maximum(0, i1 - i0 + 1)
    return start + i0 * d, cnt, out


def adaptive_windows(n, out):
    """(first index, count) per output of adaptive pooling: [floor(i n / out), ceil((i + 1) n / out))."""
    if out < 1 and n > 0:
        raise ValueError(f"output_size must be positive, got {out}")
    i = np.arange(out, dtype=np.int64)
    start = (i * n) // out
    end = -((-(i + 1) * n) // out)
    return start, end - start


def avg_divisors(n, k, s, p, out, count_include_pad):
    """PyTorch's average-pooling divisor of one axis: the window clipped to the padded input, or to the
    input itself without count_include_pad."""
    start = np.arange(out, dtype=np.int64) * s - p
    end = np.minimum(start + k, n + p)
    size = end - start
    if not count_include_pad:
        size = np.minimum(end, n) - np.maximum(start, 0)
    return size


def _pool_bwd(ctx, g, edges):
    shape4, win, op, idx, div, shape = ctx
    hs, hn, dh, ws, wn, dw = win
    g4 = np.ascontiguousarray(g).reshape(shape4[:-2] + (hs.size, ws.size))
    gx = ops.pool2d_backward(g4, shape4, hs, hn, dh, ws, wn, dw, op=op, indices=idx, div=div)
    return (gx.reshape(shape),)


def _pool(x, nd, win, op, div=None, return_indices=False):
    """Run a pooling over the last nd axes of tensor x with windows win = (hs, hn, dh, ws, wn, dw)."""
    a = x._a if x._a.dtype in (np.float32, np.float64) else x._a.astype(np.float32)
    shape4 = a.shape[:-1] + (1, a.shape[-1]) if nd == 1 else a.shape
    hs, hn, dh, ws, wn, dw = win
    y, idx = ops.pool2d(a.reshape(shape4), hs, hn, dh, ws, wn, dw, op=op, div=div, return_indices=True)
    y = y.reshape(a.shape[:-nd] + ((ws.size,) if nd == 1 else (hs.size, ws.size)))
    out = _out(y, _pool_bwd, (shape4, win, op, idx, div, a.shape), x)
    if return_indices:
        ix = idx.astype(np.int64).reshape(y.shape)
        return out, _wrap(ix)
    return out


def _fixed_windows(spatial, k, s, p, d, ceil_mode, nd):
    wins = [pool_windows(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in zip(spatial, k, s, p, d)]
    if nd == 1:
        return (np.zeros(1, np.int64), np.ones(1, np.int64), 1, wins[0][0], wins[0][1], d[0]), wins
    return (wins[0][0], wins[0][1], d[0], wins[1][0], wins[1][1], d[1]), wins


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd):
    x = _t(input)
    if x._a.ndim < nd + 1:
        raise ValueError(f"max_pool{nd}d: expected input with at least {nd + 1} dimensions, got {tuple(x.shape)}")
    k = _tuple(kernel_size, nd, "kernel_size", 1)
    s = _tuple(stride if stride is not None and stride != [] else k, nd, "stride", 1)
    win, _ = _fixed_windows(x._a.shape[-nd:], k, s, _tuple(padding, nd, "padding", 0),
                            _tuple(dilation, nd, "dilation", 1), ceil_mode, nd)
    return _pool(x, nd, win, "max", return_indices=return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kernel_size windows (stride defaults to kernel_size); ties go to the first maximum in
    scan order and a NaN wins, as PyTorch."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd):
    x = _t(input)
    if x._a.ndim < nd + 1:
        raise ValueError(f"avg_pool{nd}d: expected input with at least {nd + 1} dimensions, got {tuple(x.shape)}")
    k = _tuple(kernel_size, nd, "kernel_size", 1)
    s = _tuple(stride if stride is not None and stride != [] else k, nd, "stride", 1)
    p = _tuple(padding, nd, "padding", 0)
    spatial = x._a.shape[-nd:]
    win, wins = _fixed_windows(spatial, k, s, p, (1,) * nd, ceil_mode, nd)
    if divisor_override:
        div = np.full(int(np.prod([w[2] for w in wins])), float(divisor_override))
    else:
        divs = [avg_divisors(n, kk, ss, pp, w[2], count_include_pad) for n, kk, ss, pp, w in zip(spatial, k, s, p, wins)]
        div = divs[0].astype(np.float64) if nd == 1 else np.outer(divs[0], divs[1]).astype(np.float64).reshape(-1)
    return _pool(x, nd, win, "avg", div=div)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kernel_size windows; count_include_pad counts the zero padding in the divisor (PyTorch)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2)


def _adaptive(input, output_size, op, return_indices, nd):
    x = _t(input)
    if x._a.ndim < nd + 1:
        raise ValueError(f"adaptive pooling: expected input with at least {nd + 1} dimensions, got {tuple(x.shape)}")
    spatial = x._a.shape[-nd:]
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size,) * nd
    out = tuple(n if o is None else int(o) for n, o in zip(spatial, output_size))
    wins = [adaptive_windows(n, o) for n, o in zip(spatial, out)]
    if nd == 1:
        win = (np.zeros(1, np.int64), np.ones(1, np.int64), 1, wins[0][0], wins[0][1], 1)
        div = wins[0][1].astype(np.float64)
    else:
        win = (wins[0][0], wins[0][1], 1, wins[1][0], wins[1][1], 1)
        div = np.outer(wins[0][1], wins[1][1]).astype(np.float64).reshape(-1)
    return _pool(x, nd, win, op, div=div if op == "avg" else None, return_indices=return_indices)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive(input, output_size, "avg", False, 1)


def adaptive_avg_pool2d(input, output_size):
    """Average over adaptive windows giving output_size (1: global average pooling)."""
    return _adaptive(input, output_size, "avg", False, 2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive(input, output_size, "max", return_indices, 1)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive(input, output_size, "max", return_indices, 2)


def _channel_dropout(input, p, training, min_nd):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _t(input)
    if not training or p == 0:
        return x
    if x._a.ndim < min_nd:
        raise ValueError(f"channel dropout: expected input of at least {min_nd} dimensions, got {tuple(x.shape)}")
    a = _float_arr(x._a)
    mask = ops.dropout(np.ones(a.shape[:2], a.dtype), p, seed=default_generator.next_seed())
    return x * _wrap(mask.reshape(a.shape[:2] + (1,) * (a.ndim - 2)))


@_inplace_capable
def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) with probability p (scaling the kept ones by 1 / (1 - p))."""
    return _channel_dropout(input, p, training, 3)


@_inplace_capable
def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole feature maps of (N, C, H, W) with probability p (scaling the kept ones by 1 / (1 - p))."""
    return _channel_dropout(input, p, training, 3)


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


# what the backward functions read, for the version check (fastnn.tensor._out)
for _f in (_dropout_bwd, _pad_bwd, _interp_bwd, _pool_bwd, _embedding_bwd):
    reads(_f, inputs=False)
for _f in (_linear_bwd, _conv_bwd):  # (x, weight[, bias]): x for the weight's gradient, the weight for x's
    reads(_f, inputs=lambda ins: products(ins[:2]))
