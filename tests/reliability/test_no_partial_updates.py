"""A call that fails changes nothing: optimizers, batch norm, containers, fit, load_state_dict --
checked bit for bit with a snapshot of parameters, gradients, buffers, modes and optimizer state."""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import nn, optim
from _helpers import assert_nothing_changed, state_snapshot


def model(seed=0, bn=True):
    fastnn.manual_seed(seed)
    layers = [nn.Linear(6, 8)] + ([nn.BatchNorm1d(8)] if bn else []) + [nn.ReLU(), nn.Linear(8, 3)]
    return nn.Sequential(*layers)


def trained(m, opt, steps=2):
    x, y = fastnn.randn(16, 6), fastnn.randint(0, 3, (16,))
    for _ in range(steps):
        opt.zero_grad()
        nn.CrossEntropyLoss()(m(x), y).backward()
        opt.step()


def test_step_with_one_bad_group_updates_nothing_and_counts_nothing():
    m = model()
    opt = optim.Adam([{"params": m[0].parameters()}, {"params": list(m[1].parameters()) + list(m[3].parameters())}],
                     lr=1e-2)
    trained(m, opt)
    nn.CrossEntropyLoss()(m(fastnn.randn(4, 6)), fastnn.randint(0, 3, (4,))).backward()
    opt.param_groups[1]["lr"] = -1
    before = state_snapshot(m, opt)
    with pytest.raises(ValueError, match="lr: expected a number >= 0"):
        opt.step()
    assert_nothing_changed(before, state_snapshot(m, opt))
    opt.param_groups[1]["lr"] = 1e-2
    opt.step()  # fixed: steps again, counters continue from where they were
    assert set(opt._steps.values()) == {3}


def test_load_state_dict_with_a_bad_value_changes_nothing():
    m = model()
    opt = optim.Adam(m.parameters(), lr=1e-2)
    trained(m, opt)
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.5
    sd["state"][0]["step"] = "x"
    before = state_snapshot(m, opt)
    with pytest.raises(ValueError, match="'step' of parameter 0 must be an integer"):
        opt.load_state_dict(sd)
    assert_nothing_changed(before, state_snapshot(m, opt))
    sd = opt.state_dict()
    sd["param_groups"][0]["betas"] = (2.0, 0.9)
    with pytest.raises(ValueError, match="betas"):
        opt.load_state_dict(sd)
    assert_nothing_changed(before, state_snapshot(m, opt))


def test_batchnorm_refuses_a_one_sample_training_batch_before_touching_its_statistics():
    for momentum in (0.1, None):
        bn = nn.BatchNorm1d(4, momentum=momentum)
        bn(fastnn.randn(8, 4))
        before = state_snapshot(bn)
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            bn(fastnn.randn(1, 4))
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            bn(np.ones((1, 4), np.float32))
        assert_nothing_changed(before, state_snapshot(bn))
    bn.eval()
    assert bn(fastnn.randn(1, 4)).shape == (1, 4)  # inference on one sample is fine


def test_fit_merges_a_last_batch_of_one_for_batch_norm():
    X = np.random.default_rng(0).standard_normal((33, 6)).astype(np.float32)  # 33 = 2 * 16 + 1
    y = np.random.default_rng(1).integers(0, 3, 33)
    m = model()
    h = fastnn.fit(m, X, y, loss="cross_entropy", optimizer="adam", epochs=2, batch_size=16, verbose=0)
    assert len(h) == 2 and m[1].num_batches_tracked.item() == 4  # two batches of 16 and 17 per epoch


def test_fit_failing_in_its_first_step_changes_nothing():
    m = model()
    opt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    before = state_snapshot(m, opt)

    def broken_loss(out, target):
        raise RuntimeError("loss exploded on purpose")

    X, y = np.ones((8, 6), np.float32), np.zeros(8, np.int64)
    with pytest.raises(RuntimeError, match="on purpose"):
        fastnn.fit(m, X, y, loss=broken_loss, optimizer=opt, epochs=1, batch_size=4, verbose=0)
    assert_nothing_changed(before, state_snapshot(m, opt))


def test_containers_and_groups_with_the_other_dtype_change_nothing():
    m = model()
    opt = optim.SGD(m.parameters(), lr=0.1)
    before = state_snapshot(m, opt)
    with pytest.raises(TypeError, match="dtype"):
        m.append(nn.Linear(3, 2, dtype=np.float64))
    with pytest.raises(TypeError, match="one dtype"):
        opt.add_param_group({"params": nn.Linear(3, 2, dtype=np.float64).parameters()})
    assert_nothing_changed(before, state_snapshot(m, opt))
    assert len(m) == 4 and len(opt.param_groups) == 1
    trained(m, opt, 1)  # both still work


def test_nan_recovery_restores_the_last_finite_state_exactly():
    """The reproducer: a huge learning rate and one batch per epoch. The first step gives finite but
    garbage weights; the next epoch's first loss is non-finite; the weights and optimizer state of the
    start of the previous epoch come back, bit for bit, with a warning even at verbose=0."""
    X = np.random.default_rng(0).standard_normal((64, 6)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, 64)
    m = model(bn=False)
    opt = optim.SGD(m.parameters(), lr=1e30, momentum=0.9)
    before = state_snapshot(m, opt, grads=False)  # (gradients are transient: fit zeroes them each step)
    with pytest.warns(RuntimeWarning, match="non-finite loss"):
        h = fastnn.fit(m, X, y, loss="cross_entropy", optimizer=opt, epochs=3, batch_size=len(X), verbose=0)
    assert h.terminated_on_nan
    after = state_snapshot(m, opt, grads=False)
    after["modes"] = before["modes"]  # fit leaves the model in training mode
    assert_nothing_changed(before, after)
    assert max(np.abs(p.detach().numpy()).max() for p in m.parameters()) < 10


def test_non_finite_targets_are_refused_before_training():
    m = model()
    opt = optim.Adam(m.parameters())
    before = state_snapshot(m, opt)
    X = np.ones((8, 6), np.float32)
    yr = np.ones((8, 3), np.float32)
    yr[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"y: contains NaN or Inf \(first at sample 3\)"):
        fastnn.fit(m, X, yr, loss="mse", optimizer=opt, epochs=1, verbose=0)
    assert_nothing_changed(before, state_snapshot(m, opt))


def test_clip_grad_norm_on_non_finite_gradients():
    m = model(bn=False)
    nn.CrossEntropyLoss()(m(fastnn.randn(4, 6)), fastnn.randint(0, 3, (4,))).backward()
    m[0].weight.grad[0, 0] = float("inf")
    before = state_snapshot(m)
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(m.parameters(), 1.0, error_if_nonfinite=True)
    assert_nothing_changed(before, state_snapshot(m))
    total = nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    assert isinstance(total, fastnn.Tensor) and total.item() == float("inf") and not isinstance(total.item(), complex)
    m[0].weight.grad[0, 0] = float("nan")
    assert np.isnan(nn.utils.clip_grad_norm_(m.parameters(), 1.0).item())
    X = np.random.default_rng(0).standard_normal((32, 6)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = fastnn.fit(model(bn=False), X, y, loss="cross_entropy", optimizer="sgd", epochs=2, clip_grad_norm=1.0,
                       verbose=0)
    assert len(h) == 2
