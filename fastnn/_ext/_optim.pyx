"""Fused optimizer updates (torch.optim's formulas), in place, one pass over memory.

Every state array must match `param` in dtype and shape, be C-contiguous and writeable; all
arguments are checked before anything is written, so a refused call changes nothing. `step` counts
from 1. `l1` adds the L1 penalty's subgradient l1 * sign(param) to the gradient (elastic net with
weight_decay as the L2 part).
"""
cimport numpy as cnp
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport arr_in, arr_like, arr_inplace, no_alias, check_rc, dtype_code
from fastnn._ext._runtime cimport get_threads

cnp.import_array()


cdef cnp.ndarray _param(object p):
    return arr_inplace(p, "param", None, "")


cdef cnp.ndarray _grad(object g, cnp.ndarray p):
    cdef cnp.ndarray ga = arr_like(g, "grad", p, "param")
    no_alias(p, "param", ga, "grad", False)
    return ga


cdef cnp.ndarray _state(object s, str name, cnp.ndarray p, list seen):
    cdef cnp.ndarray sa = arr_inplace(s, name, p, "param")
    for other, oname in seen:
        no_alias(sa, name, other, oname, False)
    seen.append((sa, name))
    return sa


cdef tuple _moments(object param, object grad, object exp_avg, object exp_avg_sq, list seen):
    """param, grad and the two moment buffers of Adam-like updates, checked (seen collects them)."""
    cdef cnp.ndarray p = _param(param)
    cdef cnp.ndarray g = _grad(grad, p)
    seen += [(p, "param"), (g, "grad")]
    cdef cnp.ndarray m = _state(exp_avg, "exp_avg", p, seen)
    cdef cnp.ndarray v = _state(exp_avg_sq, "exp_avg_sq", p, seen)
    return p, g, m, v


cdef _nonneg(double v, str name):
    if not v >= 0.0:
        raise ValueError(f"{name}: expected >= 0, got {v}")


cdef _unit(double v, str name):
    if not (0.0 <= v < 1.0):
        raise ValueError(f"{name}: expected a value in [0, 1), got {v}")


cdef _step(long step):
    if step < 1:
        raise ValueError(f"step: expected >= 1 (steps count from 1), got {step}")


def sgd_step(param, grad, momentum_buffer, *, long step, double lr, double momentum=0.0,
             double dampening=0.0, double weight_decay=0.0, bint nesterov=False, double l1=0.0):
    """torch.optim.SGD: g = grad + weight_decay p + l1 sign(p); with momentum,
    b = g at step 1, else b = momentum b + (1 - dampening) g; g = g + momentum b (Nesterov) or b;
    p -= lr g. (The course's m = beta m + lr g; p -= m is the same for a constant lr.)"""
    _nonneg(lr, "lr"); _nonneg(momentum, "momentum"); _nonneg(weight_decay, "weight_decay")
    _nonneg(l1, "l1"); _step(step)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov: requires momentum > 0 and dampening = 0")
    cdef cnp.ndarray p = _param(param)
    cdef cnp.ndarray g = _grad(grad, p)
    cdef list seen = [(p, "param"), (g, "grad")]
    cdef cnp.ndarray b = None
    if momentum != 0.0:
        if momentum_buffer is None:
            raise ValueError("momentum_buffer: required when momentum != 0")
        b = _state(momentum_buffer, "momentum_buffer", p, seen)
    cdef int dt = dtype_code(p, "param"), nt = get_threads()
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pb = cnp.PyArray_DATA(b) if b is not None else NULL
    cdef size_t n = cnp.PyArray_SIZE(p)
    with nogil:
        fnn_sgd_step(dt, pp, pg, pb, n, step, lr, momentum, dampening, weight_decay,
                     1 if nesterov else 0, l1, nt)


