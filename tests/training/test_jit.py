"""fastnn.jit: script / trace record forward as a graph that computes what the model computes (any batch
size, several inputs and outputs, parameters used directly, gradients), save / load round-trip it from
the file alone, and a file can never make load run code."""
import json
import zipfile

import numpy as np
import pytest

import fastnn as torch
import fastnn.nn as nn
from fastnn import jit
from _helpers import run_python


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Dropout(0.3), nn.Linear(12, 4))

    def forward(self, X):
        return self.mlp(X)


class WideDeep(nn.Module):
    def __init__(self):
        super().__init__()
        self.deep = nn.Sequential(nn.Linear(6, 8), nn.ELU())
        self.out = nn.Linear(8 + 3, 1)
        self.aux = nn.Linear(8, 1)
        self.gain = nn.Parameter(torch.tensor([1.5]))
        self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(2)])
        self.residual = True

    def forward(self, X_wide, X_deep, scale=2.0):
        d = self.deep(X_deep)
        for b in self.blocks:  # a Python loop: unrolled
            d = d + b(d) if self.residual else b(d)
        h = torch.concat([X_wide, d], dim=1)
        main = self.out(h).view(h.size(0), -1) * self.gain * scale
        return main, torch.sigmoid(self.aux(d[:, :8]))


def _np(t):
    return t.detach().numpy()


def test_textbook_flow_trace_script_optimize_save_load(tmp_path):
    torch.manual_seed(0)
    model = Classifier()
    model.eval()
    x = torch.rand(3, 1, 4, 4)
    traced = jit.trace(model, x)
    scripted = jit.script(model)
    optimized = jit.optimize_for_inference(scripted)
    optimized.save(tmp_path / "m.pt")
    loaded = jit.load(tmp_path / "m.pt")
    for m in (traced, scripted, optimized, loaded):
        np.testing.assert_array_equal(_np(m(x)), _np(model(x)))
        big = torch.rand(7, 1, 4, 4)
        np.testing.assert_array_equal(_np(m(big)), _np(model(big)))
    assert not loaded.training and not any(p.requires_grad for p in optimized.parameters())
    assert list(loaded.state_dict()) == list(model.state_dict())
    assert "module[mlp]" in scripted.code


def test_several_inputs_outputs_defaults_direct_parameters_and_gradients(tmp_path):
    torch.manual_seed(1)
    m = WideDeep()
    a, b = torch.randn(5, 3), torch.randn(5, 6)
    g = jit.script(m)
    for got, want in zip(g(a, b), m(a, b)):
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6)
    np.testing.assert_allclose(_np(g(a, X_deep=b, scale=3.0)[0]), _np(m(a, b, 3.0)[0]), rtol=1e-6)
    g(a, b)[0].sum().backward()  # the graph shares the model's parameters
    assert m.gain.grad is not None and m.out.weight.grad.abs().sum().item() > 0
    jit.save(g, tmp_path / "wd.pt")
    back = torch.load(tmp_path / "wd.pt")  # fastnn.load reads it too
    np.testing.assert_allclose(_np(back(a[:2], b[:2])[0]), _np(m(a[:2], b[:2])[0]), rtol=1e-6)
    opt = torch.optim.SGD(back.parameters(), lr=0.1)  # a loaded graph trains
    before = _np(back.gain).copy()
    back(a, b)[0].sum().backward()
    opt.step()
    assert not np.array_equal(_np(back.gain), before)


def test_loaded_graph_needs_no_class(tmp_path):
    path = tmp_path / "wd.pt"
    code = f"""
        import fastnn as torch, fastnn.nn as nn, numpy as np
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(4, 3)
                self.b = nn.Linear(4, 3)
            def forward(self, x):
                return torch.relu(self.a(x)) - self.b(x).abs() * 0.5
        torch.manual_seed(0)
        net = Net()
        x = torch.ones(2, 4)
        torch.jit.script(net).save({str(path)!r})
        np.save({str(tmp_path / 'want.npy')!r}, net(x).detach().numpy())
    """
    assert run_python(code).returncode == 0
    m = jit.load(path)  # Net is not defined here
    np.testing.assert_allclose(_np(m(torch.ones(2, 4))), np.load(tmp_path / "want.npy"), rtol=1e-6)


def test_what_cannot_be_recorded_says_so():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            if x.sum() > 0:
                return self.fc(x)
            return x

    with pytest.raises(jit.TracingError, match="branches on a tensor"):
        jit.script(Branchy())

    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.calls = 0
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            self.calls += 1
            return self.fc(x) * self.calls

    with pytest.raises(jit.TracingError, match="disagree"):
        jit.trace(Counter(), torch.ones(1, 2))

    class NewLayer(nn.Module):
        def forward(self, x):
            return nn.Linear(2, 2)(x)

    with pytest.raises(jit.TracingError, match="not a submodule"):
        jit.script(NewLayer())


def _forge(src, dst, edit):
    """Rewrite a saved graph's manifest (and its digest) to test what load refuses."""
    import hashlib
    with zipfile.ZipFile(src) as z:
        files = {n: z.read(n) for n in z.namelist()}
    import io
    man = json.loads(np.load(io.BytesIO(files["__manifest__.npy"])).tobytes())
    edit(man)
    blob = json.dumps(man).encode()
    arrays = {n[:-4]: np.load(io.BytesIO(v)) for n, v in files.items()}
    arrays["__manifest__"] = np.frombuffer(blob, np.uint8)
    arrays["__digest__"] = np.frombuffer(hashlib.sha256(blob).hexdigest().encode(), np.uint8)
    np.savez(dst, **arrays)


@pytest.mark.parametrize("edit,msg", [
    (lambda m: m["graph"]["nodes"][1].update(op="method", target="apply_"), "may not call"),
    (lambda m: m["graph"]["nodes"][1].update(op="function", target="os.system"), "not a fastnn function"),
    (lambda m: m["graph"]["nodes"][1].update(op="getattr", target="__class__"), "may not read"),
    (lambda m: m["graph"]["nodes"][1].update(op="const", target=99), "constant"),
    (lambda m: m["graph"]["nodes"][1].update(args=[{"node": 5}]), "later or missing"),
    (lambda m: m["modules"].update(mlp={"class": "Evil", "config": {}}), "unknown layer class"),
])
def test_load_refuses_forged_graphs(tmp_path, edit, msg):
    jit.script(Classifier()).save(tmp_path / "m.npz")
    _forge(tmp_path / "m.npz", tmp_path / "forged.npz", edit)
    with pytest.raises(ValueError, match=msg):
        jit.load(tmp_path / "forged.npz")


def test_load_refuses_other_files(tmp_path):
    torch.save({"a": torch.ones(2)}, tmp_path / "d.pt")
    with pytest.raises(ValueError, match="not a module"):
        jit.load(tmp_path / "d.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a file at all")
    with pytest.raises(ValueError):
        jit.load(tmp_path / "junk.pt")
