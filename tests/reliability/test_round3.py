"""Reliability round 3: one test per cause of a silent wrong result, hang, data loss or resource blow-up
found by the review (issue 23), with PyTorch's behaviour as the reference where PyTorch has it."""
import copy
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import fastnn
from fastnn import nn, optim

torch = pytest.importorskip("torch")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_files_and_memory import _forge, _refused  # noqa: E402


def _both(fn):
    """fn(lib) on fastnn and on torch."""
    return fn(fastnn), fn(torch)


def _np(x):
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x)


# ---- 1. integer / integer divides in the default float ------------------------------------------------

def test_true_division_of_integers_gives_floats():
    for f in (lambda L: L.tensor([3, 1]) / L.tensor([3, 1]).sum(), lambda L: L.tensor([7, 2]) / 2,
              lambda L: 1 / L.tensor([4]), lambda L: L.true_divide(L.tensor([1], dtype=L.int32), L.tensor([2])),
              lambda L: L.tensor([3, 4]).div(L.tensor(2)), lambda L: L.tensor([True, False]) / 2,
              lambda L: L.tensor([5, -7]).div(2, rounding_mode="floor"),
              lambda L: L.tensor([5, -7]).div(2, rounding_mode="trunc")):
        a, b = _both(f)
        assert str(_np(a).dtype) == str(_np(b).dtype), (_np(a).dtype, _np(b).dtype)
        np.testing.assert_allclose(_np(a), _np(b))


# ---- 2. in-place writes through views reach the base, gradients included ------------------------------

def _mul_on_row(L, x):
    y = (x * 2).reshape(2, 2)
    y[0].mul_(0)
    return y


def _add_on_slice(L, x):
    y = x * 2
    y[1:].add_(y[:3] * 1)
    return y


def _setitem_chain(L, x):
    y = (x * 1).reshape(2, 2)
    y[0][1] = 7.0
    return y


def _copy_into_buffer(L, x):
    b = L.zeros(2, 4)
    b[0].copy_(x * 3)
    return b


def _masked_fill_on_view(L, x):
    y = x * 1
    y[:3].masked_fill_(y[:3] > 2.5, 0.0)
    return y


def _relu_on_view(L, x):
    y = x - 2.5
    y[1:].relu_()
    return y


def _transpose_view(L, x):
    y = (x * 1).reshape(2, 2)
    y.t()[0].mul_(3)
    return y


def _sibling_view_sees_base(L, x):
    y = (x * 1).reshape(2, 2)
    row = y[1]
    y.mul_(2)
    return row


VIEW_CASES = {f.__name__[1:]: f for f in (_mul_on_row, _add_on_slice, _setitem_chain, _copy_into_buffer,
                                          _masked_fill_on_view, _relu_on_view, _transpose_view,
                                          _sibling_view_sees_base)}


@pytest.mark.parametrize("name", sorted(VIEW_CASES))
def test_inplace_through_views_matches_torch(name):
    out = {}
    for L in (fastnn, torch):
        x = L.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        y = VIEW_CASES[name](L, x)
        (y * L.arange(1, y.numel() + 1, dtype=L.float32).reshape(y.shape)).sum().backward()
        out[L.__name__] = (_np(y).copy(), _np(x.grad).copy())
    for a, b in zip(out["fastnn"], out["torch"]):
        np.testing.assert_allclose(a, b, err_msg=name)


# ---- 3. version counters: a tensor changed since the graph read it refuses backward -------------------

def _raises_like_torch(case):
    res = []
    for L in (fastnn, torch):
        try:
            case(L)
            res.append("ok")
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e), str(e)
            res.append("error")
    return res


def _weight_changed_under_no_grad(L):
    w = L.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with L.no_grad():
        w.mul_(10)
    loss.backward()


def _saved_output_changed(L):
    b = L.tensor([1.0], requires_grad=True).exp()
    b.add_(1)
    b.sum().backward()


def _unsaved_input_changed(L):
    b = L.tensor([1.0], requires_grad=True) + 1
    b.add_(1)
    b.sum().backward()


def _detached_alias_changed(L):
    a = L.tensor([1.0, 3.0], requires_grad=True)
    loss = (a * a).sum()
    a.detach().mul_(2)
    loss.backward()


@pytest.mark.parametrize("case", [_weight_changed_under_no_grad, _saved_output_changed, _unsaved_input_changed,
                                  _detached_alias_changed], ids=lambda f: f.__name__[1:])
def test_version_counters_match_torch(case):
    a, b = _raises_like_torch(case)
    assert a == b


def test_optimizer_step_between_backwards_is_caught_when_weights_are_read():
    for L in (fastnn, torch):
        L.manual_seed(0)
        G, D = L.nn.Linear(3, 3), L.nn.Linear(3, 1)
        opt = L.optim.SGD(D.parameters(), lr=0.1)
        loss = D(G(L.ones(4, 3))).sum()  # the GAN pattern: D's weights carry G's gradient
        loss.backward(retain_graph=True)
        opt.step()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()


