"""Activations, PReLU, RReLU and dropout: forward and backward (float32 / float64, any shape).

Each takes arrays of any shape; non-contiguous inputs are copied once to C order. `out=` may be the
input itself (the kernels are element-wise) but may not partly overlap it.
"""
cimport numpy as cnp
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport (arr_in, arr_like, arr_out, arr_inplace, no_alias, check_rc,
                                  dtype_code, seed_arg, check_dtype)
from fastnn._ext._runtime cimport get_threads

cnp.import_array()


cdef object _unary(int op, object x, double a, double b, object out):
    cdef cnp.ndarray xa = arr_in(x, "x")
    cdef cnp.ndarray y = arr_out(out, "out", xa, "x")
    no_alias(y, "out", xa, "x", True)
    cdef int dt = dtype_code(xa, "x"), nt = get_threads(), rc
    cdef size_t n = cnp.PyArray_SIZE(xa)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *py = cnp.PyArray_DATA(y)
    with nogil:
        rc = fnn_unary(op, dt, px, py, n, a, b, nt)
    check_rc(rc)
    return y


cdef object _grad(int op, object g, object v, str vname, double a, double b, object out):
    cdef cnp.ndarray va = arr_in(v, vname)
    cdef cnp.ndarray ga = arr_like(g, "grad_out", va, vname)
    cdef cnp.ndarray dx = arr_out(out, "out", va, vname)
    no_alias(dx, "out", va, vname, True)
    no_alias(dx, "out", ga, "grad_out", True)
    cdef int dt = dtype_code(va, vname), nt = get_threads(), rc
    cdef size_t n = cnp.PyArray_SIZE(va)
    cdef void *pg = cnp.PyArray_DATA(ga)
    cdef void *pv = cnp.PyArray_DATA(va)
    cdef void *pd = cnp.PyArray_DATA(dx)
    with nogil:
        rc = fnn_unary_backward(op, dt, pg, pv, pd, n, a, b, nt)
    check_rc(rc)
    return dx


def sigmoid(x, *, out=None):
    """y = 1 / (1 + exp(-x)), element-wise."""
    return _unary(FNN_SIGMOID, x, 0, 0, out)

def sigmoid_backward(grad_out, y, *, out=None):
    """dx = grad_out * y * (1 - y), from the forward output y."""
    return _grad(FNN_SIGMOID, grad_out, y, "y", 0, 0, out)

def tanh(x, *, out=None):
    """y = tanh(x), element-wise."""
    return _unary(FNN_TANH, x, 0, 0, out)

def tanh_backward(grad_out, y, *, out=None):
    """dx = grad_out * (1 - y^2), from the forward output y."""
    return _grad(FNN_TANH, grad_out, y, "y", 0, 0, out)

def relu(x, *, out=None):
    """y = max(0, x) (NaN propagates)."""
    return _unary(FNN_RELU, x, 0, 0, out)

def relu_backward(grad_out, x, *, out=None):
    """dx = grad_out where x > 0, else 0."""
    return _grad(FNN_RELU, grad_out, x, "x", 0, 0, out)

def leaky_relu(x, double negative_slope=0.01, *, out=None):
    """y = x if x >= 0 else negative_slope * x (PyTorch's default slope 0.01)."""
    return _unary(FNN_LEAKY_RELU, x, negative_slope, 0, out)

def leaky_relu_backward(grad_out, x, double negative_slope=0.01, *, out=None):
    """dx = grad_out if x > 0 else negative_slope * grad_out."""
    return _grad(FNN_LEAKY_RELU, grad_out, x, "x", negative_slope, 0, out)

def elu(x, double alpha=1.0, *, out=None):
    """y = x if x > 0 else alpha * (exp(x) - 1)."""
    return _unary(FNN_ELU, x, alpha, 0, out)

def elu_backward(grad_out, x, double alpha=1.0, *, out=None):
    """dx = grad_out if x > 0 else grad_out * alpha * exp(x)."""
    return _grad(FNN_ELU, grad_out, x, "x", alpha, 0, out)

def selu(x, *, out=None):
    """y = scale * (x if x > 0 else alpha (exp(x) - 1)), alpha = 1.6732632..., scale = 1.0507009..."""
    return _unary(FNN_SELU, x, 0, 0, out)

def selu_backward(grad_out, x, *, out=None):
    """dx = grad_out * scale * (1 if x > 0 else alpha exp(x))."""
    return _grad(FNN_SELU, grad_out, x, "x", 0, 0, out)

