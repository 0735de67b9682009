import os
import signal

import numpy as np
import pytest

import fastnn
from fastnn import nn, optim, training
from fastnn.optim import lr_scheduler as S


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    idx = np.random.default_rng(0).permutation(len(X))
    X, y = X[idx], y[idx]
    return X[:1400], y[:1400], X[1400:], y[1400:]


def net(seed=0, p=0.2):
    fastnn.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 128, init="he_normal"), nn.BatchNorm1d(128), nn.ELU(), nn.Dropout(p),
                         nn.Linear(128, 10))


def test_digits_reaches_95_percent(digits):
    Xtr, ytr, Xte, yte = digits
    m = net()
    h = fastnn.fit(m, Xtr, ytr, loss="cross_entropy", optimizer=optim.SGD(m, lr=0.05, momentum=0.9, nesterov=True),
                   epochs=15, batch_size=32, validation_split=0.1, seed=0, verbose=0)
    res = fastnn.evaluate(m, Xte, yte, loss=nn.CrossEntropyLoss())
    assert res["accuracy"] >= 0.95
    assert len(h) == 15 and set(h.keys()) >= {"loss", "accuracy", "val_loss", "val_accuracy", "gap", "lr",
                                               "seconds", "samples_per_sec"}
    gap = np.array(h["gap"])
    np.testing.assert_allclose(gap, (1 - np.array(h["val_accuracy"])) - (1 - np.array(h["accuracy"])))
    p = fastnn.predict(m, Xte)
    assert p.shape == (len(Xte), 10) and (p.argmax(1) == yte).mean() == pytest.approx(res["accuracy"])


def test_same_seed_same_run(digits):
    Xtr, ytr, _, _ = digits
    hs = []
    for nt in (1, 2):
        with fastnn.set_num_threads(nt):
            m = net(3)
            hs.append((fastnn.fit(m, Xtr[:500], ytr[:500], loss="cross_entropy", optimizer="adam", epochs=3,
                                  seed=5, verbose=0, transform=None), m.state_dict()))
    assert hs[0][0]["loss"] == hs[1][0]["loss"]
    for k, v in hs[0][1].items():
        np.testing.assert_array_equal(v, hs[1][1][k])


def test_early_stopping_restores_best_weights_exactly():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    Xv = rng.standard_normal((32, 5)).astype(np.float32)
    yv = rng.integers(0, 3, 32)  # random labels: validation loss soon rises
    fastnn.manual_seed(1)
    m = nn.Sequential(nn.Linear(5, 64), nn.ReLU(), nn.Linear(64, 3))
    snaps = []

    class Keep(training.Callback):
        def on_epoch_end(self, epoch, logs):
            snaps.append(m.arena().data.copy())

    es = training.EarlyStopping(patience=3)
    h = fastnn.fit(m, X, y, loss="cross_entropy", optimizer=optim.Adam(m, lr=0.05), epochs=100,
                   validation_data=(Xv, yv), callbacks=[Keep(), es], verbose=0, seed=0)
    vl = h["val_loss"]
    best = int(np.argmin(vl))
    assert h.stopped_early and len(h) == best + 1 + 3  # stopped exactly `patience` epochs after the best
    assert es.best_epoch == best
    np.testing.assert_array_equal(m.arena().data, snaps[best])


def test_reduce_lr_on_plateau_lowers_the_rate():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    fastnn.manual_seed(2)
    m = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 3))
    opt = optim.SGD(m, lr=0.5)
    sched = S.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    h = fastnn.fit(m, X, y, loss="cross_entropy", optimizer=opt, epochs=25, scheduler=sched,
                   validation_data=(rng.standard_normal((32, 5)).astype(np.float32), rng.integers(0, 3, 32)),
                   verbose=0, seed=0)
    assert min(h["lr"]) < 0.5 and h["lr"] == sorted(h["lr"], reverse=True)


def test_per_batch_scheduler_and_callbacks(tmp_path, digits):
    Xtr, ytr, _, _ = digits
    m = net()
    opt = optim.SGD(m, lr=0.1, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=0.2, epochs=2, steps_per_epoch=-(-300 // 32))
    csv_path = tmp_path / "log.csv"
    ck = tmp_path / "best.npz"
    h = fastnn.fit(m, Xtr[:300], ytr[:300], loss="cross_entropy", optimizer=opt, epochs=2, scheduler=sched,
                   validation_split=0.2, verbose=0, clip_grad_norm=1.0,
                   callbacks=[training.CSVLogger(csv_path), training.ModelCheckpoint(ck, save_best_only=True),
                              training.LearningRateScheduler(lambda e, lr: lr)])
    assert sched.last_epoch == 2 * 8
    assert csv_path.read_text().splitlines()[0].startswith("epoch,loss,accuracy")
    assert fastnn.load(ck).get_config() == m.get_config()
    h.to_csv(tmp_path / "h.csv")
    assert "val_loss" in (tmp_path / "h.csv").read_text()
    pytest.importorskip("matplotlib")
    assert os.path.getsize(h.plot(tmp_path / "c.png")) > 1000


def test_nan_loss_stops_and_restores_last_finite_parameters():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 4)).astype(np.float32) * 100
    y = rng.standard_normal((256, 1)).astype(np.float32) * 1e4
    fastnn.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    starts = []

    class Keep(training.Callback):
        def on_epoch_begin(self, epoch, logs):
            starts.append(m.arena().data.copy())

    with pytest.warns(RuntimeWarning, match="non-finite loss"):
        h = fastnn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m, lr=10.0), epochs=20, callbacks=[Keep()],
                       verbose=0)
    assert h.terminated_on_nan
    assert np.isfinite(m.arena().data).all()
    np.testing.assert_array_equal(m.arena().data, starts[len(h)])


