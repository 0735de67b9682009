"""Gradient formulas of the tensor methods: ``fn(ctx, grad_out, edges) -> input gradients`` on arrays, each
declaring what it reads for the version check (reads())."""
import math

import numpy as np

from ._dtypes import _bslice
from ._tensor_base import _division, _expand_reduced, _mm, _sum_to, products, reads
from ._ext._pairs import unary_bwd
from ._workspace import shared as _shared


def _add_bwd(ctx, g, edges):
    a, b, alpha = ctx
    ga = _sum_to(g, a) if edges[0] is not None else None
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    return ga, _sum_to(g if alpha == 1 else g * alpha, b)


def _sub_bwd(ctx, g, edges):
    a, b, alpha = ctx
    ga = _sum_to(g, a) if edges[0] is not None else None
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    return ga, _sum_to(-g if alpha == 1 else g * -alpha, b)


def _rsub_bwd(ctx, g, edges):
    a, _ = ctx
    return (_sum_to(-g, a),)


def _mul_bwd(ctx, g, edges):
    a, b = ctx
    ga = _sum_to(g * b, a) if edges[0] is not None else None
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    return ga, _sum_to(g * a, b)


def _div_bwd(ctx, g, edges):
    a, b = ctx
    ga = _sum_to(g / b, a) if edges[0] is not None else None
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    return ga, _sum_to(-g * a / (b * b), b)


def _rdiv_bwd(ctx, g, edges):
    s, b = ctx  # y = s / b
    return (_sum_to(-g * s / (b * b), b),)


def _pow_bwd(ctx, g, edges):
    a, e, y = ctx
    ga = None
    if edges[0] is not None:
        if isinstance(e, np.ndarray):
            ga = _sum_to(g * e * np.where(e == 0, 1.0, a ** (e - 1)).astype(y.dtype, copy=False), a)
        elif e == 0:
            ga = np.zeros_like(a)
        else:
            ga = _sum_to(g * (e * a ** (e - 1)), a)
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0.0)
    return ga, _sum_to(g * y * lg, e)


def _rpow_bwd(ctx, g, edges):
    s, y = ctx  # y = s ** x (s a number or an array)
    with np.errstate(divide="ignore", invalid="ignore"):
        ls = np.where(np.asarray(s) > 0, np.log(np.where(np.asarray(s) > 0, s, 1)), 0.0)
    return (_sum_to(g * y * ls, y).astype(y.dtype, copy=False),)


def _zero_grad_bwd(ctx, g, edges):
    """Piecewise-constant ops (floor, sign, round, div with a rounding mode): zero gradient, as torch."""
    return tuple(None if e is None else np.zeros(shape, g.dtype) for e, shape in zip(edges, ctx))


def _not_differentiable_bwd(ctx, g, edges):
    raise RuntimeError(f"derivative for {ctx} is not implemented")


def _remainder_bwd(ctx, g, edges):
    a, b, rnd = ctx
    ga = _sum_to(g, a) if edges[0] is not None else None
    if len(edges) < 2 or edges[1] is None:
        return (ga,)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ga, _sum_to(-g * rnd(a / b), b)


def _neg_bwd(ctx, g, edges):
    return (-g,)


def _matmul_bwd(ctx, g, edges):
    a, b = ctx
    if a.ndim == 1 and b.ndim == 1:  # dot product
        return (g * b if edges[0] is not None else None), (g * a if edges[1] is not None else None)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    ga = gb = None
    if edges[0] is not None:
        ga = _sum_to(_mm(g2, b2, tb=True), a2).reshape(a.shape)
    if edges[1] is not None:
        gb = _sum_to(_mm(a2, g2, ta=True), b2).reshape(b.shape)
    return ga, gb


def _reshape_bwd(ctx, g, edges):
    return (g.reshape(ctx),)


def _permute_bwd(ctx, g, edges):
    return (np.transpose(g, np.argsort(ctx)),)


def _transpose_bwd(ctx, g, edges):
    d0, d1 = ctx
    return (np.swapaxes(g, d0, d1),)


def _expand_bwd(ctx, g, edges):
    return (_sum_to(g, ctx),)


def _repeat_bwd(ctx, g, edges):
    shape, reps = ctx
    nd = len(reps)
    shape = (1,) * (nd - len(shape)) + tuple(shape)
    inter = []
    for r, s in zip(reps, shape):
        inter += [r, s]
    g = g.reshape(inter).sum(axis=tuple(range(0, 2 * nd, 2)))
    return (g.reshape(ctx[0]),)


def _flip_bwd(ctx, g, edges):
    return (np.flip(g, ctx),)


def _roll_bwd(ctx, g, edges):
    shifts, dims = ctx
    neg = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
    return (np.roll(g, neg, dims),)


def _getitem_bwd(ctx, g, edges):
    a, idx, basic = ctx
    gx = np.zeros(a.shape, g.dtype if a.dtype.kind != "f" else a.dtype)
    if basic:
        gx[idx] = g
    else:
        np.add.at(gx, idx, g)
    return (gx,)


