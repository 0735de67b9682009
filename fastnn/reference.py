"""Plain-NumPy twins of every op in :mod:`fastnn.ops`, with the same names and signatures.

They are the tests' oracle and the baseline the benchmarks time against: straightforward NumPy, the
way a user would write each op, computing in the input's dtype. Random ops reproduce fastnn's
counter-based generator (Philox4x32-10) exactly, so dropout masks and RReLU slopes match bit for bit.
"""
import numpy as np

_RED = ("none", "mean", "sum")


def _out(res, out):
    if out is None:
        return res
    out[...] = res
    return out


# ---- matrix products ----
def bf16_round(a):
    """float32 values rounded to bfloat16 (nearest even; NaN kept, denormals to signed zero, as
    vcvtneps2bf16), returned as float32: what fastnn's bf16 products multiply."""
    u = np.ascontiguousarray(a, np.float32).view(np.uint32)
    r = ((u + np.uint32(0x7FFF) + ((u >> 16) & 1)) >> 16) << 16
    r = np.where((u & 0x7F800000) == 0, u & 0x80000000, r)
    r = np.where((u & 0x7FFFFFFF) > 0x7F800000, u | 0x400000, r)
    return r.astype(np.uint32).view(np.float32).reshape(np.shape(a))


def matmul(a, b, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, out=None, bf16=False):
    a = a.T if trans_a else a
    b = b.T if trans_b else b
    if bf16 and a.dtype == np.float32:  # the factors rounded (alpha with b, as the kernels scale it)
        r = bf16_round(a).astype(np.float64) @ bf16_round(b * np.float32(alpha)).astype(np.float64)
        if beta != 0.0:
            r = r + beta * out
        return _out(r.astype(a.dtype, copy=False), out)
    r = alpha * (a @ b)
    if beta != 0.0:
        r = r + beta * out
    return _out(r.astype(a.dtype, copy=False), out)


def linear(x, weight, bias=None, *, out=None):
    y = x @ weight.T
    if bias is not None:
        y = y + bias
    return _out(y, out)


def linear_backward(grad_out, x, weight, *, need_input_grad=True, need_bias_grad=True,
                    need_weight_grad=True, grad_input=None, grad_weight=None, grad_bias=None,
                    accumulate=False):
    g2 = grad_out.reshape(-1, weight.shape[0])
    x2 = x.reshape(-1, weight.shape[1])
    gw = g2.T @ x2 if need_weight_grad else None
    gb = g2.sum(axis=0) if need_bias_grad else None
    gx = _out(grad_out @ weight, grad_input) if need_input_grad else None
    if gw is not None and grad_weight is not None:
        gw = _out(grad_weight + gw if accumulate else gw, grad_weight)
    if gb is not None and grad_bias is not None:
        gb = _out(grad_bias + gb if accumulate else gb, grad_bias)
    return gx, gw, gb


# ---- activations ----
def sigmoid(x, *, out=None):
    return _out(1 / (1 + np.exp(-x)), out)


def sigmoid_backward(grad_out, y, *, out=None):
    return _out(grad_out * y * (1 - y), out)


def tanh(x, *, out=None):
    return _out(np.tanh(x), out)


def tanh_backward(grad_out, y, *, out=None):
    return _out(grad_out * (1 - y * y), out)


def relu(x, *, out=None):
    return _out(np.where(x < 0, np.zeros_like(x), x), out)


def relu_backward(grad_out, x, *, out=None):
    return _out(np.where(x > 0, grad_out, np.zeros_like(grad_out)), out)


def leaky_relu(x, negative_slope=0.01, *, out=None):
    return _out(np.where(x < 0, x * x.dtype.type(negative_slope), x), out)


def leaky_relu_backward(grad_out, x, negative_slope=0.01, *, out=None):
    return _out(np.where(x > 0, grad_out, grad_out * grad_out.dtype.type(negative_slope)), out)


def elu(x, alpha=1.0, *, out=None):
    return _out(np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(x)), out)


def elu_backward(grad_out, x, alpha=1.0, *, out=None):
    return _out(np.where(x > 0, grad_out, grad_out * x.dtype.type(alpha) * np.exp(x)), out)


