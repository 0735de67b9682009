import tracemalloc

import numpy as np
import pytest

import fastnn
from fastnn import nn
from _helpers import randn


def mlp(seed=0, p=0.5):
    fastnn.manual_seed(seed)
    return nn.Sequential(nn.Linear(20, 16), nn.BatchNorm1d(16), nn.ELU(), nn.Dropout(p), nn.Linear(16, 4))


def step(m, lf, x, t):
    y = m(x)
    loss = lf(y, t)
    m.zero_grad()
    m.backward(lf.backward(), need_input_grad=False)
    return loss


def test_arena_views_and_zero_grad():
    m = mlp()
    r = m.arena()
    assert r.data.size == m.num_parameters() == 20 * 16 + 16 + 32 + 16 * 4 + 4
    for p in m.parameters():
        assert p.data.numpy().base is r.arena.data and p.grad.numpy().base is r.arena.grad
    r.data[:] = 1.5
    assert np.all(m[0].weight.data == 1.5)
    r.grad[:] = 3
    m.zero_grad()
    assert not r.grad.any()
    kinds = [p.kind for p in m.parameters()]
    assert kinds == ["weight", "bias", "norm", "norm", "weight", "bias"]


def test_slicing_shares_parameters_and_transfer_repack():
    m = mlp()
    head = m[:3]
    assert head[0].weight is m[0].weight
    assert head.arena().arena is m.arena().arena  # a prefix keeps the parent's arena range
    new = nn.Sequential(*m[:3], nn.Linear(16, 2))
    assert new[0].weight is m[0].weight
    before = m[0].weight.data.clone()
    r = new.arena()
    np.testing.assert_array_equal(m[0].weight.data, before)  # moved, values preserved
    assert m[0].weight.data.numpy().base is r.arena.data


def test_train_eval_behaviour():
    x = randn((64, 20), np.float32, 1)
    m = mlp(p=0.5)
    m.train()
    a, b = m(x).copy(), m(x).copy()
    assert not np.array_equal(a, b)  # fresh dropout mask each step
    m.eval()
    c, d = m(x).copy(), m(x).copy()
    np.testing.assert_array_equal(c, d)
    # BatchNorm: training updates running statistics, eval does not
    bn = nn.BatchNorm1d(20)
    bn(x)
    rm = bn.running_mean.clone()
    np.testing.assert_allclose(rm, 0.1 * x.mean(axis=0), rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    bn(x)
    np.testing.assert_array_equal(bn.running_mean, rm)
    # Dropout: zeros about p of the units, identity in eval
    dr = nn.Dropout(0.25)
    z = dr(np.ones((200, 500), np.float32))
    assert abs((z == 0).mean() - 0.25) < 0.01 and set(np.unique(z)) == {0.0, np.float32(1 / 0.75)}
    dr.eval()
    assert dr(x) is x
    # RReLU: random slopes in training, mean slope in eval
    rr = nn.RReLU(0.1, 0.3)
    neg = -np.ones((100, 100), np.float32)
    s = -rr(neg)
    assert s.min() >= 0.1 and s.max() <= 0.3 and s.std() > 0.03
    rr.eval()
    np.testing.assert_allclose(rr(neg), -0.2)


def test_same_seed_same_model_and_run_whatever_threads():
    x = randn((32, 20), np.float32, 2)
    t = np.random.default_rng(0).integers(0, 4, 32)
    res = []
    for nt in (1, 2, 3):
        with fastnn.set_num_threads(nt):
            m = mlp(seed=7)
            lf = nn.CrossEntropyLoss()
            losses = [step(m, lf, x, t) for _ in range(3)]
            res.append((losses, m.arena().grad.copy(), m.state_dict()))
    for losses, g, sd in res[1:]:
        assert losses == res[0][0]
        np.testing.assert_array_equal(g, res[0][1])


def test_state_dict_round_trip_and_torch_keys():
    m = mlp(seed=1)
    x = randn((16, 20), np.float32, 3)
    m(x)  # move running stats
    sd = m.state_dict()
    m2 = mlp(seed=2)
    res = m2.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    m.eval(), m2.eval()
    np.testing.assert_array_equal(m(x), m2(x))
    torch = pytest.importorskip("torch")
    tm = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.BatchNorm1d(16), torch.nn.ELU(),
                             torch.nn.Dropout(0.5), torch.nn.Linear(16, 4))
    assert list(tm.state_dict().keys()) == list(sd.keys())


def test_load_state_dict_refusals_change_nothing():
    m = mlp()
    before = {k: v.clone() for k, v in m.state_dict().items()}  # state_dict shares memory, as torch's
    sd = m.state_dict()
    sd["0.weight"] = np.zeros((3, 3), np.float32)
    with pytest.raises(ValueError, match=r"size mismatch for 0.weight: copying a param with shape \(3, 3\), the "
                       r"shape in the current model is \(16, 20\)"):
        m.load_state_dict(sd)
    sd = m.state_dict()
    sd["extra.weight"] = np.zeros(2)
    del sd["4.bias"]
    sd["0.bias"] = sd["0.bias"] + 1
    with pytest.raises(KeyError, match=r"missing keys \['4.bias'\], unexpected keys \['extra.weight'\]"):
        m.load_state_dict(sd)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    res = m.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["4.bias"] and res.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(m[0].bias.data, before["0.bias"] + 1)