def _setitem_bwd(ctx, g, edges):
    idx, vshape, basic, vdtype = ctx
    ga = None
    if edges[0] is not None:
        ga = g.copy()
        ga[idx] = 0
    gv = None
    if len(edges) > 1 and edges[1] is not None:
        gv = g[idx]
        gv = _sum_to(gv, np.empty(vshape, vdtype)) if gv.shape != vshape else gv.astype(vdtype, copy=False)
    return (ga, gv) if len(edges) > 1 else (ga,)


def _cat_bwd(ctx, g, edges):
    dim, sizes = ctx
    cuts = np.cumsum(sizes)[:-1]
    return tuple(np.split(g, cuts, axis=dim))


def _stack_bwd(ctx, g, edges):
    dim, n = ctx
    return tuple(np.take(g, i, axis=dim) for i in range(n))


def _where_bwd(ctx, g, edges):
    cond, a, b = ctx
    z = np.zeros((), g.dtype)
    ga = _sum_to(np.where(cond, g, z), a) if edges[0] is not None else None
    gb = _sum_to(np.where(cond, z, g), b) if len(edges) > 1 and edges[1] is not None else None
    return ga, gb


def _sum_bwd(ctx, g, edges):
    shape, dim, keepdim, dt = ctx
    g = _expand_reduced(g, shape, dim, keepdim)
    return (g if g.dtype == dt else g.astype(dt),)


def _mean_bwd(ctx, g, edges):
    shape, dim, keepdim, n = ctx
    return (_expand_reduced(g / n, shape, dim, keepdim),)


def _var_bwd(ctx, g, edges):
    x, dim, keepdim, denom, y, is_std = ctx
    m = x.mean(axis=dim, keepdims=True)
    if is_std:
        yk = y if keepdim or dim is None else np.expand_dims(y, dim)
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.where(yk > 0, 1.0 / (denom * np.where(yk > 0, yk, 1)), 0.0)
    else:
        coef = 2.0 / denom
    gk = g if keepdim or dim is None else np.expand_dims(g, dim)
    return ((gk * coef * (x - m)).astype(x.dtype, copy=False),)


def _minmax_all_bwd(ctx, g, edges):
    x, y = ctx
    mask = x == y
    return ((mask * (g / mask.sum())).astype(x.dtype, copy=False),)


def _minmax_dim_bwd(ctx, g, edges):
    shape, dtype, idx, dim, keepdim = ctx
    gx = np.zeros(shape, dtype)
    gk = g if keepdim else np.expand_dims(g, dim)
    ik = idx if keepdim else np.expand_dims(idx, dim)
    np.put_along_axis(gx, ik, gk, axis=dim)
    return (gx,)


def _norm_bwd(ctx, g, edges):
    x, p, dim, keepdim, y = ctx
    yk = y if keepdim or dim is None else np.expand_dims(y, dim)
    gk = g if keepdim or dim is None else np.expand_dims(g, dim)
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 2:
            gx = np.where(yk > 0, x / np.where(yk > 0, yk, 1), 0.0) * gk
        elif p == 1:
            gx = np.sign(x) * gk
        elif p == math.inf:
            mask = np.abs(x) == yk
            gx = np.sign(x) * mask / mask.sum(axis=dim, keepdims=True) * gk
        else:
            gx = np.where(yk > 0, np.sign(x) * np.abs(x) ** (p - 1) / np.where(yk > 0, yk, 1) ** (p - 1), 0.0) * gk
    return (gx.astype(x.dtype, copy=False),)


def _prod_bwd(ctx, g, edges):
    x, dim, keepdim = ctx
    ax = -1 if dim is None else dim
    xm = x.reshape(-1) if dim is None else np.moveaxis(x, dim, -1)
    left = np.cumprod(np.concatenate([np.ones_like(xm[..., :1]), xm[..., :-1]], -1), -1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([xm[..., 1:], np.ones_like(xm[..., :1])], -1), -1), -1), -1)
    others = left * right
    if dim is None:
        return ((others.reshape(x.shape) * g).astype(x.dtype, copy=False),)
    gk = g if keepdim else np.expand_dims(g, dim)
    return ((np.moveaxis(others, -1, ax) * gk).astype(x.dtype, copy=False),)


def _logsumexp_bwd(ctx, g, edges):
    x, dim, keepdim, y = ctx
    yk = y if keepdim else np.expand_dims(y, dim)
    gk = g if keepdim else np.expand_dims(g, dim)
    return ((np.exp(x - yk) * gk).astype(x.dtype, copy=False),)


def _cumsum_bwd(ctx, g, edges):
    dim = ctx
    return (np.flip(np.cumsum(np.flip(g, dim), axis=dim), dim),)