_SELU_A = 1.6732632423543772848170429916717
_SELU_S = 1.0507009873554804934193349852946


def selu(x, *, out=None):
    t = x.dtype.type
    return _out(t(_SELU_S) * np.where(x > 0, x, t(_SELU_A) * np.expm1(x)), out)


def selu_backward(grad_out, x, *, out=None):
    t = x.dtype.type
    return _out(grad_out * t(_SELU_S) * np.where(x > 0, t(1), t(_SELU_A) * np.exp(x)), out)


def _phi(x):
    from scipy.special import erfc  # (SciPy only when a GELU twin runs)

    return (0.5 * erfc(-x.astype(np.float64) / np.sqrt(2.0))).astype(x.dtype)


def gelu(x, *, approximate="none", out=None):
    if approximate == "tanh":
        k = np.sqrt(2 / np.pi)
        return _out((0.5 * x * (1 + np.tanh(k * (x + 0.044715 * x ** 3)))).astype(x.dtype), out)
    return _out(x * _phi(x), out)


def gelu_backward(grad_out, x, *, approximate="none", out=None):
    if approximate == "tanh":
        k, c = np.sqrt(2 / np.pi), 0.044715
        t = np.tanh(k * (x + c * x ** 3))
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x)
        return _out((grad_out * d).astype(x.dtype), out)
    pdf = (np.exp(-0.5 * x.astype(np.float64) ** 2) / np.sqrt(2 * np.pi)).astype(x.dtype)
    return _out(grad_out * (_phi(x) + x * pdf), out)


def silu(x, *, out=None):
    return _out(x / (1 + np.exp(-x)), out)


def silu_backward(grad_out, x, *, out=None):
    s = 1 / (1 + np.exp(-x))
    return _out(grad_out * s * (1 + x * (1 - s)), out)


def softplus(x, beta=1.0, threshold=20.0, *, out=None):
    t = x.dtype.type
    bx = x * t(beta)
    sp = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / t(beta)
    return _out(np.where(bx > threshold, x, sp), out)


def softplus_backward(grad_out, x, beta=1.0, threshold=20.0, *, out=None):
    bx = x * x.dtype.type(beta)
    return _out(np.where(bx > threshold, grad_out, grad_out / (1 + np.exp(-bx))), out)


def _channel_weight(x, weight):
    w = np.asarray(weight).reshape(-1)
    if w.size == 1 or x.ndim < 2:
        return w.reshape(())
    return w.reshape((1, -1) + (1,) * (x.ndim - 2))


def prelu(x, weight, *, out=None):
    return _out(np.where(x < 0, _channel_weight(x, weight) * x, x), out)


def prelu_backward(grad_out, x, weight, *, need_input_grad=True, grad_weight=None, accumulate=False,
                   grad_input=None):
    w = _channel_weight(x, weight)
    gx = _out(np.where(x > 0, grad_out, w * grad_out), grad_input) if need_input_grad else None
    contrib = np.where(x > 0, 0, x * grad_out)
    if np.asarray(weight).size == 1:
        gw = np.array([contrib.sum()], dtype=x.dtype).reshape(np.shape(weight))
    else:
        axes = (0,) + tuple(range(2, x.ndim))
        gw = contrib.sum(axis=axes).astype(x.dtype)
    if grad_weight is not None:
        gw = _out(grad_weight + gw if accumulate else gw, grad_weight)
    return gx, gw


# ---- counter-based randomness (bit-exact twin of csrc/common.h's fnn_philox) ----
_M32 = np.uint64(0xFFFFFFFF)


