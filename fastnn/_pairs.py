"""Every layer op as one forward/backward pair over arrays, and the geometry they share.

    op_fwd(inputs, params..., ws) -> (y, ctx)        op_bwd(ctx, grad_y, params..., ws) -> grad_inputs

The layer (its _fwd/_bwd), the functional API on tensors (nn.functional, under a graph node) and the
explicit chain call the same pair, so the paths are bitwise the same and none keeps a copy of the
op's logic. The hot pairs -- linear, the element-wise activations, dropout -- are compiled
(fastnn._ext._pairs, which the chain calls at C speed); convolution, pooling, batch norm, PReLU and
RReLU are here, over fastnn.ops. Outputs come from the caller's workspace `ws` (a layer's own pool, or
the shared one of the functional API); parameter gradients go into arrays the caller gives (the
model's gradient arena, assigned or added with `accumulate`, or fresh arrays).
"""
import numbers

import numpy as np

from . import ops
from ._ext._pairs import (ELU, GELU, GELU_TANH, LEAKY_RELU, RELU, SELU, SIGMOID, SILU, SOFTPLUS,  # noqa: F401
                          TANH, Workspace, dropout_bwd, dropout_fwd, linear_bwd, linear_fwd, unary_bwd, unary_fwd)


# ---- geometry: PyTorch's argument conventions for windows and padding ----
def tuple_arg(v, n, name, lo=None):
    """An int or n ints as a tuple of n ints (>= lo), or ValueError naming the argument."""
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
    p = tuple_arg(padding, n, "padding", 0)
    return tuple((a, a) for a in p)


def pad_index(n, before, after, mode):
    """Source indices of an axis of length n padded by (before, after) in `mode` (reflect, replicate,
    circular; anything else reflects), as numpy/PyTorch do."""
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


def pool_windows(n, k, s, p, d, ceil_mode):
    """(first tap, tap count, output length) of one axis of a fixed-size pooling (PyTorch's sizes)."""
    if 2 * p > k:
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