# ---- 4. every differentiable op has its gradient (or refuses at backward) -----------------------------

@pytest.mark.parametrize("f", [
    lambda L, x: x % 3, lambda L, x: L.remainder(x, 2.5), lambda L, x: L.fmod(x, 3), lambda L, x: x.frac(),
    lambda L, x: x.cumprod(0), lambda L, x: x.floor() + x, lambda L, x: x.round() * x, lambda L, x: x.sign() * x,
    lambda L, x: L.div(x, 2, rounding_mode="floor") + x, lambda L, x: L.fmod(x, x.detach() + 1),
    lambda L, x: 2.0 ** x, lambda L, x: L.tensor([2.0, 3.0, 0.5, 1.5, 4.0]) ** x,
])
def test_gradients_of_modulus_rounding_and_products_match_torch(f):
    v = np.array([-7.0, 5.5, 3.0, -0.4, 1.25])
    grads = []
    for L in (fastnn, torch):
        x = L.tensor(v, requires_grad=True)
        y = f(L, x)
        assert y.requires_grad
        y.sum().backward()
        grads.append(_np(x.grad))
        if L is fastnn:
            want = _np(y)
        else:
            np.testing.assert_allclose(want, _np(y), rtol=1e-6)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
    np.testing.assert_array_equal(_np(fastnn.fmod(fastnn.tensor([-7.0]), 3.0)), [-1.0])


def test_ops_without_a_gradient_refuse_at_backward_as_torch():
    for f in (lambda L, x: x // 2, lambda L, x: 10 % x):
        for L in (fastnn, torch):
            x = L.tensor([3.0, 4.0], requires_grad=True)
            with pytest.raises(RuntimeError, match="derivative for"):
                f(L, x).sum().backward()


# ---- 5. copies and pickles of an optimizer keep stepping ----------------------------------------------

@pytest.mark.parametrize("cls,kw", [(optim.Adam, {}), (optim.NAdam, {}), (optim.SGD, dict(lr=0.1, momentum=0.9))])
def test_copied_and_pickled_optimizers_step_like_the_original(cls, kw):
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = cls(m.parameters(), **kw)
    x = fastnn.randn(5, 3)
    for _ in range(2):
        opt.zero_grad()
        m(x).sum().backward()
        opt.step()
    pairs = [(m, opt), copy.deepcopy((m, opt)), pickle.loads(pickle.dumps((m, opt)))]
    for mm, oo in pairs:
        oo.zero_grad()
        mm(x).sum().backward()
        oo.step()
    for mm, _ in pairs[1:]:
        for a, b in zip(m.parameters(), mm.parameters()):
            np.testing.assert_array_equal(_np(a), _np(b))


def test_pickled_estimator_warm_starts_and_a_failed_refit_changes_nothing():
    from fastnn.sklearn import NeuralNetClassifier
    X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    y = np.where(X[:, 0] > 0, "pos", "neg")
    c = NeuralNetClassifier(max_epochs=2, hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    before, classes = c.predict_proba(X[:5]), c.classes_.copy()
    with pytest.raises(ValueError):
        c.fit(X[:3], np.array(["a", "a", "a"]))  # a bad re-fit
    np.testing.assert_array_equal(c.classes_, classes)
    np.testing.assert_array_equal(c.predict_proba(X[:5]), before)
    c2 = pickle.loads(pickle.dumps(c))
    c2.partial_fit(X, y)
    assert c2.n_iter_ == c.n_iter_ + 1


# ---- 6. persistent workers never mix epochs -----------------------------------------------------------

def test_persistent_workers_after_an_early_break_give_whole_epochs():
    from fastnn.utils.data import DataLoader, Dataset

    class D(Dataset):
        def __len__(self):
            return 40

        def __getitem__(self, i):
            return np.float32(i)

    dl = DataLoader(D(), batch_size=4, shuffle=True, num_workers=2, persistent_workers=True)
    for k, _ in enumerate(dl):
        if k == 2:
            break
    for _ in range(2):
        seen = [v for b in dl for v in b.tolist()]
        assert sorted(seen) == list(range(40))


# ---- 7. checkpoint bombs and special files ------------------------------------------------------------

@pytest.mark.parametrize("layer,cfg,arrays", [
    ("Embedding", {"num_embeddings": 50000, "embedding_dim": 4000}, {"model/0.weight": np.zeros((2, 2), np.float32)}),
    ("LayerNorm", {"normalized_shape": [20000, 20000]}, {"model/0.weight": np.zeros(2, np.float32),
                                                          "model/0.bias": np.zeros(2, np.float32)}),
])
def test_layer_bombs_are_refused_before_building(tmp_path, layer, cfg, arrays):
    arch = {"class": "Sequential", "config": {"layers": [{"name": "0", "class": layer, "config": cfg}]}}
    man = {"format": "fastnn-checkpoint", "format_version": 2, "fastnn_version": fastnn.__version__, "kind": "model",
           "architecture": arch, "dtype": "float32", "frozen": [], "regularizers": {}}
    _forge(tmp_path / "bomb.npz", man, arrays)
    secs, mb = _refused(tmp_path / "bomb.npz")
    assert secs < 1.0 and mb < 100


def test_every_parametrized_layer_declares_its_state_shapes():
    from fastnn._archive import _architecture
    for name in dir(nn):
        cls = getattr(nn, name)
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)) or not cls._config_keys:
            continue
        try:
            m = cls(**{k: v for k, v in _default_config(cls).items()})
        except Exception:
            continue
        if list(m.state_dict()):
            assert getattr(cls, "_state_shapes", None) is not None, name
            _architecture(m)