def adagrad_step(param, grad, state_sum, *, long step, double lr, double lr_decay=0.0,
                 double weight_decay=0.0, double eps=1e-10, double l1=0.0):
    """torch.optim.Adagrad: g = grad + wd p; clr = lr / (1 + (step - 1) lr_decay);
    s += g^2; p -= clr g / (sqrt(s) + eps)."""
    _nonneg(lr, "lr"); _nonneg(lr_decay, "lr_decay"); _nonneg(weight_decay, "weight_decay")
    _nonneg(eps, "eps"); _nonneg(l1, "l1"); _step(step)
    cdef cnp.ndarray p = _param(param)
    cdef cnp.ndarray g = _grad(grad, p)
    cdef list seen = [(p, "param"), (g, "grad")]
    cdef cnp.ndarray s = _state(state_sum, "state_sum", p, seen)
    cdef int dt = dtype_code(p, "param"), nt = get_threads()
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *ps = cnp.PyArray_DATA(s)
    cdef size_t n = cnp.PyArray_SIZE(p)
    with nogil:
        fnn_adagrad_step(dt, pp, pg, ps, n, step, lr, lr_decay, weight_decay, eps, l1, nt)


def rmsprop_step(param, grad, square_avg, *, double lr, double alpha=0.99, double eps=1e-8,
                 double weight_decay=0.0, double momentum=0.0, bint centered=False,
                 momentum_buffer=None, grad_avg=None, double l1=0.0):
    """torch.optim.RMSprop: g = grad + wd p; v = alpha v + (1 - alpha) g^2;
    centered: a = a + (1 - alpha)(g - a), d = sqrt(v - a^2) + eps, else d = sqrt(v) + eps;
    momentum > 0: b = momentum b + g / d; p -= lr b; else p -= lr g / d."""
    _nonneg(lr, "lr"); _nonneg(eps, "eps"); _nonneg(weight_decay, "weight_decay")
    _nonneg(momentum, "momentum"); _nonneg(l1, "l1")
    if not (0.0 <= alpha <= 1.0):
        raise ValueError(f"alpha: expected a value in [0, 1], got {alpha}")
    cdef cnp.ndarray p = _param(param)
    cdef cnp.ndarray g = _grad(grad, p)
    cdef list seen = [(p, "param"), (g, "grad")]
    cdef cnp.ndarray v = _state(square_avg, "square_avg", p, seen)
    cdef cnp.ndarray b = None, a = None
    if momentum > 0:
        if momentum_buffer is None:
            raise ValueError("momentum_buffer: required when momentum > 0")
        b = _state(momentum_buffer, "momentum_buffer", p, seen)
    if centered:
        if grad_avg is None:
            raise ValueError("grad_avg: required when centered=True")
        a = _state(grad_avg, "grad_avg", p, seen)
    cdef int dt = dtype_code(p, "param"), nt = get_threads()
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pv = cnp.PyArray_DATA(v)
    cdef void *pb = cnp.PyArray_DATA(b) if b is not None else NULL
    cdef void *pa = cnp.PyArray_DATA(a) if a is not None else NULL
    cdef size_t n = cnp.PyArray_SIZE(p)
    with nogil:
        fnn_rmsprop_step(dt, pp, pg, pv, pb, pa, n, lr, alpha, eps, weight_decay, momentum, l1, nt)


def adam_step(param, grad, exp_avg, exp_avg_sq, *, long step, double lr, double beta1=0.9,
              double beta2=0.999, double eps=1e-8, double weight_decay=0.0,
              bint decoupled_weight_decay=False, max_exp_avg_sq=None, double l1=0.0, double l2=0.0):
    """torch.optim.Adam / AdamW (decoupled_weight_decay: ``p *= 1 - lr wd`` first, instead of ``g += wd p``):
    ``m = m + (1 - b1)(g - m); v = b2 v + (1 - b2) g^2``; AMSGrad when max_exp_avg_sq is given
    (``vmax = max(vmax, v)``, used for v); ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.
    l2 adds a coupled L2 penalty gradient ``l2 * p`` even with decoupled weight decay."""
    _nonneg(lr, "lr"); _nonneg(eps, "eps"); _nonneg(weight_decay, "weight_decay"); _nonneg(l1, "l1")
    _nonneg(l2, "l2")
    _unit(beta1, "beta1"); _unit(beta2, "beta2"); _step(step)
    cdef list seen = []
    cdef cnp.ndarray p, g, m, v
    p, g, m, v = _moments(param, grad, exp_avg, exp_avg_sq, seen)
    cdef cnp.ndarray vm = _state(max_exp_avg_sq, "max_exp_avg_sq", p, seen) if max_exp_avg_sq is not None else None
    cdef int dt = dtype_code(p, "param"), nt = get_threads()
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pm = cnp.PyArray_DATA(m)
    cdef void *pv = cnp.PyArray_DATA(v)
    cdef void *pvm = cnp.PyArray_DATA(vm) if vm is not None else NULL
    cdef size_t n = cnp.PyArray_SIZE(p)
    with nogil:
        fnn_adam_step(dt, pp, pg, pm, pv, pvm, n, step, lr, beta1, beta2, eps, weight_decay,
                      1 if decoupled_weight_decay else 0, l1, l2, nt)


