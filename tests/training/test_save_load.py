"""fastnn.save / fastnn.load in PyTorch's styles: state dicts, nested containers, optimizer state, whole
models (fastnn layers: safe; custom classes: pickled, weights_only=False only), file objects, and no
renaming of the path."""
import io
import os

import numpy as np
import pytest

import fastnn
from fastnn import nn, optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 3)
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x):
        return self.fc2(self.bn(self.fc1(x)).relu())


def test_state_dict_round_trip_any_extension(tmp_path):
    m = Net()
    m(fastnn.randn(5, 4))
    path = tmp_path / "best_model.pt"
    fastnn.save(m.state_dict(), path)
    assert sorted(os.listdir(tmp_path)) == ["best_model.pt"]  # the path as given, no ".npz" appended
    sd = fastnn.load(path)
    assert list(sd) == list(m.state_dict())
    assert all(isinstance(v, fastnn.Tensor) for v in sd.values())
    m2 = Net()
    m2.load_state_dict(sd)
    m.eval(), m2.eval()
    x = fastnn.randn(3, 4)
    assert fastnn.equal(m(x), m2(x))
    assert sd["bn.num_batches_tracked"].dtype == fastnn.int64


def test_nested_objects_and_optimizer_state(tmp_path):
    m = Net()
    opt = optim.Adam(m.parameters(), lr=1e-3, betas=(0.8, 0.99))
    for _ in range(2):
        opt.zero_grad()
        m(fastnn.randn(5, 4)).sum().backward()
        opt.step()
    ckpt = {"epoch": 7, "model": m.state_dict(), "optimizer": opt.state_dict(), "history": [0.5, 0.25, float("nan")],
            "name": "run-1", "best": None, "shape": (2, 3), "arr": np.arange(3), "np_scalar": np.float32(1.5)}
    fastnn.save(ckpt, tmp_path / "ckpt.pth")
    back = fastnn.load(tmp_path / "ckpt.pth")
    assert back["epoch"] == 7 and back["name"] == "run-1" and back["best"] is None and back["shape"] == (2, 3)
    assert back["history"][:2] == [0.5, 0.25] and np.isnan(back["history"][2])
    assert isinstance(back["arr"], np.ndarray) and back["np_scalar"] == np.float32(1.5)
    assert set(back["optimizer"]["state"]) == set(opt.state_dict()["state"])  # int keys kept
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.99)
    m2 = Net()
    opt2 = optim.Adam(m2.parameters(), lr=1e-3)
    m2.load_state_dict(back["model"])
    opt2.load_state_dict(back["optimizer"])
    for p, q in zip(m.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    x = fastnn.randn(5, 4)
    for mm, oo in ((m, opt), (m2, opt2)):
        oo.zero_grad()
        mm(x).sum().backward()
        oo.step()
    for p, q in zip(m.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())  # resumed bit for bit


def test_whole_models(tmp_path):
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    fastnn.save(seq, tmp_path / "seq.pt")
    back = fastnn.load(tmp_path / "seq.pt")  # fastnn layers: rebuilt from the file, no code run
    x = fastnn.randn(2, 3)
    assert fastnn.equal(back(x), seq(x))
    net = Net()
    fastnn.save(net, tmp_path / "net.pt")  # a custom class: pickled, as torch.save
    with pytest.raises(ValueError, match="weights_only=False"):
        fastnn.load(tmp_path / "net.pt")
    net2 = fastnn.load(tmp_path / "net.pt", weights_only=False, map_location="cpu")
    net.eval(), net2.eval()
    assert fastnn.equal(net(x.repeat(1, 2)[:, :4]), net2(x.repeat(1, 2)[:, :4]))
    opt = optim.SGD(net2.parameters(), lr=0.1)  # a loaded model trains
    net2.train()
    net2(fastnn.randn(4, 4)).sum().backward()
    w = net2.fc1.weight.detach().clone()
    opt.step()
    assert not fastnn.equal(w, net2.fc1.weight)


def test_file_objects_and_refusals(tmp_path):
    buf = io.BytesIO()
    fastnn.save({"w": fastnn.ones(3)}, buf)
    buf.seek(0)
    assert fastnn.load(buf)["w"].tolist() == [1.0, 1.0, 1.0]
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="not a readable fastnn file"):
        fastnn.load(tmp_path / "junk.pt")
    with pytest.raises(FileNotFoundError):
        fastnn.load(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match="only with a model of fastnn layers"):
        fastnn.save({"a": 1}, tmp_path / "x.pt", optimizer=optim.SGD(Net().parameters(), lr=0.1))


def test_every_layer_round_trips_with_its_non_default_arguments(tmp_path):
    """A model saved as architecture + weights comes back with the same constructor arguments: no layer
    silently falls back to its defaults."""
    import fastnn
    from fastnn import nn

    fastnn.manual_seed(0)
    model = nn.Sequential(
        nn.Unflatten(1, (2, 6, 6)), nn.ZeroPad2d((1, 0, 2, 1)), nn.ConstantPad2d(1, 0.5), nn.ReflectionPad2d(1),
        nn.ReplicationPad2d((1, 1, 0, 0)), nn.Conv2d(2, 4, 3, stride=2, padding=1, dilation=1, groups=2, bias=False,
                                                     padding_mode="reflect"),
        nn.BatchNorm2d(4, eps=1e-3, momentum=0.2), nn.LeakyReLU(0.2), nn.Upsample(size=(7, 5), mode="bilinear",
                                                                               align_corners=False),
        nn.AvgPool2d(3, 1, 1, ceil_mode=True, count_include_pad=False, divisor_override=2),
        nn.MaxPool2d(2, 1, 1, dilation=1, ceil_mode=True), nn.AdaptiveAvgPool2d((3, 2)), nn.Dropout2d(0.3),
        nn.Flatten(), nn.LayerNorm(24, eps=1e-4, bias=False), nn.ELU(0.5), nn.Linear(24, 5))
    x = np.random.default_rng(0).standard_normal((3, 72)).astype(np.float32)
    model.eval()
    y = model(fastnn.tensor(x)).detach().numpy()
    path = tmp_path / "m.pt"
    fastnn.save(model, path)
    back = fastnn.load(path)
    back.eval()
    assert repr(back) == repr(model)
    for a, b in zip(model.modules(), back.modules()):
        if type(a) is not nn.Sequential:
            assert a.get_config() == b.get_config(), type(a).__name__
    np.testing.assert_array_equal(back(fastnn.tensor(x)).detach().numpy(), y)