def _gelu_op(str approximate):
    if approximate == "none":
        return FNN_GELU
    if approximate == "tanh":
        return FNN_GELU_TANH
    raise ValueError(f"approximate: expected 'none' or 'tanh', got {approximate!r}")

def gelu(x, *, approximate="none", out=None):
    """y = x * Phi(x) (Phi the standard normal CDF); approximate='tanh':
    y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return _unary(_gelu_op(approximate), x, 0, 0, out)

def gelu_backward(grad_out, x, *, approximate="none", out=None):
    """dx = grad_out * (Phi(x) + x phi(x)) (or the derivative of the tanh form)."""
    return _grad(_gelu_op(approximate), grad_out, x, "x", 0, 0, out)

def silu(x, *, out=None):
    """y = x * sigmoid(x) (a.k.a. swish)."""
    return _unary(FNN_SILU, x, 0, 0, out)

def silu_backward(grad_out, x, *, out=None):
    """dx = grad_out * s (1 + x (1 - s)), s = sigmoid(x)."""
    return _grad(FNN_SILU, grad_out, x, "x", 0, 0, out)

cdef _check_beta(double beta):
    if not beta > 0:
        raise ValueError(f"beta: expected > 0, got {beta}")

def softplus(x, double beta=1.0, double threshold=20.0, *, out=None):
    """y = log(1 + exp(beta x)) / beta, or x where beta x > threshold (PyTorch's defaults 1, 20)."""
    _check_beta(beta)
    return _unary(FNN_SOFTPLUS, x, beta, threshold, out)

def softplus_backward(grad_out, x, double beta=1.0, double threshold=20.0, *, out=None):
    """dx = grad_out * sigmoid(beta x), or grad_out where beta x > threshold."""
    _check_beta(beta)
    return _grad(FNN_SOFTPLUS, grad_out, x, "x", beta, threshold, out)


cdef _prelu_view(cnp.ndarray x, cnp.ndarray w, size_t *N, size_t *C, size_t *S, size_t *wc):
    cdef int nd = cnp.PyArray_NDIM(x), i
    cdef cnp.npy_intp *d = cnp.PyArray_DIMS(x)
    N[0] = d[0] if nd >= 1 else 1
    C[0] = d[1] if nd >= 2 else 1
    S[0] = 1
    for i in range(2, nd):
        S[0] *= d[i]
    wc[0] = cnp.PyArray_SIZE(w)
    if wc[0] != 1 and wc[0] != C[0]:
        raise ValueError(f"weight: expected 1 value or one per channel ({C[0]}, axis 1 of x), "
                         f"got {wc[0]} values")

def prelu(x, weight, *, out=None):
    """y = x if x >= 0 else a * x, with a = weight: one value, or one per channel (axis 1 of x)."""
    cdef cnp.ndarray xa = arr_in(x, "x")
    cdef cnp.ndarray wa = arr_in(weight, "weight")
    check_dtype(wa, "weight", xa, "x")
    cdef size_t N = 0, C = 0, S = 0, wc = 0
    _prelu_view(xa, wa, &N, &C, &S, &wc)
    cdef cnp.ndarray y = arr_out(out, "out", xa, "x")
    no_alias(y, "out", xa, "x", True)
    no_alias(y, "out", wa, "weight", False)
    cdef int dt = dtype_code(xa, "x"), nt = get_threads()
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *pw = cnp.PyArray_DATA(wa)
    cdef void *py = cnp.PyArray_DATA(y)
    with nogil:
        fnn_prelu(dt, px, pw, py, N, C, S, wc, nt)
    return y

def prelu_backward(grad_out, x, weight, *, need_input_grad=True, grad_weight=None, accumulate=False,
                   grad_input=None):
    """Returns (grad_x or None, grad_weight): grad_x = grad_out where x > 0 else a * grad_out;
    grad_weight[c] = sum over x[:, c] < 0 of x * grad_out (summed over all for one shared weight).
    With grad_weight= given, writes into it (adds when accumulate=True)."""
    cdef cnp.ndarray xa = arr_in(x, "x")
    cdef cnp.ndarray wa = arr_in(weight, "weight")
    check_dtype(wa, "weight", xa, "x")
    cdef cnp.ndarray ga = arr_like(grad_out, "grad_out", xa, "x")
    cdef size_t N = 0, C = 0, S = 0, wc = 0
    _prelu_view(xa, wa, &N, &C, &S, &wc)
    cdef cnp.ndarray dw = arr_out(grad_weight, "grad_weight", wa, "weight")
    if grad_weight is None and accumulate:
        raise ValueError("accumulate: needs grad_weight= to add into")
    cdef cnp.ndarray dx = arr_out(grad_input, "grad_input", xa, "x") if need_input_grad else None
    if dx is not None:
        no_alias(dx, "grad_input", xa, "x", False)
        no_alias(dx, "grad_input", ga, "grad_out", True)
    cdef int dt = dtype_code(xa, "x"), nt = get_threads(), rc, acc = 1 if accumulate else 0
    cdef void *pdx = cnp.PyArray_DATA(dx) if dx is not None else NULL
    cdef void *pg = cnp.PyArray_DATA(ga)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *pw = cnp.PyArray_DATA(wa)
    cdef void *pdw = cnp.PyArray_DATA(dw)
    with nogil:
        rc = fnn_prelu_backward(dt, pg, px, pw, pdx, pdw, N, C, S, wc, acc, nt)
    check_rc(rc)
    return dx, dw


cdef _check_rrelu(double lower, double upper):
    if not (0.0 <= lower <= upper):
        raise ValueError(f"lower, upper: expected 0 <= lower <= upper, got {lower}, {upper}")

def rrelu(x, double lower=1.0 / 8, double upper=1.0 / 3, *, training=False, seed=0, out=None):
    """Randomized leaky ReLU. Training: y = x if x >= 0 else a_i x, a_i ~ U(lower, upper) drawn from
    a counter-based generator keyed by (seed, i); eval: a = (lower + upper) / 2."""
    _check_rrelu(lower, upper)
    cdef unsigned long long s = seed_arg(seed)
    cdef cnp.ndarray xa = arr_in(x, "x")
    cdef cnp.ndarray y = arr_out(out, "out", xa, "x")
    no_alias(y, "out", xa, "x", True)
    cdef int dt = dtype_code(xa, "x"), nt = get_threads(), tr = 1 if training else 0, rc
    cdef size_t n = cnp.PyArray_SIZE(xa)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *py = cnp.PyArray_DATA(y)
    with nogil:
        rc = fnn_rrelu(dt, px, py, n, lower, upper, tr, s, nt)
    check_rc(rc)
    return y

def rrelu_backward(grad_out, x, double lower=1.0 / 8, double upper=1.0 / 3, *, training=False, seed=0,
                   out=None):
    """dx = grad_out if x >= 0 else a_i grad_out, the slopes regenerated from (seed, i), not stored."""
    _check_rrelu(lower, upper)
    cdef unsigned long long s = seed_arg(seed)
    cdef cnp.ndarray xa = arr_in(x, "x")
    cdef cnp.ndarray ga = arr_like(grad_out, "grad_out", xa, "x")
    cdef cnp.ndarray dx = arr_out(out, "out", xa, "x")
    no_alias(dx, "out", xa, "x", True)
    no_alias(dx, "out", ga, "grad_out", True)
    cdef int dt = dtype_code(xa, "x"), nt = get_threads(), tr = 1 if training else 0, rc
    cdef size_t n = cnp.PyArray_SIZE(xa)
    cdef void *pg = cnp.PyArray_DATA(ga)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *pd = cnp.PyArray_DATA(dx)
    with nogil:
        rc = fnn_rrelu_backward(dt, pg, px, pd, n, lower, upper, tr, s, nt)
    check_rc(rc)
    return dx


cdef object _dropout(object x, str name, double p, object seed, object out):
    if not (0.0 <= p <= 1.0):
        raise ValueError(f"p: expected a probability in [0, 1], got {p}")
    cdef unsigned long long s = seed_arg(seed)
    cdef cnp.ndarray xa = arr_in(x, name)
    cdef cnp.ndarray y = arr_out(out, "out", xa, name)
    no_alias(y, "out", xa, name, True)
    cdef int dt = dtype_code(xa, name), nt = get_threads(), rc
    cdef size_t n = cnp.PyArray_SIZE(xa)
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *py = cnp.PyArray_DATA(y)
    with nogil:
        rc = fnn_dropout(dt, px, py, n, p, s, nt)
    check_rc(rc)
    return y

def dropout(x, double p, *, seed, out=None):
    """Inverted dropout: y_i = x_i / (1 - p) if kept else 0; element i is kept when its random word
    from (seed, i) is below (1 - p) 2^32. The mask is never stored: backward regenerates it."""
    return _dropout(x, "x", p, seed, out)

def dropout_backward(grad_out, double p, *, seed, out=None):
    """dx = grad_out * mask / (1 - p), the mask of dropout(.., p, seed=seed)."""
    return _dropout(grad_out, "grad_out", p, seed, out)