def adamax_step(param, grad, exp_avg, exp_inf, *, long step, double lr, double beta1=0.9,
                double beta2=0.999, double eps=1e-8, double weight_decay=0.0, double l1=0.0):
    """torch.optim.Adamax: ``g += wd p; m = m + (1 - b1)(g - m); u = max(b2 u, |g| + eps);
    p -= lr / (1 - b1^t) * m / u``."""
    _nonneg(lr, "lr"); _nonneg(eps, "eps"); _nonneg(weight_decay, "weight_decay"); _nonneg(l1, "l1")
    _unit(beta1, "beta1"); _unit(beta2, "beta2"); _step(step)
    cdef list seen = []
    cdef cnp.ndarray p, g, m, u
    p, g, m, u = _moments(param, grad, exp_avg, exp_inf, seen)
    cdef int dt = dtype_code(p, "param"), nt = get_threads()
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pm = cnp.PyArray_DATA(m)
    cdef void *pu = cnp.PyArray_DATA(u)
    cdef size_t n = cnp.PyArray_SIZE(p)
    with nogil:
        fnn_adamax_step(dt, pp, pg, pm, pu, n, step, lr, beta1, beta2, eps, weight_decay, l1, nt)


def nadam_step(param, grad, exp_avg, exp_avg_sq, *, long step, double lr, double mu_product,
               double beta1=0.9, double beta2=0.999, double eps=1e-8, double weight_decay=0.0,
               double momentum_decay=4e-3, bint decoupled_weight_decay=False, double l1=0.0,
               double l2=0.0):
    """torch.optim.NAdam. mu_t = b1 (1 - 0.5 * 0.96^(t psi)), psi = momentum_decay;
    mu_product (the product of mu_1..mu_{t-1}, 1.0 at the first step) is passed in and the new
    product returned. p -= lr (1 - mu_t) / (1 - prod_t) g / d + lr mu_{t+1} / (1 - prod_t mu_{t+1}) m / d,
    d = sqrt(v / (1 - b2^t)) + eps."""
    _nonneg(lr, "lr"); _nonneg(eps, "eps"); _nonneg(weight_decay, "weight_decay"); _nonneg(l1, "l1")
    _nonneg(momentum_decay, "momentum_decay"); _nonneg(l2, "l2")
    _unit(beta1, "beta1"); _unit(beta2, "beta2"); _step(step)
    cdef list seen = []
    cdef cnp.ndarray p, g, m, v
    p, g, m, v = _moments(param, grad, exp_avg, exp_avg_sq, seen)
    cdef double mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
    cdef double mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    cdef double prod = mu_product * mu
    cdef double cg = -lr * (1.0 - mu) / (1.0 - prod)
    cdef double cm = -lr * mu_next / (1.0 - prod * mu_next)
    cdef double bc2 = 1.0 - beta2 ** step
    cdef int dt = dtype_code(p, "param"), nt = get_threads()
    cdef void *pp = cnp.PyArray_DATA(p)
    cdef void *pg = cnp.PyArray_DATA(g)
    cdef void *pm = cnp.PyArray_DATA(m)
    cdef void *pv = cnp.PyArray_DATA(v)
    cdef size_t n = cnp.PyArray_SIZE(p)
    with nogil:
        fnn_nadam_step(dt, pp, pg, pm, pv, n, beta1, beta2, bc2, cg, cm, eps, weight_decay,
                       1 if decoupled_weight_decay else 0, lr, l1, l2, nt)
    return prod
