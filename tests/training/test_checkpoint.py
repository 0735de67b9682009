import numpy as np
import pytest

import fastnn
from fastnn import nn, optim, regularizers
from fastnn.optim import lr_scheduler as S


def model():
    fastnn.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8, regularizer=regularizers.L2(1e-3)), nn.BatchNorm1d(8), nn.PReLU(8),
                         nn.Dropout(0.3), nn.Linear(8, 8), nn.GELU("tanh"), nn.RReLU(0.1, 0.2),
                         nn.Linear(8, 3, bias=False))


def trained():
    m = model()
    opt = optim.NAdam(m, lr=1e-2)
    sched = S.StepLR(opt, 2)
    lf = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    for _ in range(4):
        lf(m(rng.standard_normal((16, 6)).astype(np.float32)), rng.integers(0, 3, 16))
        opt.zero_grad()
        m.backward(lf.backward())
        opt.step()
        sched.step()
    m[4].freeze()
    return m, opt, sched


def test_round_trip_model_optimizer_scheduler(tmp_path):
    m, opt, sched = trained()
    path = tmp_path / "m.npz"
    fastnn.save(m, path, optimizer=opt, scheduler=sched, epoch=4, extra={"classes": ["a", "b", "c"]})
    ck = fastnn.load_checkpoint(path)
    m2 = ck.model
    assert repr(m2) == repr(m) and ck.epoch == 4 and ck.extra == {"classes": ["a", "b", "c"]}
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, m2.state_dict()[k])
    assert not m2[4].weight.requires_grad and m2[0].weight.regularizer.l2 == 1e-3
    opt2 = optim.NAdam(m2, lr=0.5)
    ck.restore_optimizer(opt2)
    sched2 = S.StepLR(opt2, 2)
    ck.restore_scheduler(sched2)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    # resuming gives bit-identical training
    rng = np.random.default_rng(9)
    x, t = rng.standard_normal((16, 6)).astype(np.float32), rng.integers(0, 3, 16)
    for mm, oo in ((m, opt), (m2, opt2)):
        mm.eval()
        lf = nn.CrossEntropyLoss()
        lf(mm(x), t)
        oo.zero_grad()
        mm.backward(lf.backward())
        oo.step()
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, m2.state_dict()[k])


def test_truncated_and_tampered_files_load_nothing(tmp_path):
    m, opt, _ = trained()
    path = tmp_path / "m.npz"
    fastnn.save(m, path, optimizer=opt)
    raw = path.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        fastnn.load(tmp_path / "trunc.npz")
    # flip one byte inside an array's data
    i = raw.index(b"model/0.weight") + 300
    bad = bytearray(raw)
    bad[i] ^= 0xFF
    (tmp_path / "tamper.npz").write_bytes(bytes(bad))
    with pytest.raises(ValueError):
        fastnn.load(tmp_path / "tamper.npz")
    # swap an array for another of the same shape: the checksum catches it
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["model/0.weight"] = arrays["model/0.weight"] + 1
    np.savez(tmp_path / "swap.npz", **arrays)
    with pytest.raises(ValueError, match="fails its checksum"):
        fastnn.load(tmp_path / "swap.npz")
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a fastnn checkpoint"):
        fastnn.load(tmp_path / "foreign.npz")


def test_pickled_objects_are_never_loaded(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    import zipfile
    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as z:
        z.write(tmp_path / "obj.npy", "__manifest__.npy")
    with pytest.raises(ValueError):
        fastnn.load(tmp_path / "evil.npz")


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    m, _, _ = trained()
    path = tmp_path / "m.npz"
    fastnn.save(m, path)
    before = path.read_bytes()

    def fail(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(OSError, match="disk full"):
        fastnn.save(m, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


class Doubler(nn.Module):
    def forward(self, x):
        return 2 * x


def test_custom_module_pickled_only_when_asked(tmp_path):
    """A model with a custom class is pickled (torch.save's behaviour) and loads only with
    weights_only=False; one that cannot be pickled is refused clearly."""
    m = nn.Sequential(nn.Linear(2, 2), Doubler())
    fastnn.save(m, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="weights_only=False"):
        fastnn.load(tmp_path / "x.pt")
    m2 = fastnn.load(tmp_path / "x.pt", weights_only=False)
    x = np.ones((1, 2), np.float32)
    np.testing.assert_array_equal(m2(x), m(x))

    class Mine(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="cannot save its architecture.*state_dict"):
        fastnn.save(nn.Sequential(nn.Linear(2, 2), Mine()), tmp_path / "y.npz")
    assert not (tmp_path / "y.npz").exists()


def test_transfer_learning_from_a_saved_model(tmp_path):
    m, _, _ = trained()
    fastnn.save(m, tmp_path / "base.npz")
    base = fastnn.load(tmp_path / "base.npz")
    new = nn.Sequential(*base[:6], nn.Linear(8, 2))
    new[:6].freeze()
    frozen = [p.data.clone() for p in new[:6].parameters()]
    opt = optim.Adam(new, lr=1e-2)
    lf = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    for _ in range(3):
        lf(new(rng.standard_normal((8, 6)).astype(np.float32)), rng.integers(0, 2, 8))
        opt.zero_grad()
        new.backward(lf.backward(), need_input_grad=False)
        opt.step()
    for p, f in zip(new[:6].parameters(), frozen):
        np.testing.assert_array_equal(p.data, f)
    assert new[6].weight.grad.any()