def philox_words(n, stream, seed):
    """The first n 32-bit words of fastnn's stream `stream` under `seed` (as uint64)."""
    j = np.arange((n + 3) // 4, dtype=np.uint64)
    c0, c1 = j & _M32, j >> np.uint64(32)
    c2 = np.full_like(j, np.uint64(stream))
    c3 = np.zeros_like(j)
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        n0 = (p1 >> np.uint64(32)) ^ c1 ^ k0
        n2 = (p0 >> np.uint64(32)) ^ c3 ^ k1
        c1, c3, c0, c2 = p1 & _M32, p0 & _M32, n0, n2
        k0 = (k0 + np.uint64(0x9E3779B9)) & _M32
        k1 = (k1 + np.uint64(0xBB67AE85)) & _M32
    return np.stack([c0, c1, c2, c3], axis=1).reshape(-1)[:n]


def dropout_mask(shape, p, seed):
    n = int(np.prod(shape))
    thr = int(np.ldexp(1.0 - p, 32))
    return (philox_words(n, 0, seed) < thr).reshape(shape)


def dropout(x, p, *, seed, out=None):
    keep = 1.0 - p
    mask = dropout_mask(x.shape, p, seed)
    scale = x.dtype.type(1.0 / keep) if keep > 0 else x.dtype.type(0)
    return _out(np.where(mask, x * scale, x.dtype.type(0)), out)


def dropout_backward(grad_out, p, *, seed, out=None):
    return dropout(grad_out, p, seed=seed, out=out)


def rrelu_slopes(shape, lower, upper, seed, dtype):
    u = (philox_words(int(np.prod(shape)), 1, seed) >> np.uint64(8)).astype(np.float64) / 2.0 ** 24
    t = np.dtype(dtype).type
    return (t(lower) + t(upper - lower) * u.astype(dtype)).reshape(shape)


def rrelu(x, lower=1.0 / 8, upper=1.0 / 3, *, training=False, seed=0, out=None):
    if not training:
        return leaky_relu(x, (lower + upper) / 2, out=out)
    a = rrelu_slopes(x.shape, lower, upper, seed, x.dtype)
    return _out(np.where(x >= 0, x, x * a), out)


def rrelu_backward(grad_out, x, lower=1.0 / 8, upper=1.0 / 3, *, training=False, seed=0, out=None):
    if not training:
        return leaky_relu_backward(grad_out, x, (lower + upper) / 2, out=out)
    a = rrelu_slopes(x.shape, lower, upper, seed, x.dtype)
    return _out(np.where(x >= 0, grad_out, grad_out * a), out)


# ---- batch norm ----
def _axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _bshape(x):
    return (1, -1) + (1,) * (x.ndim - 2)


def batch_norm_stats(x):
    ax = _axes(x)
    return x.mean(axis=ax), x.var(axis=ax)


def batch_norm(x, weight, bias, running_mean, running_var, *, training, momentum=0.1, eps=1e-5,
               out=None, return_stats=False, save_mean=None, save_invstd=None):
    ax, bs = _axes(x), _bshape(x)
    if training or running_mean is None:
        mean, var = x.mean(axis=ax), x.var(axis=ax)
        if training and running_mean is not None:
            m = x.size // x.shape[1]
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
            running_var[...] = (1 - momentum) * running_var + momentum * var * m / (m - 1)
    else:
        mean, var = running_mean, running_var
    invstd = 1 / np.sqrt(var + eps)
    y = (x - mean.reshape(bs)) * invstd.reshape(bs)
    if weight is not None:
        y = y * weight.reshape(bs)
    if bias is not None:
        y = y + bias.reshape(bs)
    y = _out(y.astype(x.dtype, copy=False), out)
    if return_stats:
        return y, _out(mean.astype(x.dtype), save_mean), _out(invstd.astype(x.dtype), save_invstd)
    return y


def batch_norm_backward(grad_out, x, weight, mean, invstd, *, training=True, need_input_grad=True,
                        grad_weight=None, grad_bias=None, accumulate=False, grad_input=None):
    ax, bs = _axes(x), _bshape(x)
    xhat = (x - mean.reshape(bs)) * invstd.reshape(bs)
    gb = grad_out.sum(axis=ax)
    gw = (grad_out * xhat).sum(axis=ax)
    gx = None
    if need_input_grad:
        w = weight.reshape(bs) if weight is not None else 1
        if training:
            m = x.size // x.shape[1]
            gx = w * invstd.reshape(bs) * (grad_out - gb.reshape(bs) / m - xhat * gw.reshape(bs) / m)
        else:
            gx = grad_out * w * invstd.reshape(bs)
        gx = _out(gx.astype(x.dtype, copy=False), grad_input)
    if grad_weight is not None:
        gw = _out(grad_weight + gw if accumulate else gw, grad_weight)
    if grad_bias is not None:
        gb = _out(grad_bias + gb if accumulate else gb, grad_bias)
    return gx, gw, gb


def channel_sum(x, *, out=None, accumulate=False):
    s = x.sum(axis=_axes(x))
    return _out(out + s if accumulate else s, out) if out is not None else s


# ---- softmax and losses ----
def softmax(x, axis=-1, *, out=None):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return _out(e / e.sum(axis=-1, keepdims=True), out)


def log_softmax(x, axis=-1, *, out=None):
    s = x - x.max(axis=-1, keepdims=True)
    return _out(s - np.log(np.exp(s).sum(axis=-1, keepdims=True)), out)


def softmax_backward(grad_out, y, *, out=None):
    return _out(y * (grad_out - (grad_out * y).sum(axis=-1, keepdims=True)), out)


def log_softmax_backward(grad_out, y, *, out=None):
    return _out(grad_out - np.exp(y) * grad_out.sum(axis=-1, keepdims=True), out)


def _reduce(v, reduction, n):
    if reduction == "none":
        return v
    s = float(v.sum(dtype=np.float64))
    if reduction == "mean":
        return s / n if n else float("nan")  # mean of nothing, as PyTorch
    return s


def cross_entropy(logits, target, *, reduction="mean", label_smoothing=0.0, return_grad=False,
                  grad=None):
    n, c = logits.shape
    target = np.asarray(target)
    lsm = log_softmax(logits)
    eps = label_smoothing
    rows = -(1 - eps) * lsm[np.arange(n), target] - eps / c * lsm.sum(axis=1)
    loss = _reduce(rows, reduction, n)
    if not return_grad and grad is None:
        return loss
    g = np.exp(lsm) - eps / c
    g[np.arange(n), target] -= 1 - eps
    if reduction == "mean":
        g = g / n
    return loss, _out(g.astype(logits.dtype, copy=False), grad)


def _pair(rows, g, reduction, return_grad, n, grad=None):
    loss = _reduce(rows, reduction, n)
    if not return_grad and grad is None:
        return loss
    return loss, _out((g / max(n, 1) if reduction == "mean" else g).astype(rows.dtype, copy=False), grad)


def mse_loss(input, target, *, reduction="mean", return_grad=False, grad=None):
    d = input - target
    return _pair(d * d, 2 * d, reduction, return_grad, input.size, grad)


def l1_loss(input, target, *, reduction="mean", return_grad=False, grad=None):
    d = input - target
    return _pair(np.abs(d), np.sign(d), reduction, return_grad, input.size, grad)


def binary_cross_entropy_with_logits(input, target, *, reduction="mean", return_grad=False, grad=None):
    x = input
    rows = np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x)))
    return _pair(rows, 1 / (1 + np.exp(-x)) - target, reduction, return_grad, x.size, grad)


