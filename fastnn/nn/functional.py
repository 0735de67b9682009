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
from .. import _losses as L
from .._autocast import products_bf16
from .._autograd import Node, edge
from .._losses import output_arg, reduction_arg
from .._pairs import (adaptive_windows, avg_divisors, batch_norm_bwd, batch_norm_fwd, conv_bwd, conv_fwd,  # noqa: F401
                      conv_pads, dropout_bwd, dropout_fwd, fixed_windows, linear_bwd, linear_fwd, pad_index,
                      pool_bwd, pool_fwd, pool_windows, prelu_bwd, prelu_fwd, rrelu_bwd, rrelu_fwd)
from .._pairs import tuple_arg as _tuple
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
    y, c = prelu_fwd(_float_arr(x._a), w._a, _shared)
    return _out(y, _prelu_bwd, (c, w._a), x, w)


def _prelu_bwd(ctx, g, edges):
    c, w = ctx
    gw = np.empty(w.shape, w.dtype) if edges[1] is not None else None
    gx = prelu_bwd(c, np.ascontiguousarray(g, c.dtype), w, gw, edges[0] is not None, False, _shared)
    return gx, gw


@_inplace_capable
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    x = _t(input)
    seed = stream_seed(default_generator.next_seed(), 0) if training else 0
    y, c = rrelu_fwd(_float_arr(x._a), lower, upper, training, seed, _shared)
    return _out(y, _rrelu_bwd, c, x)


def _rrelu_bwd(ctx, g, edges):
    return (rrelu_bwd(ctx, np.ascontiguousarray(g, ctx[0].dtype), _shared),)


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
        y, ctx = linear_fwd(a, w._a, b._a, _shared, products_bf16())
        return _out(y, _linear_bwd, (ctx, w._a, True), x, w, b)
    y, ctx = linear_fwd(a, w._a, None, _shared, products_bf16())
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
    y, c = batch_norm_fwd(a, None if w is None else w._a, None if b is None else b._a, rm, rv, training, momentum,
                          eps, _shared)
    ins = [x] + [t for t in (w, b) if t is not None]
    return _out(y, _bn_bwd, (c, None if w is None else w._a, w is not None, b is not None), *ins)