def _default_config(cls):
    known = {"in_features": 3, "out_features": 2, "num_features": 3, "in_channels": 2, "out_channels": 2,
             "kernel_size": 3, "num_embeddings": 4, "embedding_dim": 2, "normalized_shape": 3,
             "num_parameters": 1}
    import inspect
    params = inspect.signature(cls.__init__).parameters
    return {k: known[k] for k, p in params.items() if k in known and p.default is p.empty}


def test_special_files_are_refused_at_once(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code = f"import fastnn\nfor p in ('/dev/zero', {str(fifo)!r}, {str(tmp_path)!r}):\n" \
           "    try: fastnn.load(p)\n    except ValueError as e: print('refused', e)\n"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=str(tmp_path))
    assert r.stdout.count("not a regular file") == 3, r.stdout + r.stderr


def test_zoo_ignores_escaping_names_and_refuses_symlinked_entries(tmp_path, monkeypatch):
    from fastnn import zoo
    monkeypatch.setenv("FASTNN_HOME", str(tmp_path / "home"))
    os.makedirs(tmp_path / "home" / "zoo")
    (tmp_path / "home" / "zoo" / "registered.json").write_text('{"../../evil": {"name": "x"}, "ok": {"name": "ok"}}')
    assert "../../evil" not in zoo.names() and "ok" in zoo.names()
    m = nn.Sequential(nn.Linear(2, 2))
    fastnn.save(m, tmp_path / "m.npz")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.makedirs(tmp_path / "home" / "zoo" / "user")
    os.symlink(outside, tmp_path / "home" / "zoo" / "user" / "linked")
    with pytest.raises(ValueError, match="outside the zoo"):
        zoo.register("linked", tmp_path / "m.npz")
    assert os.listdir(outside) == []


def test_a_model_saved_in_eval_mode_loads_in_eval_mode(tmp_path):
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)).eval()
    fastnn.save(m, tmp_path / "m.npz")
    assert not fastnn.load(tmp_path / "m.npz").training
    fastnn.save(m.train(), tmp_path / "t.npz")
    assert fastnn.load(tmp_path / "t.npz")[1].training


# ---- 10. resuming from a checkpoint is bit-exact ------------------------------------------------------

def test_fit_resumes_bit_for_bit_from_a_checkpoint(tmp_path):
    from fastnn import training
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 8)).astype(np.float32), rng.integers(0, 3, 300)

    def make():
        fastnn.manual_seed(0)
        m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
        o = optim.Adam(m, lr=1e-2)
        return m, o, optim.lr_scheduler.StepLR(o, 1, 0.7)

    kw = dict(loss="cross_entropy", batch_size=32, verbose=0)
    m, o, s = make()
    fastnn.fit(m, X, y, optimizer=o, scheduler=s, epochs=4, seed=3, **kw)
    m2, o2, s2 = make()
    fastnn.fit(m2, X, y, optimizer=o2, scheduler=s2, epochs=2, seed=3,
               callbacks=[training.ModelCheckpoint(tmp_path / "ck.npz", monitor="loss")], **kw)
    ck = fastnn.load_checkpoint(tmp_path / "ck.npz")
    m3 = ck.model.train()
    o3 = ck.restore_optimizer(optim.Adam(m3, lr=1e-2))
    s3 = ck.restore_scheduler(optim.lr_scheduler.StepLR(o3, 1, 0.7))
    fastnn.fit(m3, X, y, optimizer=o3, scheduler=s3, epochs=4, seed=ck.seed, initial_epoch=ck.next_epoch, **kw)
    for a, b in zip(m.parameters(), m3.parameters()):
        np.testing.assert_array_equal(_np(a), _np(b))
    with pytest.raises(ValueError, match="initial_epoch"):
        fastnn.fit(m3, X, y, optimizer=o3, epochs=2, initial_epoch=3, **kw)