# ---- optimizer updates (multi-pass NumPy, as torch.optim's documented algorithms) ----
def _penalized(param, grad, weight_decay, l1):
    g = grad
    if weight_decay:
        g = g + weight_decay * param
    if l1:
        g = g + l1 * np.sign(param)
    return g


def sgd_step(param, grad, momentum_buffer, *, step, lr, momentum=0.0, dampening=0.0,
             weight_decay=0.0, nesterov=False, l1=0.0):
    g = _penalized(param, grad, weight_decay, l1)
    if momentum != 0:
        if step <= 1:
            momentum_buffer[...] = g
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * g
        g = g + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * g


def adagrad_step(param, grad, state_sum, *, step, lr, lr_decay=0.0, weight_decay=0.0, eps=1e-10,
                 l1=0.0):
    g = _penalized(param, grad, weight_decay, l1)
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += g * g
    param -= clr * g / (np.sqrt(state_sum) + eps)


def rmsprop_step(param, grad, square_avg, *, lr, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False, momentum_buffer=None, grad_avg=None, l1=0.0):
    g = _penalized(param, grad, weight_decay, l1)
    square_avg *= alpha
    square_avg += (1 - alpha) * g * g
    if centered:
        grad_avg += (1 - alpha) * (g - grad_avg)
        avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = np.sqrt(square_avg) + eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += g / avg
        param -= lr * momentum_buffer
    else:
        param -= lr * g / avg


