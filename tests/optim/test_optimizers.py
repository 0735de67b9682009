"""Optimizer trajectories on a real model against torch.optim (same weights, same data)."""
import numpy as np
import pytest

import fastnn
from fastnn import nn, optim, regularizers

torch = pytest.importorskip("torch")

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.2)),
    ("Adagrad", dict(lr=0.05, lr_decay=1e-3, weight_decay=1e-3, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=1e-3)),
    ("RMSprop", dict(lr=1e-3, alpha=0.9, momentum=0.5, centered=True, weight_decay=1e-3)),
    ("Adam", dict(lr=1e-3)),
    ("Adam", dict(lr=1e-3, betas=(0.8, 0.99), weight_decay=1e-2, amsgrad=True)),
    ("AdamW", dict(lr=1e-3)),
    ("AdamW", dict(lr=1e-3, weight_decay=0.1, amsgrad=True)),
    ("NAdam", dict(lr=2e-3)),
    ("NAdam", dict(lr=2e-3, weight_decay=1e-2, decoupled_weight_decay=True)),
    ("Adamax", dict(lr=2e-3)),
    ("Adamax", dict(lr=2e-3, betas=(0.8, 0.99), weight_decay=1e-2)),
]


def models(dtype):
    fastnn.manual_seed(0)
    # no bias before BatchNorm: BN cancels it, its gradient is pure rounding noise that adaptive
    # optimizers (RMSprop) amplify to unit steps, in torch and fastnn alike
    fm = nn.Sequential(nn.Linear(12, 16, bias=False), nn.BatchNorm1d(16), nn.ELU(), nn.Linear(16, 8), nn.Tanh(),
                       nn.Linear(8, 3)).to(dtype)
    tm = torch.nn.Sequential(torch.nn.Linear(12, 16, bias=False), torch.nn.BatchNorm1d(16), torch.nn.ELU(),
                             torch.nn.Linear(16, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    tm = tm.double() if dtype == np.float64 else tm
    tm.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in fm.state_dict().items()})
    return fm, tm


def run(fm, tm, fopt, topt, steps=25, dtype=np.float32, hook=None):
    rng = np.random.default_rng(1)
    flf, tlf = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for s in range(steps):
        x = rng.standard_normal((32, 12)).astype(dtype)
        t = rng.integers(0, 3, 32)
        if hook:
            hook(s)
        flf(fm(x), t)
        fopt.zero_grad()
        fm.backward(flf.backward(), need_input_grad=False)
        fopt.step()
        loss = tlf(tm(torch.from_numpy(x)), torch.from_numpy(t))
        topt.zero_grad()
        loss.backward()
        topt.step()


def compare(fm, tm, dtype):
    tol = dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10)
    tsd = tm.state_dict()
    for k, v in fm.state_dict().items():
        np.testing.assert_allclose(v, tsd[k].numpy(), err_msg=k, **tol)


