"""Transfer learning: freezing that freezes (parameters and batch-norm statistics, through train() and
fit), fastnn.transfer (independent copies, heads, input adapters, fine-tuning groups), the model zoo
(deterministic builds, checksums, registration, the CLI) and the course's scenario end to end."""
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import fastnn
from fastnn import nn, optim, transfer, zoo

pytest.importorskip("sklearn")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def zoo_home(tmp_path_factory):
    """One cache for the module (the entries build once); FASTNN_HOME points at it."""
    home = tmp_path_factory.mktemp("fastnn_home")
    old = os.environ.get("FASTNN_HOME")
    os.environ["FASTNN_HOME"] = str(home)
    yield home
    if old is None:
        del os.environ["FASTNN_HOME"]
    else:
        os.environ["FASTNN_HOME"] = old


def state(model):
    return {k: np.array(v).copy() for k, v in model.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def bn_net():
    fastnn.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 16),
                         nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 8)).astype(np.float32), rng.integers(0, 3, n)


@pytest.mark.parametrize("loop", ["fit", "pytorch"])
def test_frozen_layers_stay_bitwise_unchanged_batch_norm_included(loop):
    m = bn_net()
    m[:6].freeze()
    before = {k: v for k, v in state(m).items() if not k.startswith("7.")}
    X, y = data()
    opt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    if loop == "fit":
        fastnn.fit(m, X, y, loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=3, batch_size=16, verbose=0)
    else:
        lf = nn.CrossEntropyLoss()
        for _ in range(3):
            m.train()  # the course's loop calls train() every epoch: frozen layers stay frozen
            for i in range(0, 64, 16):
                opt.zero_grad()
                lf(m(fastnn.tensor(X[i:i + 16])), fastnn.tensor(y[i:i + 16])).backward()
                opt.step()
    after = state(m)
    assert same(before, {k: after[k] for k in before})
    assert not np.array_equal(after["7.weight"], bn_net().state_dict()["7.weight"].numpy())  # the head trained
    assert m[1].frozen  # frozen: running statistics in use, in training mode too
    assert m[1].training == (loop != "fit")  # fit leaves the model in eval mode


def test_frozen_batch_norm_normalizes_with_running_statistics_in_training_mode():
    bn = nn.BatchNorm1d(4)
    bn.running_mean._a[...] = [1, 2, 3, 4]
    bn.running_var._a[...] = [4, 4, 1, 1]
    bn.freeze().train()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    want = (x - [1, 2, 3, 4]) / np.sqrt(np.array([4, 4, 1, 1]) + bn.eps)
    np.testing.assert_allclose(bn(fastnn.tensor(x)).detach().numpy(), want, rtol=1e-5, atol=1e-6)
    bn(x[:1])  # one sample is fine: no batch statistics
    assert int(bn.num_batches_tracked._a) == 0
    bn.unfreeze()
    bn(x)
    assert int(bn.num_batches_tracked._a) == 1 and not np.allclose(bn.running_mean.numpy(), [1, 2, 3, 4])


def test_requires_grad_false_keeps_pytorchs_meaning():
    torch = pytest.importorskip("torch")
    m = bn_net()
    tm = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16))
    tm.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in m[:2].state_dict().items()})
    m.requires_grad_(False)
    tm.requires_grad_(False)
    X, _ = data()
    m[:2](fastnn.tensor(X))
    tm(torch.from_numpy(X))
    np.testing.assert_allclose(m[1].running_mean.numpy(), tm[1].running_mean.numpy(), rtol=1e-5, atol=1e-7)
    assert not np.allclose(m[1].running_mean.numpy(), 0)  # updated, as in torch


def test_frozen_layers_below_the_lowest_trainable_cost_no_backward():
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(4 * 4 * 4, 3))
    m[:5].freeze()
    calls = []
    for layer in m[:5]:
        orig = layer._bwd

        def spy(ctx, g, need, *rest, orig=orig, name=type(layer).__name__):
            calls.append(name)
            return orig(ctx, g, need, *rest)
        layer._bwd = spy
    X = np.random.default_rng(0).standard_normal((16, 1, 8, 8)).astype(np.float32)
    y = np.arange(16) % 3
    fastnn.fit(m, X, y, loss="cross_entropy", optimizer=optim.Adam(m.parameters()), epochs=1, batch_size=8,
               verbose=0)
    loss = nn.CrossEntropyLoss()(m(fastnn.tensor(X)), fastnn.tensor(y))
    loss.backward()
    assert calls == []