def fixed_windows(spatial, k, s, p, d, ceil_mode, nd):
    """The pooling windows (hs, hn, dh, ws, wn, dw) of a fixed-size pooling over the last nd axes, and
    each axis's (first tap, count, length)."""
    wins = [pool_windows(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in zip(spatial, k, s, p, d)]
    if nd == 1:
        return (np.zeros(1, np.int64), np.ones(1, np.int64), 1, wins[0][0], wins[0][1], d[0]), wins
    return (wins[0][0], wins[0][1], d[0], wins[1][0], wins[1][1], d[1]), wins


# ---- convolution (1-D as 2-D with a unit axis; padding modes other than zeros as index maps) ----
def conv_fwd(x, w, b, kw, maps, nd, ws, name="conv", bf16=False):
    """Cross-correlation of x (N, C, L) or (N, C, H, W) with w (OC, C / groups, k...), bias b or None; kw
    the 2-D kernel's keywords (stride, padding, dilation, groups), maps the index maps of a reflect /
    replicate / circular padding (None: zeros); bf16: the products in bfloat16 (float32 only), the
    backward's too."""
    if maps is not None:
        for ax, m in enumerate(maps):
            x = np.take(x, m, axis=2 + ax)
    x4 = x.reshape(x.shape[:2] + (1,) + x.shape[2:]) if nd == 1 else x
    w4 = w.reshape(w.shape[:2] + (1,) + w.shape[2:]) if nd == 1 else w
    (pt, pb, pl, pr), (sh, sw), (dh, dw) = kw["padding"], kw["stride"], kw["dilation"]
    KH, KW = w4.shape[2:]
    oh = (x4.shape[2] + pt + pb - dh * (KH - 1) - 1) // sh + 1
    ow = (x4.shape[3] + pl + pr - dw * (KW - 1) - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: input of shape {x.shape} is smaller than the (dilated) kernel")
    y4 = ws.get("conv.y", (x4.shape[0], w4.shape[0], oh, ow), x4.dtype)
    ops.conv2d(x4, w4, b, out=y4, bf16=bf16, **kw)
    y = y4.reshape(y4.shape[:2] + (ow,)) if nd == 1 else y4
    return y, (x4, kw, maps, x.shape, bf16)


def conv_bwd(ctx, g, w, gw, gb, need_input_grad, accumulate, ws):
    """The input gradient (or None); the weight's gradient into gw and the bias's into gb where they are
    not None, assigned or added with accumulate."""
    x4, kw, maps, xshape, bf16 = ctx
    nd = len(xshape) - 2
    if not (need_input_grad or gw is not None or gb is not None):
        return None
    g = np.ascontiguousarray(g, x4.dtype)
    g4 = g.reshape(g.shape[:2] + (1,) + g.shape[2:]) if nd == 1 else g
    gx4 = ws.get("conv.gx", x4.shape, x4.dtype) if need_input_grad else None
    w4shape = (w.shape[0], w.shape[1]) + ((1,) if nd == 1 else ()) + w.shape[2:]
    ops.conv2d_backward(g4, x4, w.reshape(w4shape), need_input_grad=need_input_grad, need_weight_grad=gw is not None,
                        need_bias_grad=gb is not None, grad_input=gx4,
                        grad_weight=gw.reshape(w4shape) if gw is not None else None, grad_bias=gb,
                        accumulate=accumulate, bf16=bf16, **kw)
    if not need_input_grad:
        return None
    gx = gx4.reshape(xshape)  # (the padded input's shape, with padding maps)
    if maps is not None:  # fold the padded input's gradient back onto the input
        for ax in reversed(range(len(maps))):
            axis = 2 + ax
            shape = list(gx.shape)
            shape[axis] = maps[ax].max() + 1 if maps[ax].size else 0
            folded = np.zeros(shape, gx.dtype)
            np.add.at(folded, (slice(None),) * axis + (maps[ax],), gx)
            gx = folded
    return gx


# ---- pooling over the last nd axes through per-axis window tables (csrc/pool.c) ----
def pool_fwd(x, nd, win, op, div, ws):
    """Max ("max") or average ("avg") pooling of x with windows win = (hs, hn, dh, ws, wn, dw) (avg:
    divisors div). Returns ((y, argmax indices), ctx); the indices say which input each output came from."""
    hs, hn, dh, wss, wn, dw = win
    shape4 = x.shape[:-1] + (1, x.shape[-1]) if nd == 1 else x.shape
    oshape = x.shape[:-nd] + ((wss.size,) if nd == 1 else (hs.size, wss.size))
    y = ws.get("pool.y", oshape, x.dtype)
    _, idx = ops.pool2d(x.reshape(shape4), hs, hn, dh, wss, wn, dw, op=op, div=div, return_indices=True,
                        out=y.reshape(shape4[:-2] + (hs.size, wss.size)))
    return (y, idx), (shape4, win, op, idx, div, x.shape)


def pool_bwd(ctx, g, ws):
    shape4, win, op, idx, div, xshape = ctx
    hs, hn, dh, wss, wn, dw = win
    if g.dtype.kind != "f":
        g = g.astype(np.float32)
    gx = ws.get("pool.gx", shape4, g.dtype)
    ops.pool2d_backward(np.ascontiguousarray(g).reshape(shape4[:-2] + (hs.size, wss.size)), shape4, hs, hn, dh,
                        wss, wn, dw, op=op, indices=idx, div=div, out=gx)
    return gx.reshape(xshape)


# ---- batch normalization over axis 1 ----
def batch_norm_fwd(x, w, b, rm, rv, batch_stats, momentum, eps, ws):
    """Normalize x per channel (axis 1) with the batch's statistics (batch_stats; the running ones rm, rv
    are then updated with momentum when given) or with rm, rv; then w x + b (w, b optional)."""
    C = x.shape[1]
    y = ws.get("bn.y", x.shape, x.dtype)
    mean, invstd = ws.get("bn.mean", (C,), x.dtype), ws.get("bn.invstd", (C,), x.dtype)
    if batch_stats:
        ops.batch_norm(x, w, b, rm, rv, training=True, momentum=momentum or 0.0, eps=eps, out=y, return_stats=True,
                       save_mean=mean, save_invstd=invstd)
    else:
        ops.batch_norm(x, w, b, rm, rv, training=False, eps=eps, out=y)
        mean[...] = rm
        np.add(rv, eps, out=invstd)
        np.sqrt(invstd, out=invstd)
        np.divide(1, invstd, out=invstd)
    return y, (x, mean, invstd, batch_stats)


def batch_norm_bwd(ctx, g, w, gw, gb, need_input_grad, accumulate, ws):
    """The input gradient (or None); the affine parameters' gradients into gw and gb (both given or
    both None), assigned or added with accumulate."""
    x, mean, invstd, batch_stats = ctx
    C = x.shape[1]
    g = g if g.dtype == x.dtype else g.astype(x.dtype)
    gx = ws.get("bn.gx", x.shape, x.dtype) if need_input_grad else None
    if gw is None:
        gw, gb, accumulate = ws.get("bn.gw", (C,), x.dtype), ws.get("bn.gb", (C,), x.dtype), False
    ops.batch_norm_backward(g, x, w, mean, invstd, training=batch_stats, need_input_grad=need_input_grad,
                            grad_weight=gw, grad_bias=gb, accumulate=accumulate, grad_input=gx)
    return gx


# ---- PReLU (slopes per channel on axis 1, or one shared) and RReLU (random slopes while training) ----
def prelu_fwd(x, w, ws):
    y = ws.get("prelu.y", x.shape, x.dtype)
    return ops.prelu(x, w, out=y), x


def prelu_bwd(ctx, g, w, gw, need_input_grad, accumulate, ws):
    """The input gradient (or None); the slopes' gradient into gw when given."""
    x = ctx
    g = g if g.dtype == x.dtype else g.astype(x.dtype)
    gx = ws.get("prelu.gx", x.shape, x.dtype) if need_input_grad else None
    if gw is not None:
        ops.prelu_backward(g, x, w, need_input_grad=need_input_grad, grad_weight=gw, accumulate=accumulate,
                           grad_input=gx)
    elif need_input_grad:
        ops.prelu_backward(g, x, w, grad_input=gx)
    return gx


def rrelu_fwd(x, lower, upper, training, seed, ws):
    y = ws.get("rrelu.y", x.shape, x.dtype)
    ops.rrelu(x, lower, upper, training=training, seed=seed, out=y)
    return y, (x, lower, upper, training, seed)


def rrelu_bwd(ctx, g, ws):
    x, lower, upper, training, seed = ctx
    g = g if g.dtype == x.dtype else g.astype(x.dtype)
    gx = ws.get("rrelu.gx", x.shape, x.dtype)
    return ops.rrelu_backward(g, x, lower, upper, training=training, seed=seed, out=gx)