@pytest.mark.parametrize("name,cfg", CASES, ids=[f"{n}{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trajectory_matches_torch(name, cfg, dtype):
    fm, tm = models(dtype)
    fopt = getattr(optim, name)(fm.parameters(), **cfg)
    topt = getattr(torch.optim, name)(tm.parameters(), **cfg)
    run(fm, tm, fopt, topt, dtype=dtype)
    compare(fm, tm, dtype)


def test_param_groups_frozen_and_no_decay():
    fm, tm = models(np.float64)
    f_groups = [{"params": fm[0].parameters(), "lr": 0.01},
                {"params": list(fm[1].parameters()) + list(fm[3].parameters()), "weight_decay": 0.05},
                {"params": fm[5].parameters(), "lr": 0.2, "momentum": 0.5}]
    t_groups = [{"params": list(tm[0].parameters()), "lr": 0.01},
                {"params": list(tm[1].parameters()) + list(tm[3].parameters()), "weight_decay": 0.05},
                {"params": list(tm[5].parameters()), "lr": 0.2, "momentum": 0.5}]
    fopt = optim.SGD(f_groups, lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(t_groups, lr=0.05, momentum=0.9)
    frozen_before = fm[3].weight.data.clone()

    def hook(s):  # freeze layer 3 for steps 5..9 in both
        fm[3].weight.requires_grad = not (5 <= s < 10)
        tm[3].weight.requires_grad_(not (5 <= s < 10))
        if 5 <= s < 10:
            tm[3].weight.grad = None

    run(fm, tm, fopt, topt, dtype=np.float64, hook=hook)
    compare(fm, tm, np.float64)
    assert not np.array_equal(frozen_before, fm[3].weight.data)
    # no_decay_bias: biases and norm parameters get no weight decay
    fm, tm = models(np.float64)
    fopt = optim.AdamW(fm, lr=1e-2, weight_decay=0.1, no_decay_bias=True)
    decay = [p for n, p in tm.named_parameters() if n.endswith("weight") and n not in ("1.weight",)]
    rest = [p for n, p in tm.named_parameters() if not (n.endswith("weight") and n not in ("1.weight",))]
    topt = torch.optim.AdamW([{"params": decay}, {"params": rest, "weight_decay": 0.0}], lr=1e-2, weight_decay=0.1)
    run(fm, tm, fopt, topt, dtype=np.float64)
    compare(fm, tm, np.float64)


def test_one_fused_call_per_contiguous_range():
    fm, _ = models(np.float32)
    opt = optim.Adam(fm, lr=1e-3)
    calls = []
    orig = opt._update
    opt._update = lambda *a: (calls.append(a[1].size), orig(*a))
    flf = nn.CrossEntropyLoss()
    flf(fm(np.ones((4, 12), np.float32)), np.zeros(4, np.int64))
    fm.backward(flf.backward())
    opt.step()
    assert calls == [fm.num_parameters()]
    fm[0].freeze()
    calls.clear()
    opt.step()
    assert calls == [fm.num_parameters() - fm[0].num_parameters()]


def test_state_dict_resume_is_bit_identical():
    for name, cfg in [("Adam", dict(lr=1e-2, amsgrad=True)), ("SGD", dict(lr=0.1, momentum=0.9)),
                      ("NAdam", dict(lr=1e-2)), ("RMSprop", dict(lr=1e-2, centered=True, momentum=0.3)),
                      ("Adagrad", dict(lr=0.1))]:
        rng = np.random.default_rng(0)
        data = [(rng.standard_normal((16, 12)).astype(np.float32), rng.integers(0, 3, 16)) for _ in range(10)]
        lf = nn.CrossEntropyLoss()

        def train(m, opt, batches):
            for x, t in batches:
                lf(m(x), t)
                opt.zero_grad()
                m.backward(lf.backward())
                opt.step()

        a, _ = models(np.float32)
        oa = getattr(optim, name)(a, **cfg)
        train(a, oa, data)
        b, _ = models(np.float32)
        ob = getattr(optim, name)(b, **cfg)
        train(b, ob, data[:5])
        msd, osd = b.state_dict(), ob.state_dict()
        c, _ = models(np.float32)
        oc = getattr(optim, name)(c, **cfg)
        c.load_state_dict(msd)
        oc.load_state_dict(osd)
        train(c, oc, data[5:])
        for k, v in a.state_dict().items():
            np.testing.assert_array_equal(v, c.state_dict()[k], err_msg=f"{name} {k}")


def test_l2_regularizer_equals_weight_decay_and_penalties():
    fa, _ = models(np.float64)
    fb, _ = models(np.float64)
    for layer in (fa[0], fa[3], fa[5]):
        layer.regularizer = regularizers.L2(0.01)
    oa = optim.SGD(fa, lr=0.1, momentum=0.9)
    decay = [p for p in fb.parameters() if p.kind == "weight"]
    rest = [p for p in fb.parameters() if p.kind != "weight"]
    ob = optim.SGD([{"params": decay, "weight_decay": 0.02}, {"params": rest}], lr=0.1, momentum=0.9)
    rng = np.random.default_rng(2)
    lf = nn.CrossEntropyLoss()
    for _ in range(10):
        x, t = rng.standard_normal((8, 12)), rng.integers(0, 3, 8)
        for m, o in ((fa, oa), (fb, ob)):
            lf(m(x), t)
            o.zero_grad()
            m.backward(lf.backward())
            o.step()
    for k, v in fa.state_dict().items():
        np.testing.assert_allclose(v, fb.state_dict()[k], rtol=1e-12, atol=1e-14)
    w = fa[0].weight.data
    assert regularizers.L1(0.5)(w) == pytest.approx(0.5 * np.abs(w).sum())
    assert regularizers.ElasticNet(0.1, 0.2)(w) == pytest.approx(0.1 * np.abs(w).sum() + 0.2 * (w ** 2).sum())
    total = sum(0.01 * float((m.weight.data ** 2).sum()) for m in (fa[0], fa[3], fa[5]))
    assert regularizers.penalty(fa) == pytest.approx(total)


def test_l1_drives_weights_to_zero():
    fastnn.manual_seed(0)
    lin = nn.Linear(50, 1, bias=False, regularizer=regularizers.L1(0.05))
    opt = optim.SGD(lin, lr=0.01)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 50)).astype(np.float32)
    y = (x[:, :3] @ np.array([1.0, -2.0, 1.5])).astype(np.float32)[:, None]
    lf = nn.MSELoss()
    for _ in range(800):
        lf(lin(x), y)
        opt.zero_grad()
        lin.backward(lf.backward())
        opt.step()
    w = lin.weight.data[0]
    assert np.abs(w[3:]).max() < 0.02 and np.abs(w[:3]).min() > 0.5


def test_clip_grad_norm_and_value_match_torch():
    fm, tm = models(np.float64)
    x = np.random.default_rng(3).standard_normal((16, 12)) * 10
    t = np.arange(16) % 3
    lf = nn.CrossEntropyLoss()
    lf(fm(x), t)
    fm.zero_grad()
    fm.backward(lf.backward())
    tl = torch.nn.CrossEntropyLoss()(tm(torch.from_numpy(x)), torch.from_numpy(t))
    tl.backward()
    for norm_type in (2.0, 1.0, float("inf")):
        g_before = fm.arena().grad.copy()
        tg_before = [p.grad.clone() for p in tm.parameters()]
        total = nn.utils.clip_grad_norm_(fm, 0.1, norm_type=norm_type)
        ttotal = torch.nn.utils.clip_grad_norm_(tm.parameters(), 0.1, norm_type=norm_type)
        assert total == pytest.approx(ttotal.item(), rel=1e-10)
        for (n, p), tp in zip(fm.named_parameters(), tm.parameters()):
            np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=n)
        fm.arena().grad[:] = g_before
        for tp, g in zip(tm.parameters(), tg_before):
            tp.grad.copy_(g)
    nn.utils.clip_grad_value_(fm, 0.01)
    torch.nn.utils.clip_grad_value_(tm.parameters(), 0.01)
    for p, tp in zip(fm.parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12, atol=1e-16)
        assert np.abs(p.grad).max() <= 0.01
    fm.arena().grad[0] = np.nan
    before = fm.arena().grad.copy()
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(fm, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(fm.arena().grad[1:], before[1:])


def test_bad_arguments():
    fm, _ = models(np.float32)
    ps = list(fm.parameters())
    with pytest.raises(ValueError, match="lr: expected a number >= 0"):
        optim.SGD(ps, lr=-0.1)
    with pytest.raises(ValueError, match=r"betas\[0\]: expected a value in \[0, 1\)"):
        optim.Adam(ps, betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="eps: expected > 0"):
        optim.Adam(ps, eps=0.0)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": ps[:2]}, {"params": ps[1:3]}], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD(ps + ps[:1], lr=0.1)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['betas'\]"):
        optim.SGD([{"params": ps, "betas": (0.9, 0.9)}], lr=0.1)
    opt = optim.Adam(ps)
    sd = opt.state_dict()
    sd["state"][0]["bogus"] = 1
    with pytest.raises(ValueError, match="unknown state key"):
        opt.load_state_dict(sd)
    with pytest.raises(ValueError, match="exactly the keys"):
        opt.load_state_dict({"state": {}})