def test_ctrl_c_stops_after_the_current_step(digits):
    Xtr, ytr, _, _ = digits
    m = net()
    steps = []

    class Interrupt(training.Callback):
        def on_batch_end(self, batch, logs):
            steps.append(batch)
            if len(steps) == 5:
                os.kill(os.getpid(), signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    h = fastnn.fit(m, Xtr, ytr, loss="cross_entropy", optimizer="adam", epochs=5, callbacks=[Interrupt()],
                   verbose=0)
    assert h.interrupted and len(h) == 1 and len(steps) == 5
    assert np.isfinite(m.arena().data).all()
    assert signal.getsignal(signal.SIGINT) == before  # the caller's handler is back


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(y=np.zeros(10, np.int64)), ValueError, r"X, y: different numbers of samples \(20 and 10\)"),
    (dict(y=np.full(20, 12)), ValueError, r"y: labels must lie in \[0, 10\)"),
    (dict(y=np.full(20, -1)), ValueError, r"y: labels must lie in \[0, 10\)"),
    (dict(X=np.zeros((20, 30), np.float32)), ValueError, r"Linear\(64\u2192128\) got input of shape"),
    (dict(X=np.zeros((0, 64), np.float32), y=np.zeros(0, np.int64)), ValueError, "empty dataset"),
    (dict(validation_split=1.0), ValueError, r"validation_split: expected a fraction in \[0, 1\)"),
    (dict(validation_split=-0.1), ValueError, "validation_split"),
    (dict(epochs=0), ValueError, "epochs"),
    (dict(loss="hinge"), ValueError, "loss: unknown name"),
    (dict(optimizer="lbfgs"), ValueError, "optimizer: unknown name"),
    (dict(y=np.zeros(20, np.float32)), TypeError, "integer class labels"),
])
def test_bad_inputs_before_training(kwargs, exc, msg):
    m = net()
    before = m.state_dict()
    args = dict(X=np.zeros((20, 64), np.float32), y=np.zeros(20, np.int64), loss="cross_entropy",
                optimizer="sgd", epochs=1, verbose=0)
    args.update(kwargs)
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(exc, match=msg):
        fastnn.fit(m, X, y, **args)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_nan_input_refused():
    X = np.zeros((20, 64), np.float32)
    X[7, 3] = np.nan
    with pytest.raises(ValueError, match=r"X: contains NaN or Inf \(first at sample 7\)"):
        fastnn.fit(net(), X, np.zeros(20, np.int64), loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0)
    with pytest.raises(ValueError, match="monitors 'val_loss' but fit has no validation data"):
        fastnn.fit(net(), np.zeros((20, 64), np.float32), np.zeros(20, np.int64), loss="cross_entropy",
                   optimizer="sgd", epochs=1, verbose=0, callbacks=[training.EarlyStopping()])


def test_augmented_training_on_images():
    rng = np.random.default_rng(0)
    X = rng.random((64, 1, 8, 8)).astype(np.float32)
    y = (X[:, 0, :4].mean(axis=(1, 2)) > X[:, 0, 4:].mean(axis=(1, 2))).astype(np.int64)
    fastnn.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2))
    from fastnn import augment as D
    h = fastnn.fit(m, X, y, loss="cross_entropy", optimizer="adam", epochs=3, verbose=0, seed=1,
                   transform=D.BatchCompose([D.BatchRandomHorizontalFlip(), D.BatchColorJitter(brightness=0.2)]))
    assert len(h) == 3 and np.isfinite(h["loss"]).all()


def test_accuracy_only_where_it_means_something():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3)).astype(np.float32)
    yr = (X @ np.array([1.0, -2.0, 0.5], np.float32))[:, None]
    fastnn.manual_seed(0)
    reg = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    h = fastnn.fit(reg, X, yr, loss="mse", optimizer="adam", epochs=2, verbose=0, validation_split=0.25)
    assert "accuracy" not in h.keys() and h["gap"][0] == pytest.approx(h["val_loss"][0] - h["loss"][0])
    yb = (yr > 0).astype(np.float32)
    clf = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    h = fastnn.fit(clf, X, yb, loss="bce_with_logits", optimizer=optim.Adam(clf, lr=0.05), epochs=30, verbose=0)
    assert h["accuracy"][-1] > 0.9
    res = fastnn.evaluate(clf, X, yb, loss=nn.BCEWithLogitsLoss())
    manual = np.mean((fastnn.predict(clf, X) > 0) == (yb > 0.5))
    assert res["accuracy"] == pytest.approx(manual)