def _bn_bwd(ctx, g, edges):
    c, w, has_w, has_b = ctx
    C = c[0].shape[1]
    gw, gb = np.empty(C, c[0].dtype), np.empty(C, c[0].dtype)
    gx = batch_norm_bwd(c, np.ascontiguousarray(g, c[0].dtype), w, gw, gb, edges[0] is not None, False, _shared)
    return (gx,) + ((gw,) if has_w else ()) + ((gb,) if has_b else ())


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
    """Rows of weight (num_embeddings, dim) picked by the integer input, output ``(*input.shape, dim)``, as
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
            idx = pad_index(a.shape[d], b, e, mode)
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
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "trilinear")
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






def _conv_bwd(ctx, g, edges):
    c, w, has_b = ctx
    gw = np.empty(w.shape, w.dtype) if edges[1] is not None else None
    gb = np.empty(w.shape[0], w.dtype) if has_b and edges[2] is not None else None
    gx = conv_bwd(c, g, w, gw, gb, edges[0] is not None, False, _shared)
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
        kw = dict(stride=(1, st[0]), padding=(0, 0) + pads[0], dilation=(1, dl[0]), groups=groups)
    else:
        kw = dict(stride=st, padding=pads[0] + pads[1], dilation=dl, groups=groups)
    b = None if bias is None else _t(bias)
    y, c = conv_fwd(a, w._a, None if b is None else b._a, kw, None, nd, _shared, f"conv{nd}d", products_bf16())
    ctx = (c, w._a, b is not None)
    return _out(y, _conv_bwd, ctx, x, w, b) if b is not None else _out(y, _conv_bwd, ctx, x, w)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation, as PyTorch): input (N, C, L), weight (OC, C / groups, K)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution: input (N, C, H, W), weight (OC, C / groups, KH, KW); padding an int, a pair,
    "valid" or "same"."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)








def _pool_bwd(ctx, g, edges):
    return (pool_bwd(ctx, g, _shared),)


def _pool(x, nd, win, op, div=None, return_indices=False):
    """Run a pooling over the last nd axes of tensor x with windows win = (hs, hn, dh, ws, wn, dw)."""
    a = x._a if x._a.dtype in (np.float32, np.float64) else x._a.astype(np.float32)
    (y, idx), ctx = pool_fwd(a, nd, win, op, div, _shared)
    out = _out(y, _pool_bwd, ctx, x)
    if return_indices:
        ix = idx.astype(np.int64).reshape(y.shape)
        return out, _wrap(ix)
    return out




def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd):
    x = _t(input)
    if x._a.ndim < nd + 1:
        raise ValueError(f"max_pool{nd}d: expected input with at least {nd + 1} dimensions, got {tuple(x.shape)}")
    k = _tuple(kernel_size, nd, "kernel_size", 1)
    s = _tuple(stride if stride is not None and stride != [] else k, nd, "stride", 1)
    win, _ = fixed_windows(x._a.shape[-nd:], k, s, _tuple(padding, nd, "padding", 0),
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
    win, wins = fixed_windows(spatial, k, s, p, (1,) * nd, ceil_mode, nd)
    if divisor_override:
        div = np.full(int(np.prod([w[2] for w in wins])), float(divisor_override))
    else:
        divs = [avg_divisors(n, kk, ss, pp, w[2], count_include_pad)
                for n, kk, ss, pp, w in zip(spatial, k, s, p, wins)]
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


# ---- losses: fastnn._losses computes value and gradient together; a graph node scales the gradient ----
def _loss_node_bwd(ctx, g, edges):
    grad, none_rows = ctx
    if g.ndim == 0:
        gv = g.item()
        return (grad if gv == 1.0 else grad * np.asarray(gv, grad.dtype),)
    if none_rows is not None:  # reduction='none' over rows of a (N, C) loss: scale each row
        return (grad * g.reshape(none_rows).astype(grad.dtype, copy=False),)
    return (grad * g.astype(grad.dtype, copy=False),)


def _loss_fn_named(name):
    fn = lambda ctx, g, edges: _loss_node_bwd(ctx, g, edges)  # noqa: E731  (named per loss for grad_fn)
    fn.__name__ = f"_{name}_bwd"
    return reads(fn, inputs=False)


_LOSS_NODES = {}


def _loss(fn, who, input, target, rows=False, **kw):
    """The loss tensor of fn (a fastnn._losses function) on input and target, in the graph when input
    requires grad (its backward scales the gradient fn computed with the value)."""
    x = _t(input)
    out = output_arg(x._a, who)
    need = _mode.enabled and x.requires_grad
    loss, grad = fn(out, _arr(target), need_grad=need, ws=_shared, **kw)
    t = _wrap(np.asarray(loss, out.dtype))
    if need:
        node_fn = _LOSS_NODES.get(who)
        if node_fn is None:
            node_fn = _LOSS_NODES[who] = _loss_fn_named(who.lower())
        none_rows = (out.shape[0], 1) + out.shape[2:] if rows and kw.get("reduction") == "none" else None
        t._node, t.requires_grad = Node(node_fn, (grad, none_rows), (edge(x),)), True
    return t


def _class_weight(weight):
    return None if weight is None else np.asarray(_arr(weight), np.float64)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits and class indices (or probabilities), as PyTorch's: class weights,
    ignore_index, label smoothing; one fused kernel for the common case."""
    reduction = reduction_arg(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing: expected a value in [0, 1], got {label_smoothing}")
    return _loss(L.cross_entropy, "CrossEntropyLoss", input, target, True,
                 weight=None if weight is None else _class_weight(weight), ignore_index=int(ignore_index),
                 label_smoothing=label_smoothing if type(label_smoothing) is float else float(label_smoothing),
                 reduction=reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    return _loss(L.nll_loss, "NLLLoss", input, target, True, weight=_class_weight(weight),
                 ignore_index=int(ignore_index), reduction=reduction_arg(reduction, size_average, reduce))


def _pair_loss(fn, who, input, target, **kw):
    """A loss of two same-shape tensors; a target that requires grad gets its gradient by autograd on the
    tensor expression of the loss (rare: most targets are data; MSE and L1 only)."""
    if isinstance(target, Tensor) and target.requires_grad and _mode.enabled:
        return _pair_loss_expr(who, _t(input), target, **kw)
    return _loss(fn, who, input, target, **kw)


def _pair_loss_expr(who, x, t, reduction="mean", **kw):
    d = x - t
    if who == "MSELoss":
        e = d * d
    elif who == "L1Loss":
        e = d.abs()
    else:
        raise NotImplementedError(f"{who} with a target that requires grad")
    return e.mean() if reduction == "mean" else (e.sum() if reduction == "sum" else e)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return _pair_loss(L.mse_loss, "MSELoss", input, target, reduction=reduction_arg(reduction, size_average, reduce))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return _pair_loss(L.l1_loss, "L1Loss", input, target, reduction=reduction_arg(reduction, size_average, reduce))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    if beta < 0:
        raise ValueError(f"beta: expected >= 0, got {beta}")
    return _pair_loss(L.smooth_l1_loss, "SmoothL1Loss", input, target, beta=float(beta),
                      reduction=reduction_arg(reduction, size_average, reduce))


def huber_loss(input, target, reduction="mean", delta=1.0):
    if delta <= 0:
        raise ValueError(f"delta: expected > 0, got {delta}")
    return _pair_loss(L.huber_loss, "HuberLoss", input, target, delta=float(delta), reduction=reduction_arg(reduction))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    return _pair_loss(L.binary_cross_entropy, "BCELoss", input, target,
                      weight=None if weight is None else np.asarray(_arr(weight)),
                      reduction=reduction_arg(reduction, size_average, reduce))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    return _pair_loss(L.binary_cross_entropy_with_logits, "BCEWithLogitsLoss", input, target,
                      weight=None if weight is None else np.asarray(_arr(weight)),
                      pos_weight=None if pos_weight is None else np.asarray(_arr(pos_weight)),
                      reduction=reduction_arg(reduction, size_average, reduce))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if reduction != "batchmean":
        reduction = reduction_arg(reduction, size_average, reduce)
    return _pair_loss(L.kl_div, "KLDivLoss", input, target, log_target=bool(log_target), reduction=reduction)


def __getattr__(name):  # PyTorch's functional ops fastnn lacks: a NotImplementedError naming them
    from .. import _missing

    return _missing.lookup(_missing.FUNCTIONAL, "fastnn.nn.functional", name)


# what the backward functions read, for the version check (fastnn.tensor._out)
for _f in (_dropout_bwd, _pad_bwd, _interp_bwd, _pool_bwd, _embedding_bwd):
    reads(_f, inputs=False)
for _f in (_linear_bwd, _conv_bwd):  # (x, weight[, bias]): x for the weight's gradient, the weight for x's
    reads(_f, inputs=lambda ins: products(ins[:2]))