def test_take_copies_and_never_touches_the_source():
    src = bn_net()
    before = state(src)
    base = transfer.take(src, upto="2")
    assert list(base._modules) == ["0", "1", "2"] and base.frozen
    assert base[0].weight.data_ptr() != src[0].weight.data_ptr()
    model = transfer.build(base, head=lambda n: nn.Linear(n, 2), input_shape=(8,))
    X, _ = data()
    fastnn.fit(model, X, np.arange(64) % 2, loss="cross_entropy", optimizer=optim.Adam(model.parameters(), 1e-2),
               epochs=2, batch_size=16, verbose=0)
    transfer.unfreeze(model)
    fastnn.fit(model, X, np.arange(64) % 2, loss="cross_entropy", optimizer=optim.Adam(model.parameters(), 1e-2),
               epochs=2, batch_size=16, verbose=0)
    assert same(before, state(src))
    assert [n for n, _ in model.named_children()] == ["base", "head"]
    assert list(transfer.take(src, 3)._modules) == ["0", "1", "2"]
    assert list(transfer.take(src, names=["4", "0"])._modules) == ["0", "4"]
    assert list(transfer.take(src, upto=-2)._modules) == [str(i) for i in range(7)]
    assert not transfer.take(src, 2, freeze=False).frozen


@pytest.mark.parametrize("kw,match", [
    (dict(count=0), "count"), (dict(count=99), "count"), (dict(upto="nope"), "upto"), (dict(upto=42), "upto"),
    (dict(names=["x"]), "names"), (dict(count=2, upto="1"), "one of"),
])
def test_take_rejects_bad_selections_clearly(kw, match):
    with pytest.raises(ValueError, match=match):
        transfer.take(bn_net(), **kw)


def test_unfreeze_last_and_parameter_groups():
    model = transfer.build(transfer.take(bn_net(), upto="6"), head=nn.Linear(16, 2))
    assert transfer.param_groups(model, lr=1e-3)[0]["lr"] == 1e-3  # only the head trains
    assert len(transfer.param_groups(model, lr=1e-3)) == 1
    transfer.unfreeze(model, last=3)  # linear 4, batch norm 5, relu 6
    assert not model.base[4].frozen and model.base[0].frozen
    groups = transfer.param_groups(model, lr=1e-3, base_lr=1e-5)
    assert groups[0]["lr"] == 1e-5 and len(groups[0]["params"]) == 4  # 4.weight/bias, 5.weight/bias
    assert groups[1]["lr"] == 1e-3 and len(groups[1]["params"]) == 2
    opt = optim.Adam(groups)
    assert [g["lr"] for g in opt.param_groups] == [1e-5, 1e-3]
    transfer.freeze_base(model)
    assert model.base[4].frozen
    with pytest.raises(ValueError, match="last"):
        transfer.unfreeze(model, last=9)


