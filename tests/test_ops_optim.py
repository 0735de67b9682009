"""Fused optimizer updates against PyTorch's documented algorithms (fastnn.reference) and, where
torch is installed, against torch.optim itself: 25-step trajectories in float32 and float64."""
import numpy as np
import pytest

import fastnn
from fastnn import ops, reference as R
from _helpers import DTYPES, randn

STEPS = 25
CASES = {
    "sgd": [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.9, nesterov=True),
            dict(lr=0.1, momentum=0.5, dampening=0.3, weight_decay=0.01)],
    "adagrad": [dict(lr=0.1), dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, eps=1e-6)],
    "rmsprop": [dict(lr=0.01), dict(lr=0.01, alpha=0.9, momentum=0.8, weight_decay=0.01),
                dict(lr=0.01, centered=True, momentum=0.5)],
    "adam": [dict(lr=0.01), dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05),
             dict(lr=0.01, amsgrad=True), dict(lr=0.01, weight_decay=0.1, decoupled=True)],
    "nadam": [dict(lr=0.01), dict(lr=0.01, weight_decay=0.02)],
    "adamax": [dict(lr=0.01), dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05, eps=1e-3)],
}


class FastnnRunner:
    """Drives one fastnn (or reference) update function with its own state, like torch.optim."""

    def __init__(self, mod, kind, p, cfg):
        self.mod, self.kind, self.p, self.cfg, self.step = mod, kind, p, dict(cfg), 0
        z = lambda: np.zeros_like(p)  # noqa: E731
        self.state = {"sgd": lambda: dict(momentum_buffer=z()),
                      "adagrad": lambda: dict(state_sum=z()),
                      "rmsprop": lambda: dict(square_avg=z(), momentum_buffer=z(), grad_avg=z()),
                      "adam": lambda: dict(exp_avg=z(), exp_avg_sq=z(),
                                           max_exp_avg_sq=z() if cfg.get("amsgrad") else None),
                      "nadam": lambda: dict(exp_avg=z(), exp_avg_sq=z()),
                      "adamax": lambda: dict(exp_avg=z(), exp_inf=z())}[kind]()
        self.mu_product = 1.0

    def __call__(self, g):
        self.step += 1
        c, s, m = dict(self.cfg), self.state, self.mod
        if self.kind == "sgd":
            m.sgd_step(self.p, g, s["momentum_buffer"], step=self.step, **c)
        elif self.kind == "adagrad":
            m.adagrad_step(self.p, g, s["state_sum"], step=self.step, **c)
        elif self.kind == "rmsprop":
            m.rmsprop_step(self.p, g, s["square_avg"], momentum_buffer=s["momentum_buffer"],
                           grad_avg=s["grad_avg"], **c)
        elif self.kind == "adam":
            b1, b2 = c.pop("betas", (0.9, 0.999))
            c.pop("amsgrad", None)
            dec = c.pop("decoupled", False)
            m.adam_step(self.p, g, s["exp_avg"], s["exp_avg_sq"], step=self.step, beta1=b1, beta2=b2,
                        decoupled_weight_decay=dec, max_exp_avg_sq=s["max_exp_avg_sq"], **c)
        elif self.kind == "adamax":
            b1, b2 = c.pop("betas", (0.9, 0.999))
            m.adamax_step(self.p, g, s["exp_avg"], s["exp_inf"], step=self.step, beta1=b1, beta2=b2, **c)
        else:
            self.mu_product = m.nadam_step(self.p, g, s["exp_avg"], s["exp_avg_sq"], step=self.step,
                                           mu_product=self.mu_product, **c)


def grads(shape, dtype):
    return [randn(shape, dtype, 100 + i) for i in range(STEPS)]


def flat_cases():
    for kind, cfgs in CASES.items():
        for i, cfg in enumerate(cfgs):
            yield pytest.param(kind, cfg, id=f"{kind}{i}")


@pytest.mark.parametrize("kind,cfg", list(flat_cases()))
@pytest.mark.parametrize("dtype", DTYPES)
def test_trajectory_matches_reference(kind, cfg, dtype):
    p0 = randn((17, 33), dtype, 1)
    a, b = FastnnRunner(ops, kind, p0.copy(), cfg), FastnnRunner(R, kind, p0.copy(), cfg)
    for g in grads(p0.shape, dtype):
        a(g)
        b(g)
    rtol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(a.p, b.p, rtol=rtol, atol=rtol)


def _torch_opt(torch, kind, cfg, tp):
    c = dict(cfg)
    if kind == "adam" and c.pop("decoupled", False):
        return torch.optim.AdamW([tp], **c)
    cls = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
           "adam": torch.optim.Adam, "nadam": torch.optim.NAdam,
           "adamax": torch.optim.Adamax}[kind]
    return cls([tp], **c)