def _fit_state(model_fn, X, y, assign, monkeypatch, **kw):
    from fastnn.training import _step
    monkeypatch.setattr(_step, "chain_writes_each_once",
                        (lambda m, o: _step.__dict__["_real_chain_check"](m, o)) if assign else (lambda m, o: False))
    m = model_fn()
    opt = kw.pop("opt")(m)
    fastnn.fit(m, X, y, loss="cross_entropy", optimizer=opt, epochs=2, batch_size=32, seed=1, verbose=0, **kw)
    return m.state_dict(), {id(p): p.grad.numpy().copy() for p in m.parameters()}, m


@pytest.mark.parametrize("opt", [lambda m: optim.Adam(m, lr=1e-3),
                                 lambda m: optim.SGD(m, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)])
def test_assigned_gradients_train_exactly_as_zeroed_and_added(digits, monkeypatch, opt):
    """fit's step assigns each parameter's gradient when its chain writes every one exactly once
    (no zero_grad pass); the run is bitwise the one zero_grad + accumulation gives, gradients included."""
    from fastnn.training import _step
    monkeypatch.setattr(_step, "_real_chain_check", _step.chain_writes_each_once, raising=False)
    Xtr, ytr, _, _ = digits

    def model():
        fastnn.manual_seed(4)
        return nn.Sequential(nn.Conv1d(1, 4, 3, padding=1), nn.PReLU(4), nn.Flatten(), nn.Linear(256, 64),
                             nn.BatchNorm1d(64), nn.ELU(), nn.Dropout(0.1), nn.Linear(64, 10))

    X = Xtr[:600, None, :]
    m = model()
    assert _step.chain_writes_each_once(m, opt(m))
    a_sd, a_g, _ = _fit_state(model, X, ytr[:600], True, monkeypatch, opt=opt, clip_grad_norm=1.0)
    b_sd, b_g, _ = _fit_state(model, X, ytr[:600], False, monkeypatch, opt=opt, clip_grad_norm=1.0)
    for k in a_sd:
        np.testing.assert_array_equal(a_sd[k], b_sd[k])
    for x, y in zip(a_g.values(), b_g.values()):
        np.testing.assert_array_equal(x, y)


def test_gradients_are_added_where_a_chain_writes_one_twice():
    """A layer used twice in a Sequential, tied weights, a parameter the chain never writes, a frozen
    layer: assignment only where it cannot lose a contribution."""
    from fastnn.training._step import chain_writes_each_once as once
    lin, act = nn.Linear(8, 8), nn.ReLU()
    shared = nn.Sequential(lin, act, lin)
    assert not once(shared, optim.SGD(shared, lr=0.1))
    a, b = nn.Linear(8, 8), nn.Linear(8, 8)
    b.weight = a.weight
    tied = nn.Sequential(a, act, b)
    assert not once(tied, optim.SGD(tied, lr=0.1))
    m, extra = nn.Sequential(nn.Linear(8, 4)), nn.Linear(3, 3)
    assert not once(m, optim.SGD(list(m.parameters()) + list(extra.parameters()), lr=0.1))
    frozen = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    frozen[0].freeze()
    assert once(frozen, optim.SGD(frozen, lr=0.1))
    assert once(frozen, optim.SGD(frozen[2].parameters(), lr=0.1))


def test_layer_used_twice_still_trains_like_torch_semantics():
    """The shared-layer chain falls back to zero_grad + accumulation: both uses contribute."""
    fastnn.manual_seed(0)
    lin = nn.Linear(6, 6)
    m = nn.Sequential(lin, nn.Tanh(), lin)
    X = np.random.default_rng(0).standard_normal((64, 6)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 6, 64)
    opt = optim.SGD(m, lr=0.0)
    fastnn.fit(m, X, y, loss="cross_entropy", optimizer=opt, epochs=1, batch_size=64, shuffle=False, verbose=0)
    got = [p.grad.numpy().copy() for p in m.parameters()]
    for p in m.parameters():
        p.grad = None
    nn.CrossEntropyLoss()(m(fastnn.tensor(X)), fastnn.tensor(y)).backward()
    for p, g in zip(m.parameters(), got):
        assert np.abs(g).max() > 0
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_fit_leaves_the_model_in_eval_mode_so_predictions_match_evaluate():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 8)).astype(np.float32), rng.integers(0, 3, 64)
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3))
    fastnn.fit(model, X, y, loss="cross_entropy", optimizer=optim.Adam(model.parameters()), epochs=2,
               batch_size=16, verbose=0)
    assert not any(m.training for m in model.modules())
    with fastnn.no_grad():
        a, b = model(fastnn.tensor(X)).numpy(), model(fastnn.tensor(X)).numpy()
    assert np.array_equal(a, b)  # no dropout draws, running statistics
    acc = float((a.argmax(1) == y).mean())
    assert acc == pytest.approx(fastnn.training.evaluate(model, X, y, metrics=("accuracy",))["accuracy"])