def test_input_adapter_resizes_and_adapts_channels():
    F = nn.functional
    x = np.random.default_rng(0).random((3, 1, 16, 16)).astype(np.float32)
    a = transfer.input_adapter((1, 16, 16), (1, 8, 8))
    want = F.interpolate(fastnn.tensor(x), size=(8, 8), mode="bilinear", align_corners=False).numpy()
    np.testing.assert_allclose(a(fastnn.tensor(x)).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(want, x.reshape(3, 1, 8, 2, 8, 2).mean(axis=(3, 5)), rtol=1e-5, atol=1e-6)
    rgb = transfer.input_adapter((1, 16, 16), (3, 8, 8))(fastnn.tensor(x)).numpy()
    assert rgb.shape == (3, 3, 8, 8) and np.array_equal(rgb[:, 0], rgb[:, 2])
    col = np.random.default_rng(1).random((2, 3, 4, 4)).astype(np.float32)
    grey = transfer.input_adapter((3, 4, 4), (1, 4, 4))(fastnn.tensor(col)).numpy()
    np.testing.assert_allclose(grey[:, 0], 0.299 * col[:, 0] + 0.587 * col[:, 1] + 0.114 * col[:, 2], rtol=1e-5)
    flat = transfer.input_adapter((1, 16, 16), (1, 8, 8), flat=True)
    assert flat(fastnn.tensor(x.reshape(3, -1))).shape == (3, 64)
    assert not any(p.requires_grad for p in flat.parameters())
    with pytest.raises(ValueError, match="channels"):
        transfer.input_adapter((2, 4, 4), (3, 4, 4))


def test_features_match_the_base_in_eval_mode():
    base = transfer.take(bn_net(), upto="6")
    X, _ = data(100)
    f = transfer.features(base, X, batch_size=32)
    base.eval()
    np.testing.assert_allclose(f, base(fastnn.tensor(X)).numpy(), rtol=1e-6, atol=1e-6)
    assert base.training is False


def test_load_state_dict_reports_what_it_skipped_and_takes_torch_state_dicts():
    torch = pytest.importorskip("torch")
    m = bn_net()
    sd = m.state_dict()
    head = {k: v for k, v in sd.items() if not k.startswith("7.")}
    res = bn_net().load_state_dict(head, strict=False)
    assert res.missing_keys == ["7.weight", "7.bias"] and res.unexpected_keys == []
    tm = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                             torch.nn.Linear(16, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    fresh = bn_net()
    fresh.load_state_dict(tm.state_dict())
    fresh.eval(), tm.eval()
    X, _ = data()
    np.testing.assert_allclose(fresh(fastnn.tensor(X)).detach().numpy(), tm(torch.from_numpy(X)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_zoo_builds_deterministically_loads_fast_and_refuses_tampering(zoo_home):
    name = "digits-mlp-0to4"
    assert name in zoo.names() and not zoo.info(name)["built"]
    seed_state = fastnn.default_generator.get_state()
    a = state(zoo.build(name, verbose=0))
    assert fastnn.default_generator.get_state() == seed_state  # the caller's random stream is untouched
    info = zoo.info(name)
    assert info["built"] and info["metrics"]["test_accuracy"] > 0.95 and len(info["sha256"]) == 64
    b = state(zoo.build(name, force=True, verbose=0))
    assert same(a, b)  # bitwise identical weights from the recipe
    zoo.load(name)
    t0 = time.perf_counter()
    m = zoo.load(name)
    assert time.perf_counter() - t0 < 0.05
    assert same(a, state(m)) and not m.training
    p = zoo.path(name)
    raw = bytearray(open(p, "rb").read())
    raw[-200] ^= 1
    open(p, "wb").write(bytes(raw))
    with pytest.raises(ValueError, match="SHA-256"):
        zoo.load(name)
    zoo.build(name, force=True, verbose=0)
    assert same(a, state(zoo.load(name)))
    with pytest.raises(KeyError, match="no zoo entry"):
        zoo.load("resnet-152")


def test_zoo_register_a_users_checkpoint(zoo_home, tmp_path):
    m = bn_net()
    f = tmp_path / "mine.pt"
    fastnn.save(m, f)
    man = zoo.register("my-net", f, description="mine", metrics={"accuracy": 0.5})
    assert "my-net" in zoo.names() and man["sha256"]
    assert same(state(m), state(zoo.load("my-net")))
    with pytest.raises(ValueError, match="already registered"):
        zoo.register("my-net", f)
    with pytest.raises(ValueError, match="built-in"):
        zoo.register("digits-mlp-0to4", f)
    fastnn.save(m.state_dict(), tmp_path / "sd.pt")
    with pytest.raises(ValueError, match="not a model"):
        zoo.register("sd-only", tmp_path / "sd.pt")
    assert transfer.layer_names("my-net") == [str(i) for i in range(8)]


def test_zoo_command_line(zoo_home):
    env = dict(os.environ, FASTNN_HOME=str(zoo_home))
    run = lambda *a: subprocess.run([sys.executable, "-m", "fastnn.cli", "zoo", *a], capture_output=True, text=True,
                                    env=env, cwd=str(zoo_home), timeout=300)
    r = run("list")
    assert r.returncode == 0 and "digits-cnn-0to4" in r.stdout and "mnist1d-cnn" in r.stdout
    r = run("build", "digits-autoencoder")
    assert r.returncode == 0 and r.stdout.strip().endswith("model.fnn")
    r = run("info", "digits-autoencoder")
    info = json.loads(r.stdout)
    assert info["built"] and info["metrics"]["test_reconstruction_mse"] < 0.5 * info["metrics"][
        "baseline_mse_of_the_mean_image"]
    assert run("path", "digits-autoencoder").stdout.strip() == zoo.path("digits-autoencoder")
    r = run("info", "nope")
    assert r.returncode == 2 and "no zoo entry" in r.stderr


def test_course_scenario_digits_0_to_4_reused_for_5_to_9(zoo_home):
    spec = importlib.util.spec_from_file_location("transfer_digits", EXAMPLES / "transfer_digits.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    before = state(zoo.load(ex.BASE, verbose=0))
    r = ex.run(per_class=5, seed=0)
    assert r["head_only"] > 0.8 and r["fine_tuned"] > 0.8 and r["scratch"] > 0.7
    r16 = ex.run(per_class=5, seed=0, size=16)  # the new task's images at 16x16, resized for the base
    assert r16["head_only"] > 0.8
    assert same(before, state(zoo.load(ex.BASE, verbose=0)))