def _cumprod_bwd(ctx, g, edges):
    # d y_j / d x_i = y_j / x_i for j >= i; zeros in x handled by recomputing the products without x_i
    x, dim, y = ctx
    if np.all(x != 0):
        return ((np.flip(np.cumsum(np.flip(g * y, dim), axis=dim), dim) / x).astype(x.dtype, copy=False),)
    xm, gm = np.moveaxis(x, dim, -1), np.moveaxis(g, dim, -1)
    n = xm.shape[-1]
    gx = np.zeros_like(xm)
    for i in range(n):
        rest = xm.copy()
        rest[..., i] = 1
        cp = np.cumprod(rest, -1)
        gx[..., i] = (cp[..., i:] * gm[..., i:]).sum(-1)
    return (np.moveaxis(gx, -1, dim).astype(x.dtype, copy=False),)


def _cast_bwd(ctx, g, edges):
    return (g.astype(ctx),)


def _identity_bwd(ctx, g, edges):
    return (g,)


def _clamp_bwd(ctx, g, edges):
    x, lo, hi = ctx
    m = np.ones(x.shape, np.bool_)
    if lo is not None:
        m &= x >= lo
    if hi is not None:
        m &= x <= hi
    return (g * m,)


def _minimum_bwd(ctx, g, edges):  # also maximum: ctx carries which side won
    a, b, first = ctx
    half = (a == b) * 0.5
    wa = first + half
    ga = _sum_to(g * wa, a) if edges[0] is not None else None
    gb = _sum_to(g * (1 - wa), b) if edges[1] is not None else None
    return ga, gb


def _gather_bwd(ctx, g, edges):
    shape, dtype, dim, idx = ctx
    gx = np.zeros(shape, dtype)
    np.add.at(gx, _along(idx, dim), g)
    return (gx,)


def _along(idx, dim):
    """Full index tuple addressing x[..., idx[...], ...] along `dim` (for scatter-adds)."""
    grids = np.indices(idx.shape, sparse=True)
    return tuple(idx if d == dim else grids[d] for d in range(idx.ndim))


def _index_select_bwd(ctx, g, edges):
    shape, dtype, dim, idx = ctx
    gx = np.zeros(shape, dtype)
    sl = [_bslice(None)] * len(shape)
    sl[dim] = idx
    np.add.at(gx, tuple(sl), g)
    return (gx,)


def _masked_fill_bwd(ctx, g, edges):
    mask = ctx
    return (np.where(mask, 0, g).astype(g.dtype, copy=False),)


def _softmax_bwd(ctx, g, edges):
    y, dim, log = ctx
    if log:
        return ((g - np.exp(y) * g.sum(axis=dim, keepdims=True)).astype(y.dtype, copy=False),)
    return ((y * (g - (g * y).sum(axis=dim, keepdims=True))).astype(y.dtype, copy=False),)


def _kernel_act_bwd(ctx, g, edges):
    op, a, b, v = ctx
    return (unary_bwd(op, a, b, v, g, _shared),)


def _einsum_bwd(ctx, g, edges):
    ins, out_sub, arrays = ctx
    res = []
    for i, e in enumerate(edges):
        if e is None:
            res.append(None)
            continue
        others = [arrays[j] for j in range(len(arrays)) if j != i]
        osubs = [ins[j] for j in range(len(arrays)) if j != i]
        spec = ",".join([out_sub] + osubs) + "->" + ins[i]
        gi = np.einsum(spec, g, *others)
        # indices of operand i absent from the others and the output were summed: broadcast back
        res.append(np.broadcast_to(gi, arrays[i].shape).astype(arrays[i].dtype, copy=False))
    return tuple(res)


def _amax_bwd(ctx, g, edges):
    mask, dim, keepdim = ctx
    gk = g if keepdim or dim is None else np.expand_dims(g, dim)
    return ((mask * gk / mask.sum(axis=dim, keepdims=True)).astype(g.dtype, copy=False),)


def _scatter_src_bwd(ctx, g, edges):
    idx, d, sshape = ctx
    gs = np.take_along_axis(g, idx, axis=d)
    full = np.zeros(sshape, g.dtype)
    full[tuple(_bslice(0, q) for q in idx.shape)] = gs
    return (full,)


for _f in (_add_bwd, _sub_bwd, _rsub_bwd, _neg_bwd, _reshape_bwd, _permute_bwd, _transpose_bwd, _expand_bwd,
           _repeat_bwd, _flip_bwd, _roll_bwd, _getitem_bwd, _setitem_bwd, _cat_bwd, _stack_bwd, _where_bwd, _sum_bwd,
           _mean_bwd, _minmax_dim_bwd, _cumsum_bwd, _cast_bwd, _identity_bwd, _gather_bwd, _index_select_bwd,
           _masked_fill_bwd):
    reads(_f, inputs=False)
for _f in (_mul_bwd, _matmul_bwd):
    reads(_f, inputs=products)
reads(_div_bwd, inputs=_division)
for _f in (_var_bwd, _minmax_all_bwd, _norm_bwd, _logsumexp_bwd, _cumprod_bwd, _softmax_bwd, _kernel_act_bwd, _pow_bwd):
    reads(_f, output=True)
reads(_amax_bwd, inputs=False)
reads(_zero_grad_bwd, inputs=False)
reads(_not_differentiable_bwd, inputs=False)
reads(_scatter_src_bwd, inputs=False)
reads(_rpow_bwd, output=True)
