"""Each scheduler gives the same learning-rate sequence as PyTorch's class of the same name."""

import numpy as np
import pytest

from fastnn import nn, optim
from fastnn.optim import lr_scheduler as S

torch = pytest.importorskip("torch")
TS = torch.optim.lr_scheduler


def pair(opt_name="SGD", **kw):
    fp = [nn.Parameter(np.zeros(3)), nn.Parameter(np.zeros(2))]
    tp = [torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2))]
    kw = kw or dict(lr=0.1, momentum=0.9)
    fo = getattr(optim, opt_name)([{"params": fp[:1]}, {"params": fp[1:], "lr": 0.05}], **kw)
    to = getattr(torch.optim, opt_name)([{"params": tp[:1]}, {"params": tp[1:], "lr": 0.05}], **kw)
    return fo, to


def seq(fs, ts, fo, to, n=40):
    out_f, out_t = [], []
    for _ in range(n):
        out_f.append(fs.get_last_lr())
        out_t.append(ts.get_last_lr())
        fo.step()
        to.step()
        fs.step()
        ts.step()
    np.testing.assert_allclose(out_f, out_t, rtol=1e-12, atol=0)


@pytest.mark.parametrize("make", [
    lambda o, M: M.StepLR(o, step_size=7, gamma=0.5),
    lambda o, M: M.MultiStepLR(o, milestones=[3, 10, 10, 25], gamma=0.3),
    lambda o, M: M.ExponentialLR(o, gamma=0.9),
    lambda o, M: M.CosineAnnealingLR(o, T_max=12, eta_min=0.001),
    lambda o, M: M.LinearLR(o, start_factor=0.25, total_iters=8),
    lambda o, M: M.LambdaLR(o, lambda e: 1.0 / (1 + e)),
    lambda o, M: M.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=0.001),
    lambda o, M: M.CosineAnnealingWarmRestarts(o, T_0=5),
    lambda o, M: M.ConstantLR(o, factor=0.5, total_iters=4),
    lambda o, M: M.MultiplicativeLR(o, lambda e: 0.95),
    lambda o, M: M.PolynomialLR(o, total_iters=10, power=2.0),
], ids=["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "LambdaLR", "SGDR-2-2", "SGDR-5",
        "ConstantLR", "MultiplicativeLR", "PolynomialLR"])
def test_schedules_match_torch(make):
    fo, to = pair()
    seq(make(fo, S), make(to, TS), fo, to)


def test_warm_restarts_fractional_epochs_and_chained_match_torch():
    fo, to = pair()
    fs = S.CosineAnnealingWarmRestarts(fo, T_0=3, T_mult=2, eta_min=0.01)
    ts = TS.CosineAnnealingWarmRestarts(to, T_0=3, T_mult=2, eta_min=0.01)
    for epoch in range(12):
        for i in range(4):
            fs.step(epoch + i / 4)
            ts.step(epoch + i / 4)
            assert fs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    fo, to = pair()
    fs = S.ChainedScheduler([S.ConstantLR(fo, factor=0.1, total_iters=2), S.ExponentialLR(fo, gamma=0.9)])
    ts = TS.ChainedScheduler([TS.ConstantLR(to, factor=0.1, total_iters=2), TS.ExponentialLR(to, gamma=0.9)])
    seq(fs, ts, fo, to, n=10)
    with pytest.raises(ValueError, match="T_0"):
        S.CosineAnnealingWarmRestarts(fo, T_0=0)
    with pytest.raises(ValueError, match="T_mult"):
        S.CosineAnnealingWarmRestarts(fo, T_0=2, T_mult=1.5)


def test_every_scheduler_is_an_lr_scheduler():
    for name in ("ReduceLROnPlateau", "CosineAnnealingWarmRestarts", "ChainedScheduler", "StepLR"):
        assert issubclass(getattr(S, name), S.LRScheduler)


def test_sequential_and_onecycle_match_torch():
    fo, to = pair()
    fs = S.SequentialLR(fo, [S.LinearLR(fo, 0.1, total_iters=5), S.ExponentialLR(fo, 0.9)], milestones=[5])
    ts = TS.SequentialLR(to, [TS.LinearLR(to, 0.1, total_iters=5), TS.ExponentialLR(to, 0.9)], milestones=[5])
    seq(fs, ts, fo, to)
    for name, kw in (("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01))):
        fo, to = pair(name, **kw)
        fs = S.OneCycleLR(fo, max_lr=[0.5, 0.2], total_steps=41)
        ts = TS.OneCycleLR(to, max_lr=[0.5, 0.2], total_steps=41)
        seq(fs, ts, fo, to)
        key = "momentum" if name == "SGD" else "betas"
        assert fo.param_groups[0][key] == pytest.approx(to.param_groups[0][key])


def test_reduce_on_plateau_matches_torch():
    fo, to = pair()
    fs = S.ReduceLROnPlateau(fo, patience=2, factor=0.5, cooldown=1, min_lr=[0.01, 0.001])
    ts = TS.ReduceLROnPlateau(to, patience=2, factor=0.5, cooldown=1, min_lr=[0.01, 0.001])
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.97, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    for m in metrics:
        fs.step(m)
        ts.step(m)
        assert fs.get_last_lr() == pytest.approx(ts.get_last_lr())
    assert fo.param_groups[0]["lr"] < 0.1


def test_course_exponential_schedule():
    fo, _ = pair()
    s = S.ExponentialLR.from_decade(fo, r=10)
    lrs = []
    for _ in range(21):
        lrs.append(s.get_last_lr()[0])
        s.step()
    np.testing.assert_allclose(lrs[10], 0.01, rtol=1e-12)
    np.testing.assert_allclose(lrs[20], 0.001, rtol=1e-12)
    fo2, _ = pair()
    s2 = S.ExponentialDecay(fo2, r=10)
    for _ in range(10):
        s2.step()
    assert s2.get_last_lr()[0] == pytest.approx(0.01)


def test_state_dict_round_trip_and_errors():
    fo, _ = pair()
    s = S.CosineAnnealingLR(fo, T_max=10)
    for _ in range(4):
        s.step()
    sd = s.state_dict()
    fo2, _ = pair()
    s2 = S.CosineAnnealingLR(fo2, T_max=10)
    s2.load_state_dict(sd)
    fo2.param_groups[0]["lr"], fo2.param_groups[1]["lr"] = fo.param_groups[0]["lr"], fo.param_groups[1]["lr"]
    s.step()
    s2.step()
    assert s.get_last_lr() == s2.get_last_lr()
    with pytest.raises(ValueError, match="step_size"):
        S.StepLR(fo, step_size=0)
    with pytest.raises(ValueError, match="factor"):
        S.ReduceLROnPlateau(fo, factor=1.5)
    with pytest.raises(ValueError, match="mode"):
        S.ReduceLROnPlateau(fo, mode="up")