def adam_step(param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
              weight_decay=0.0, decoupled_weight_decay=False, max_exp_avg_sq=None, l1=0.0, l2=0.0):
    # penalty gradients from the parameters before this step (as the fused kernel does)
    g = _penalized(param, grad, l2 if decoupled_weight_decay else weight_decay + l2, l1)
    if decoupled_weight_decay:
        param *= 1 - lr * weight_decay
    exp_avg += (1 - beta1) * (g - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
    v = exp_avg_sq
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    param -= (lr / bc1) * exp_avg / (np.sqrt(v) / np.sqrt(bc2) + eps)


def adamax_step(param, grad, exp_avg, exp_inf, *, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                weight_decay=0.0, l1=0.0):
    g = _penalized(param, grad, weight_decay, l1)
    exp_avg += (1 - beta1) * (g - exp_avg)
    np.maximum(exp_inf * beta2, np.abs(g) + eps, out=exp_inf)
    param -= (lr / (1 - beta1 ** step)) * exp_avg / exp_inf


def nadam_step(param, grad, exp_avg, exp_avg_sq, *, step, lr, mu_product, beta1=0.9, beta2=0.999,
               eps=1e-8, weight_decay=0.0, momentum_decay=4e-3, decoupled_weight_decay=False, l1=0.0,
               l2=0.0):
    # penalty gradients from the parameters before this step (as the fused kernel does)
    g = _penalized(param, grad, l2 if decoupled_weight_decay else weight_decay + l2, l1)
    if decoupled_weight_decay:
        param *= 1 - lr * weight_decay
    mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    prod = mu_product * mu
    exp_avg += (1 - beta1) * (g - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    denom = np.sqrt(exp_avg_sq / (1 - beta2 ** step)) + eps
    param += (-lr * (1 - mu) / (1 - prod)) * g / denom
    param += (-lr * mu_next / (1 - prod * mu_next)) * exp_avg / denom
    return prod


# ---- reductions ----
def norm_pow(x, p=2.0):
    a = np.abs(x.astype(np.float64))
    if np.isinf(p):
        return float(a.max()) if a.size else 0.0
    return float((a ** p).sum())


def sum_squares(arrays):
    arrays = [arrays] if isinstance(arrays, np.ndarray) else arrays
    return sum(norm_pow(a, 2.0) for a in arrays)


def global_norm(arrays, norm_type=2.0):
    arrays = [arrays] if isinstance(arrays, np.ndarray) else arrays
    if np.isinf(norm_type):
        return max((norm_pow(a, norm_type) for a in arrays), default=0.0)
    return sum(norm_pow(a, norm_type) for a in arrays) ** (1.0 / norm_type)


def scale_(x, s):
    x *= s
    return x


def clamp_(x, min, max):
    np.clip(x, min, max, out=x)
    return x


# ---- convolution and pooling ----
def _conv_geometry(x, weight, stride, padding, dilation):
    sh, sw = (stride, stride) if np.isscalar(stride) else stride
    dh, dw = (dilation, dilation) if np.isscalar(dilation) else dilation
    pt, pb, pl, pr = padding
    KH, KW = weight.shape[2:]
    OH = (x.shape[2] + pt + pb - dh * (KH - 1) - 1) // sh + 1
    OW = (x.shape[3] + pl + pr - dw * (KW - 1) - 1) // sw + 1
    return sh, sw, dh, dw, (pt, pb, pl, pr), OH, OW


def _taps(xp, ky, kx, sh, sw, dh, dw, OH, OW):
    """The input values tap (ky, kx) meets at every output position: (N, C, OH, OW)."""
    return xp[:, :, ky * dh:ky * dh + sh * (OH - 1) + 1:sh, kx * dw:kx * dw + sw * (OW - 1) + 1:sw]


def conv2d(x, weight, bias=None, *, stride=1, padding=(0, 0, 0, 0), dilation=1, groups=1, out=None, bf16=False):
    """y[n, o] = sum over the group's channels c and taps (ky, kx) of w[o, c, ky, kx] x_padded[n, c, ...].
    bf16: x and w rounded to bfloat16 first (fastnn's Winograd path rounds the transformed tiles
    instead, so it agrees to bf16's error, not to float32's)."""
    if bf16 and x.dtype == np.float32:
        x, weight = bf16_round(x), bf16_round(weight)
    sh, sw, dh, dw, (pt, pb, pl, pr), OH, OW = _conv_geometry(x, weight, stride, padding, dilation)
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    N, C = x.shape[:2]
    OC, Cg, KH, KW = weight.shape
    OCg = OC // groups
    y = np.zeros((N, OC, OH, OW), np.float64)
    for g in range(groups):
        xs = xp[:, g * Cg:(g + 1) * Cg].astype(np.float64)
        wg = weight[g * OCg:(g + 1) * OCg].astype(np.float64)
        for ky in range(KH):
            for kx in range(KW):
                y[:, g * OCg:(g + 1) * OCg] += np.einsum("nchw,oc->nohw", _taps(xs, ky, kx, sh, sw, dh, dw, OH, OW),
                                                         wg[:, :, ky, kx])
    if bias is not None:
        y += np.asarray(bias, np.float64)[None, :, None, None]
    return _out(y.astype(x.dtype), out)


def conv2d_backward(grad_out, x, weight, *, stride=1, padding=(0, 0, 0, 0), dilation=1, groups=1,
                    need_input_grad=True, need_weight_grad=True, need_bias_grad=True, grad_input=None,
                    grad_weight=None, grad_bias=None, accumulate=False):
    sh, sw, dh, dw, (pt, pb, pl, pr), OH, OW = _conv_geometry(x, weight, stride, padding, dilation)
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr))).astype(np.float64)
    g = grad_out.astype(np.float64)
    OC, Cg, KH, KW = weight.shape
    OCg = OC // groups
    gxp = np.zeros_like(xp)
    gw = np.zeros(weight.shape, np.float64)
    for gr in range(groups):
        cs, os_ = slice(gr * Cg, (gr + 1) * Cg), slice(gr * OCg, (gr + 1) * OCg)
        for ky in range(KH):
            for kx in range(KW):
                taps = _taps(xp[:, cs], ky, kx, sh, sw, dh, dw, OH, OW)
                gw[os_, :, ky, kx] = np.einsum("nohw,nchw->oc", g[:, os_], taps)
                view = _taps(gxp[:, cs], ky, kx, sh, sw, dh, dw, OH, OW)
                view += np.einsum("nohw,oc->nchw", g[:, os_], weight[os_, :, ky, kx].astype(np.float64))
    gx = gxp[:, :, pt:pt + x.shape[2], pl:pl + x.shape[3]]
    res = []
    for need, v, dst in ((need_input_grad, gx, grad_input), (need_weight_grad, gw, grad_weight),
                         (need_bias_grad, g.sum(axis=(0, 2, 3)), grad_bias)):
        if not need:
            res.append(None)
            continue
        v = v.astype(x.dtype)
        if dst is not None and accumulate and dst is not grad_input:
            dst += v
            res.append(dst)
        else:
            res.append(_out(v, dst))
    return tuple(res)