def test_freeze_skips_lower_layers_in_backward():
    def traced(m):
        calls = []
        for i, layer in enumerate(m):  # the chain calls each layer's kernel pair backward
            orig = layer._bwd
            layer._bwd = (lambda o, i: lambda ctx, g, need_input_grad, *rest:
                          (calls.append((i, need_input_grad)), o(ctx, g, need_input_grad, *rest))[1])(orig, i)
        return calls

    x = randn((8, 20), np.float32, 4)
    lf = nn.CrossEntropyLoss()
    m = mlp(p=0.0)
    m[0].freeze()
    m[1].freeze()
    calls = traced(m)
    lf(m(x), np.zeros(8, np.int64))
    m.zero_grad()
    m.backward(lf.backward(), need_input_grad=False)
    assert calls == [(4, False)]  # nothing below the lowest trainable layer runs
    assert m[0].weight.grad is None and m[1].weight.grad is None  # frozen: no gradient, as torch
    assert not m[0].weight._g.any() and not m[1].weight._g.any() and m[4].weight.grad.any()
    m2 = mlp(p=0.0)
    m2[0].freeze()
    calls = traced(m2)
    lf(m2(x), np.zeros(8, np.int64))
    m2.backward(lf.backward(), need_input_grad=False)
    assert calls == [(4, True), (3, True), (2, True), (1, False)]
    assert m2[0].weight.grad is None and not m2[0].weight._g.any() and m2[1].weight.grad.any()
    m.unfreeze()
    assert m.num_parameters(trainable_only=True) == m.num_parameters()


def test_zero_allocation_steady_step():
    m = mlp(p=0.2)
    lf = nn.CrossEntropyLoss()
    x = randn((128, 20), np.float32, 5)
    t = np.random.default_rng(0).integers(0, 4, 128)
    for _ in range(3):
        step(m, lf, x, t)
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(5):
            step(m, lf, x, t)
        cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # one activation array of this model is 128 * 16 * 4 = 8 KiB; nothing of that size may appear
    assert peak - base < 4096, f"a steady step allocated {peak - base} bytes"
    assert cur - base < 1024


def test_bad_inputs_name_the_layer():
    m = mlp()
    with pytest.raises(ValueError, match=r"Linear\(20\u219216\) got input of shape \(32, 100\)"):
        m(np.zeros((32, 100), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(5\) got input of shape \(3, 4\)"):
        nn.BatchNorm1d(5)(np.zeros((3, 4), np.float32))
    with pytest.raises(TypeError, match="expected a numeric array"):
        nn.Linear(2, 2)(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="in_features: expected a positive int"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="init: expected one of"):
        nn.Linear(2, 3, init="magic")
    with pytest.raises(ValueError, match="p: expected a probability"):
        nn.Dropout(1.5)
    # float64 and int inputs are converted once to the model's dtype
    y = m(np.zeros((4, 20), np.int64))
    assert y.dtype == np.float32


def test_nan_passes_through_and_check_finite():
    m = mlp()
    x = randn((4, 20), np.float32, 6)
    x[0, 0] = np.nan
    m.eval()
    assert np.isnan(m(x)[0]).all()
    assert nn.utils.check_finite(m) == []
    m[0].weight.data[0, 0] = np.inf
    assert nn.utils.check_finite(m) == ["0.weight"]


def test_repr_and_summary():
    m = mlp()
    r = repr(m)
    assert "(0): Linear(in_features=20, out_features=16, bias=True)" in r
    assert "(3): Dropout(p=0.5)" in r
    s = m.summary((20,))
    assert "(None, 4)" in s and "Total params: 1,000" not in s and f"{m.num_parameters():,}" in s


def test_model_manual_seed_replays_dropout_masks():
    m = mlp(p=0.5)
    x = randn((16, 20), np.float32, 9)
    m.manual_seed(42)
    a = m(x).copy()
    fastnn.manual_seed(123)  # the global generator does not matter any more
    m.manual_seed(42)
    np.testing.assert_array_equal(m(x), a)
    m.manual_seed(43)
    assert not np.array_equal(m(x), a)
    with pytest.raises(ValueError, match="seed"):
        m.manual_seed(-1)


def test_training_steps_bitwise_identical_across_threads_with_split_products():
    """Layers large enough that fastnn splits their products over threads."""
    x = randn((64, 784), np.float32, 3)
    t = np.random.default_rng(1).integers(0, 10, 64)
    res = []
    for nt in (1, 2, 3):
        with fastnn.set_num_threads(nt):
            fastnn.manual_seed(5)
            m = nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10))
            lf = nn.CrossEntropyLoss()
            losses = [step(m, lf, x, t) for _ in range(2)]
            res.append((losses, m.arena().grad.copy()))
    for losses, g in res[1:]:
        assert losses == res[0][0]
        np.testing.assert_array_equal(g, res[0][1])