# ---- the rest of the review's list --------------------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(padding_idx=1), dict(max_norm=1.0), dict(scale_grad_by_freq=True, padding_idx=0),
                                dict(max_norm=0.5, norm_type=1.0)])
def test_embedding_options_match_torch(kw):
    W = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    idx = np.array([[1, 2, 1], [0, 4, 1]])
    g = np.random.default_rng(1).normal(size=(2, 3, 3)).astype(np.float32)
    res = []
    for L in (fastnn, torch):
        e = L.nn.Embedding(5, 3, _weight=L.tensor(W.copy()), **kw)
        out = e(L.tensor(idx))
        (out * L.tensor(g)).sum().backward()
        res.append((_np(out), _np(e.weight.grad), _np(e.weight)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_transfer_build_never_touches_the_callers_model():
    from fastnn import transfer
    src = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    before = [_np(p).copy() for p in src.parameters()]
    model = transfer.build(src, head=nn.Linear(3, 2))
    assert all(p.requires_grad for p in src.parameters()) and not src.frozen
    assert all(p is not q for p in src.parameters() for q in model.parameters())
    with fastnn.no_grad():
        for p in model.parameters():
            p.mul_(0)
    for p, b in zip(src.parameters(), before):
        np.testing.assert_array_equal(_np(p), b)


def test_workspace_caches_stay_bounded_over_many_batch_sizes():
    code = """
import resource, numpy as np, fastnn
from fastnn import nn
m = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 512), nn.ReLU(), nn.Linear(512, 10))
def rss(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
for n in range(200, 1200):
    m(np.ones((n, 784), np.float32))
    m.backward(np.ones((n, 10), np.float32))
print(int(rss()))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=HERE + "/..")
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.strip().splitlines()[-1]) < 650  # MB (each layer's pool keeps <= 64 MiB; was 860 MB)


def test_inplace_true_writes_into_the_input_as_torch():
    for L in (fastnn, torch):
        x = L.tensor([-1.0, 2.0, -3.0], requires_grad=True)
        y, z = x * 2, x * 1
        assert L.nn.functional.relu(y, inplace=True) is y
        assert L.nn.ReLU(inplace=True)(z) is z
        (y * 3 + z).sum().backward()
        np.testing.assert_allclose(_np(x.grad), [0.0, 7.0, 0.0])
        w = x * 1
        L.nn.functional.relu(w, inplace=True)
        L.nn.functional.relu(w, inplace=True)  # relu's backward reads its output, now changed: refused
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            w.sum().backward()
        a = L.tensor([-1.0, 2.0])
        L.nn.functional.elu(a, inplace=True)
        np.testing.assert_allclose(_np(a), [np.expm1(-1.0), 2.0], rtol=1e-6)


def test_forged_states_are_refused():
    bn = nn.BatchNorm1d(3)
    sd = bn.state_dict()
    sd["num_batches_tracked"] = fastnn.tensor(2 ** 63 - 1)
    with pytest.raises(ValueError, match="num_batches_tracked"):
        bn.load_state_dict(sd)
    opt = optim.SGD(nn.Linear(2, 2), lr=0.1)
    s = optim.lr_scheduler.StepLR(opt, 2, 0.5)
    for bad in ({"gamma": -1.0}, {"evil": 1}, {"step_size": "x"}):
        with pytest.raises(ValueError):
            s.load_state_dict(bad)
    assert s.gamma == 0.5
    with pytest.raises(ValueError, match="gamma"):
        optim.lr_scheduler.StepLR(opt, 2, -0.5)


def test_bad_small_inputs_get_clear_errors():
    from fastnn import augment
    from fastnn.utils.data import DataLoader, TensorDataset
    from fastnn.vision.transforms import functional as VF
    for bad in ("x", -1, 1.5, True):
        with pytest.raises(ValueError, match="seed"):
            DataLoader(TensorDataset(np.zeros((4, 2)), np.zeros(4)), seed=bad)
    with pytest.raises(ValueError, match="size"):
        augment.BatchRandomResizedCrop(0)
    with pytest.raises(ValueError, match="height and width"):
        VF.crop(fastnn.rand(3, 8, 8), 0, 0, 0, 4)
    X, y = np.random.rand(20, 4).astype(np.float32), np.arange(20, dtype=np.uint64) % 3
    m = nn.Sequential(nn.Linear(4, 3))
    fastnn.fit(m, X, y, loss="cross_entropy", optimizer=optim.SGD(m, lr=0.1), epochs=1, verbose=0)  # uint64 works
    with pytest.raises(ValueError, match="outside"):
        nn.CrossEntropyLoss()(fastnn.randn(2, 3), fastnn.tensor(np.array([0, 2 ** 64 - 1], np.uint64)))