def pool2d(x, hs, hn, dh, ws, wn, dw, *, op="max", div=None, return_indices=False, out=None):
    """Windows as fastnn.ops.pool2d: rows hs[oh] + i dh (i < hn[oh]), columns ws[ow] + j dw (j < wn[ow])."""
    lead, (H, W) = x.shape[:-2], x.shape[-2:]
    planes = x.reshape(-1, H, W)
    OH, OW = len(hs), len(ws)
    y = np.empty((planes.shape[0], OH, OW), x.dtype)
    idx = np.full((planes.shape[0], OH, OW), -1, np.int32)
    for oh in range(OH):
        rows = hs[oh] + dh * np.arange(hn[oh])
        for ow in range(OW):
            cols = ws[ow] + dw * np.arange(wn[ow])
            flat = (rows[:, None] * W + cols[None, :]).reshape(-1)
            vals = planes.reshape(planes.shape[0], -1)[:, flat]
            if op == "max":
                nan = np.isnan(vals)
                # the first maximum in scan order; a NaN wins (the last NaN, as the kernel's rule gives)
                pick = np.where(nan.any(axis=1), vals.shape[1] - 1 - np.argmax(nan[:, ::-1], axis=1),
                                np.argmax(np.where(nan, -np.inf, vals), axis=1)) if vals.size else np.zeros(0, int)
                y[:, oh, ow] = vals[np.arange(len(pick)), pick] if vals.shape[1] else -np.inf
                idx[:, oh, ow] = flat[pick] if vals.shape[1] else -1
            else:
                y[:, oh, ow] = vals.astype(np.float64).sum(axis=1) / div.reshape(OH, OW)[oh, ow]
    y = y.reshape(lead + (OH, OW))
    y = _out(y, out)
    return (y, idx.reshape(lead + (OH, OW))) if return_indices else y


