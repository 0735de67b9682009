"""PyTorch's files and safetensors, both ways: fastnn.save writes what torch.load(weights_only=True) and
safetensors' loaders read; fastnn.load reads what torch.save and safetensors wrote, and refuses (runs
nothing from) a torch file that names any other Python global."""
import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import fastnn
from fastnn import nn, optim

torch = pytest.importorskip("torch")


def _net(lib):
    return lib.nn.Sequential(lib.nn.Conv2d(1, 4, 3), lib.nn.BatchNorm2d(4), lib.nn.ReLU(), lib.nn.Flatten(),
                             lib.nn.Linear(4 * 6 * 6, 3))


def _trained():
    fastnn.manual_seed(0)
    m = _net(fastnn)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 32)
    opt = optim.Adam(m.parameters(), lr=1e-2)
    fastnn.fit(m, X, y, loss="cross_entropy", optimizer=opt, epochs=2, batch_size=8, verbose=0)
    return m, opt, X


@pytest.mark.parametrize("suffix", [".pt", ".pth"])
def test_a_state_dict_saved_by_fastnn_loads_in_torch_and_computes_the_same(tmp_path, suffix):
    m, opt, X = _trained()
    path = tmp_path / f"w{suffix}"
    fastnn.save(m.state_dict(), path)
    sd = torch.load(path, weights_only=True)
    assert list(sd) == list(m.state_dict())  # PyTorch's key names, in order
    assert sd["1.num_batches_tracked"].shape == () and sd["1.num_batches_tracked"].dtype == torch.int64
    tm = _net(torch)
    tm.load_state_dict(sd)
    tm.eval()
    with torch.no_grad():
        want = tm(torch.from_numpy(X)).numpy()
    with fastnn.no_grad():
        got = m(fastnn.tensor(X)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    mm = torch.load(path, weights_only=True, mmap=True)  # storages aligned as torch aligns them
    assert torch.equal(mm["4.weight"], sd["4.weight"])


def test_a_checkpoint_dict_round_trips_through_torch(tmp_path):
    m, opt, _ = _trained()
    fastnn.save({"model": m.state_dict(), "epoch": 2, "note": "x", "best": None, "betas": (0.9, 0.999),
                 "big": 1 << 40, "neg": -5, "flag": True, "lr": 1e-3, "steps": [1, 2]}, tmp_path / "c.pt")
    back = torch.load(tmp_path / "c.pt", weights_only=True)
    assert (back["epoch"], back["note"], back["best"], back["betas"], back["big"], back["neg"], back["flag"]) == \
        (2, "x", None, (0.9, 0.999), 1 << 40, -5, True)
    assert back["lr"] == 1e-3 and back["steps"] == [1, 2] and isinstance(back["model"], collections.OrderedDict)
    mine = fastnn.load(tmp_path / "c.pt")
    for k, v in m.state_dict().items():
        assert np.array_equal(mine["model"][k].numpy(), v.numpy())
    # fastnn's optimizer state holds NumPy arrays: such a dict stays in fastnn's format and round-trips
    fastnn.save({"model": m.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "o.pt")
    opt2 = optim.Adam(_net(fastnn).parameters(), lr=1e-2)
    opt2.load_state_dict(fastnn.load(tmp_path / "o.pt")["optimizer"])


def test_what_torch_saved_loads_in_fastnn_views_dtypes_and_shared_storages(tmp_path):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    obj = {"t": base.t(), "slice": base[1:, ::2], "same": base, "h": torch.ones(3, dtype=torch.float16),
           "bf": torch.tensor([1.5, -2.0], dtype=torch.bfloat16), "i": torch.tensor(7), "b": torch.tensor([True]),
           "p": torch.nn.Parameter(torch.ones(2)), "l": [torch.zeros(0), 3, "s"], "size": torch.Size([2, 3])}
    torch.save(obj, tmp_path / "t.pt")
    back = fastnn.load(tmp_path / "t.pt")
    for k in ("t", "slice", "same", "i", "b", "p"):
        assert np.array_equal(back[k].numpy(), obj[k].detach().numpy()), k
    assert back["h"].dtype == fastnn.float16 and back["i"].shape == ()
    assert back["bf"].dtype == fastnn.float32 and back["bf"].tolist() == [1.5, -2.0]  # bfloat16 read as float32
    assert back["l"][0].shape == (0,) and back["l"][1:] == [3, "s"] and back["size"] == (2, 3)


def test_a_torch_state_dict_loads_into_the_same_fastnn_model(tmp_path):
    torch.manual_seed(0)
    tm = _net(torch)
    torch.save(tm.state_dict(), tmp_path / "tm.pt")
    m = _net(fastnn)
    m.load_state_dict(fastnn.load(tmp_path / "tm.pt"))
    m.eval()
    tm.eval()
    x = np.random.default_rng(1).standard_normal((5, 1, 8, 8)).astype(np.float32)
    with torch.no_grad(), fastnn.no_grad():
        np.testing.assert_allclose(m(fastnn.tensor(x)).numpy(), tm(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-5)


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo ran > /dev/null",))


@pytest.mark.parametrize("payload", [_Boom(), torch.nn.Linear(2, 2), {"ok": torch.ones(1), "bad": _Boom()}])
def test_a_torch_file_naming_other_globals_is_refused_and_runs_nothing(tmp_path, payload, monkeypatch):
    torch.save(payload, tmp_path / "x.pt", pickle_protocol=2)
    ran = []
    monkeypatch.setattr(os, "system", lambda *a: ran.append(a))
    with pytest.raises(ValueError, match="refused and nothing from it runs"):
        fastnn.load(tmp_path / "x.pt")
    assert ran == []


def test_damaged_torch_files_give_value_errors(tmp_path):
    torch.save({"w": torch.arange(100.0), "n": torch.tensor(3)}, tmp_path / "ok.pt")
    raw = (tmp_path / "ok.pt").read_bytes()
    rng = np.random.default_rng(0)
    for trial in range(60):
        b = bytearray(raw)
        if trial % 3 == 0:
            b = b[:rng.integers(1, len(b))]
        else:
            for i in rng.integers(0, len(b), 8):
                b[i] = int(rng.integers(0, 256))
        try:
            fastnn.load(io.BytesIO(bytes(b)))
        except ValueError:
            pass


def test_a_storage_that_lies_about_its_size_is_refused(tmp_path):
    torch.save({"w": torch.arange(4.0)}, tmp_path / "ok.pt")
    zin = zipfile.ZipFile(tmp_path / "ok.pt")
    pkl = next(n for n in zin.namelist() if n.endswith("data.pkl"))
    data = zin.read(pkl).replace(b"K\x04t", b"M\x00\x10t")  # numel 4 -> 4096
    with zipfile.ZipFile(tmp_path / "forged.pt", "w") as zout:
        for n in zin.namelist():
            zout.writestr(n, data if n == pkl else zin.read(n))
    with pytest.raises(ValueError, match="storage"):
        fastnn.load(tmp_path / "forged.pt")


def test_data_with_numpy_values_stays_in_fastnn_format_and_models_too(tmp_path):
    fastnn.save({"arr": np.arange(3), "x": np.float32(1.5)}, tmp_path / "d.pt")
    back = fastnn.load(tmp_path / "d.pt")
    assert isinstance(back["arr"], np.ndarray) and back["x"] == np.float32(1.5)
    fastnn.save(_net(fastnn), tmp_path / "m.pt")  # a model keeps its architecture: fastnn's format
    assert isinstance(fastnn.load(tmp_path / "m.pt"), nn.Sequential)
    with pytest.raises(TypeError, match="state_dict"):
        fastnn.save(_net(fastnn), tmp_path / "m2.pt", format="torch")
    with pytest.raises(ValueError, match="format"):
        fastnn.save({}, tmp_path / "x.bin", format="onnx")


def test_safetensors_both_ways(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    m, _, _ = _trained()
    fastnn.save(m.state_dict(), tmp_path / "m.safetensors")
    theirs = st.load_file(str(tmp_path / "m.safetensors"))
    assert list(theirs) == list(m.state_dict())
    for k, v in m.state_dict().items():
        assert np.array_equal(theirs[k].numpy(), v.numpy())
    fastnn.save(m, tmp_path / "model.safetensors")  # a model gives its state_dict
    assert list(fastnn.load(tmp_path / "model.safetensors")) == list(m.state_dict())
    tm = _net(torch)
    st.save_file(tm.state_dict(), str(tmp_path / "t.safetensors"))
    mine = fastnn.load(tmp_path / "t.safetensors")
    m2 = _net(fastnn)
    m2.load_state_dict(mine)
    assert np.array_equal(m2[4].weight.detach().numpy(), tm[4].weight.detach().numpy())
    st.save_file({"bf": torch.tensor([0.5, 3.0], dtype=torch.bfloat16)}, str(tmp_path / "bf.safetensors"))
    assert fastnn.load(tmp_path / "bf.safetensors")["bf"].tolist() == [0.5, 3.0]


def test_safetensors_refuses_what_it_cannot_hold_and_damaged_files(tmp_path):
    with pytest.raises(TypeError, match="tensors only"):
        fastnn.save({"a": fastnn.ones(2), "n": 3}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="optimizer"):
        fastnn.save({"a": fastnn.ones(2)}, tmp_path / "x.safetensors", epoch=3)
    assert not (tmp_path / "x.safetensors").exists()
    fastnn.save({"a": fastnn.arange(10.0)}, tmp_path / "ok.safetensors")
    raw = (tmp_path / "ok.safetensors").read_bytes()
    bad = raw.replace(b'"data_offsets":[0,40]', b'"data_offsets":[0,48]')
    with pytest.raises(ValueError, match="declares bytes"):
        fastnn.load(io.BytesIO(bad))
    with pytest.raises(ValueError):
        fastnn.load(io.BytesIO(raw[:30]))
    with pytest.raises(ValueError, match="not a model checkpoint"):
        fastnn.checkpoint.load_checkpoint(tmp_path / "ok.safetensors")


def test_pickle_protocol_of_the_writer_is_what_torch_expects(tmp_path):
    fastnn.save({"w": fastnn.ones(2, 3)}, tmp_path / "p.pt")
    z = zipfile.ZipFile(tmp_path / "p.pt")
    data = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    assert data[:2] == b"\x80\x02"
    with pytest.raises(pickle.UnpicklingError):  # a plain unpickler cannot resolve the storages
        pickle.loads(data)