def test_course_convergence_through_the_api():
    """Ill-conditioned quadratic 0.5 (100 x0^2 + x1^2): AdaGrad stalls, Adam/RMSprop/Nesterov converge."""
    def run_opt(make, steps=300):
        p = nn.Parameter(np.array([1.0, 10.0]))
        opt = make([p])
        for _ in range(steps):
            p.grad[...] = np.array([100.0, 1.0]) * p.data
            opt.step()
        return 0.5 * float(100 * p.data[0] ** 2 + p.data[1] ** 2)

    f0 = 100.0
    assert run_opt(lambda ps: optim.Adagrad(ps, lr=0.1)) > 0.1 * f0
    assert run_opt(lambda ps: optim.Adam(ps, lr=0.1)) < 1e-3 * f0
    assert run_opt(lambda ps: optim.RMSprop(ps, lr=0.1)) < 1e-3 * f0
    assert run_opt(lambda ps: optim.SGD(ps, lr=0.005, momentum=0.9, nesterov=True)) < 1e-3 * f0


def test_repacked_model_keeps_optimizer_state():
    fm, _ = models(np.float32)
    opt = optim.Adam(fm, lr=1e-2)
    lf = nn.CrossEntropyLoss()
    x, t = np.ones((4, 12), np.float32), np.zeros(4, np.int64)
    lf(fm(x), t)
    fm.backward(lf.backward())
    opt.step()
    m_before = opt.state_dict()["state"][0]["exp_avg"].copy()
    new = nn.Sequential(*fm, nn.ReLU())  # moves the parameters into a new arena
    new.arena()
    opt.zero_grad()
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["exp_avg"], m_before)