def pool2d_backward(grad_out, x_shape, hs, hn, dh, ws, wn, dw, *, op="max", indices=None, div=None, out=None):
    H, W = x_shape[-2:]
    OH, OW = len(hs), len(ws)
    g = grad_out.reshape(-1, OH, OW)
    gx = np.zeros((g.shape[0], H * W), np.float64)
    for oh in range(OH):
        for ow in range(OW):
            if op == "max":
                ix = indices.reshape(-1, OH, OW)[:, oh, ow]
                ok = ix >= 0
                np.add.at(gx, (np.arange(g.shape[0])[ok], ix[ok]), g[ok, oh, ow])
            else:
                rows = hs[oh] + dh * np.arange(hn[oh])
                cols = ws[ow] + dw * np.arange(wn[ow])
                flat = (rows[:, None] * W + cols[None, :]).reshape(-1)
                gx[:, flat] += (g[:, oh, ow] / div.reshape(OH, OW)[oh, ow])[:, None]
    return _out(gx.reshape(tuple(x_shape)).astype(grad_out.dtype), out)


def rbm_train(x, W, bh, bv, chain, Winc, bhinc, bvinc, q, *, batch_size, k=1, persistent=True, gaussian=False,
              lr=0.1, momentum=0.0, weight_decay=0.0, sparsity_target=0.1, sparsity_cost=0.0, sparsity_decay=0.9,
              seed=0, calls=0, order=None, draws=None):
    """NumPy twin of fastnn.ops.rbm_train for Bernoulli units without momentum, decay or sparsity
    (scikit-learn's update generalised to CD-k); `draws` (uniforms, consumed in the kernel's order) are
    required: Philox is the kernel's own."""
    if draws is None or gaussian or momentum or weight_decay or sparsity_cost:
        raise NotImplementedError("reference.rbm_train: Bernoulli units, no momentum/decay/sparsity, given draws")
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    u, pos = np.asarray(draws, np.float64).reshape(-1), 0

    def take(shape):
        nonlocal pos
        n = int(np.prod(shape))
        out = u[pos:pos + n].reshape(shape)
        pos += n
        return out

    X = x if order is None else x[np.asarray(order)]
    for s in range(0, len(X), batch_size):
        v = X[s:s + batch_size]
        hpos = sig(v @ W.T + bh)
        h = chain if persistent else (take(hpos.shape) < hpos).astype(v.dtype)
        if not persistent:
            calls += 1
        for step in range(1, k + 1):
            pv = sig(h @ W + bv)
            vneg = (take(pv.shape) < pv).astype(v.dtype)
            hneg = sig(vneg @ W.T + bh)
            calls += 1
            if step < k:
                h = (take(hneg.shape) < hneg).astype(v.dtype)
                calls += 1
        lr_n = lr / len(v)
        W += lr_n * (hpos.T @ v - hneg.T @ vneg)
        bh += lr_n * (hpos.sum(0) - hneg.sum(0))
        bv += lr_n * (v.sum(0) - vneg.sum(0))
        if persistent:
            chain[...] = (take(hneg.shape) < hneg).astype(v.dtype)
            calls += 1
    return calls