@pytest.mark.parametrize("kind,cfg", list(flat_cases()))
@pytest.mark.parametrize("dtype", DTYPES)
def test_trajectory_matches_torch(kind, cfg, dtype):
    torch = pytest.importorskip("torch")
    p0 = randn((9, 13), dtype, 2)
    ours = FastnnRunner(ops, kind, p0.copy(), cfg)
    tp = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    opt = _torch_opt(torch, kind, cfg, tp)
    for g in grads(p0.shape, dtype):
        ours(g)
        tp.grad = torch.from_numpy(g.copy())
        opt.step()
    rtol = 2e-5 if dtype == np.float32 else 1e-10
    if kind == "nadam" and dtype == np.float64:
        rtol = 1e-7  # torch keeps NAdam's mu_product as a float32 scalar; fastnn keeps a double
    np.testing.assert_allclose(ours.p, tp.detach().numpy(), rtol=rtol, atol=rtol)


def test_hand_computed_first_steps():
    # Adam step 1: m = 0.1 g, v = 0.001 g^2 -> p -= lr * sign(g) (bias-corrected), up to eps
    p, g = np.array([1.0, -2.0]), np.array([0.5, -4.0])
    m, v = np.zeros(2), np.zeros(2)
    ops.adam_step(p, g, m, v, step=1, lr=0.1, eps=0.0)
    np.testing.assert_allclose(p, [0.9, -1.9])
    # SGD momentum: step 1 buf = g; step 2 buf = 0.9 buf + g
    p, b = np.array([1.0]), np.zeros(1)
    ops.sgd_step(p, np.array([1.0]), b, step=1, lr=0.1, momentum=0.9)
    ops.sgd_step(p, np.array([1.0]), b, step=2, lr=0.1, momentum=0.9)
    np.testing.assert_allclose(b, [1.9])
    np.testing.assert_allclose(p, [1.0 - 0.1 - 0.19])
    # L1 penalty: subgradient l1 * sign(p) joins the gradient
    p = np.array([2.0, -2.0, 0.0])
    ops.sgd_step(p, np.zeros(3), None, step=1, lr=1.0, l1=0.5)
    np.testing.assert_allclose(p, [1.5, -1.5, 0.0])


def test_course_convergence_on_ill_conditioned_quadratic():
    """f(x) = 0.5 (100 x0^2 + x1^2): AdaGrad's step sizes shrink for good and it stalls far from the
    minimum; Adam, RMSProp and Nesterov momentum converge (the course's comparison)."""
    H = np.array([100.0, 1.0])

    def run(kind, cfg, steps=300):
        r = FastnnRunner(ops, kind, np.array([1.0, 10.0]), cfg)
        for _ in range(steps):
            r(H * r.p)
        return 0.5 * float(H @ (r.p * r.p))

    f0 = 0.5 * (100 + 100)
    # same learning rate for the adaptive methods
    assert run("adagrad", dict(lr=0.1)) > 0.1 * f0
    assert run("adam", dict(lr=0.1)) < 1e-3 * f0
    assert run("rmsprop", dict(lr=0.1)) < 1e-3 * f0  # PyTorch default alpha 0.99
    assert run("sgd", dict(lr=0.005, momentum=0.9, nesterov=True)) < 1e-3 * f0


def test_bad_arguments_change_nothing():
    p = np.ones(5, np.float32)
    g = np.ones(5, np.float32)
    m, v = np.zeros(5, np.float32), np.zeros(5, np.float32)
    with pytest.raises(ValueError, match="lr: expected >= 0"):
        ops.adam_step(p, g, m, v, step=1, lr=-1.0)
    with pytest.raises(ValueError, match=r"beta1: expected a value in \[0, 1\)"):
        ops.adam_step(p, g, m, v, step=1, lr=0.1, beta1=1.0)
    with pytest.raises(ValueError, match="step: expected >= 1"):
        ops.adam_step(p, g, m, v, step=0, lr=0.1)
    with pytest.raises(ValueError, match=r"exp_avg_sq: expected shape \(5,\)"):
        ops.adam_step(p, g, m, np.zeros(4, np.float32), step=1, lr=0.1)
    with pytest.raises(TypeError, match="exp_avg: expected dtype float32"):
        ops.adam_step(p, g, np.zeros(5), v, step=1, lr=0.1)
    with pytest.raises(ValueError, match="exp_avg_sq: must not overlap exp_avg"):
        ops.adam_step(p, g, m, m, step=1, lr=0.1)
    with pytest.raises(ValueError, match="param: must be C-contiguous"):
        ops.sgd_step(np.ones((5, 2), np.float32)[:, 0], g, None, step=1, lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        ops.sgd_step(p, g, m, step=1, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="momentum_buffer: required"):
        ops.sgd_step(p, g, None, step=1, lr=0.1, momentum=0.9)
    np.testing.assert_array_equal(p, 1)
    np.testing.assert_array_equal(m, 0)
    np.testing.assert_array_equal(v, 0)


def test_update_thread_invariant():
    p0 = randn(1_000_003, np.float32, 3)
    g = randn(1_000_003, np.float32, 4)
    res = []
    for n in (1, 2, 4):
        with fastnn.set_num_threads(n):
            p, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
            for s in (1, 2, 3):
                ops.adam_step(p, g, m, v, step=s, lr=1e-3, weight_decay=0.01)
            res.append(p)
    np.testing.assert_array_equal(res[0], res[1])
    np.testing.assert_array_equal(res[0], res[2])
