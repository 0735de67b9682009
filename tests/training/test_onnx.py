"""fastnn.onnx.export: the graph onnxruntime runs computes what the fastnn model computes in eval mode,
at any batch size; what has no ONNX form is refused by name and nothing is written."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _check(model, example, inputs, tmp_path, tol=1e-5, **kw):
    path = tmp_path / "m.onnx"
    modes = [m.training for m in model.modules()]
    fastnn.onnx.export(model, example, path, **kw)
    assert [m.training for m in model.modules()] == modes  # the caller's mode is restored
    sess = ort.InferenceSession(str(path))
    name = sess.get_inputs()[0].name
    model.eval()
    for x in inputs:
        with fastnn.no_grad():
            want = model(fastnn.tensor(x)).numpy()
        got = sess.run(None, {name: x})[0]
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    return sess


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


ACTIVATIONS = [nn.ReLU(), nn.LeakyReLU(0.1), nn.ELU(0.5), nn.SELU(), nn.GELU(), nn.GELU("tanh"), nn.SiLU(),
               nn.Sigmoid(), nn.Tanh(), nn.Softplus(beta=2.0, threshold=1.0), nn.Hardtanh(-0.5, 0.5), nn.ReLU6(),
               nn.Softsign(), nn.LogSigmoid(), nn.Mish(), nn.CELU(0.7), nn.Hardsigmoid(), nn.Hardswish(),
               nn.PReLU(), nn.PReLU(8, 0.3), nn.RReLU(), nn.Softmax(dim=1), nn.LogSoftmax(dim=1), nn.Softmin(dim=1),
               nn.Identity(), nn.Dropout(0.5)]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: repr(a))
def test_every_activation_in_an_mlp_at_any_batch_size(act, tmp_path):
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), act, nn.Linear(8, 3))
    _check(model, fastnn.randn(2, 6), [_x(1, 6) * 3, _x(9, 6, seed=1) * 3], tmp_path)


def test_a_trained_cnn_with_batch_norm_pooling_and_dropout(tmp_path):
    fastnn.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2, bias=False), nn.BatchNorm2d(8), nn.ELU(),
        nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False), nn.Conv2d(8, 16, 3, padding="same", dilation=2),
        nn.ReLU(), nn.MaxPool2d(3, stride=2, ceil_mode=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Dropout(0.3), nn.Linear(16, 10))
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 3, 16, 16)).astype(np.float32), rng.integers(0, 10, 64)
    fastnn.fit(model, X, y, loss="cross_entropy", optimizer=fastnn.optim.Adam(model.parameters()), epochs=2,
               batch_size=16, verbose=0)  # running statistics away from their initial values
    model.train()
    _check(model, fastnn.randn(1, 3, 16, 16), [_x(1, 3, 16, 16), _x(5, 3, 16, 16, seed=2)], tmp_path, tol=1e-4)


def test_conv1d_layer_norm_and_adaptive_pooling(tmp_path):
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(2, 4, 5, stride=2, padding=2), nn.BatchNorm1d(4), nn.GELU(),
                          nn.AdaptiveMaxPool1d(4), nn.Flatten(), nn.LayerNorm(16), nn.Linear(16, 2))
    _check(model, fastnn.randn(3, 2, 32), [_x(4, 2, 32)], tmp_path, tol=1e-4)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.head = nn.Linear(12, 12), nn.Linear(12, 12), nn.Linear(24, 3)
        self.scale = nn.Parameter(fastnn.ones(12) * 0.5)

    def forward(self, x):
        x = x.view(x.size(0), -1)                   # (N, 3, 4) -> (N, 12), the batch kept symbolic
        h = F.relu(self.fc1(x))
        h = self.fc2(h) * self.scale + x            # a residual add and a parameter used directly
        z = fastnn.cat([h, F.gelu(x) - 1.0], dim=1)
        return F.log_softmax(self.head(z), dim=1) + z.mean(dim=1, keepdim=True) * 0


def test_a_user_module_with_a_residual_add_cat_view_and_functions(tmp_path):
    fastnn.manual_seed(0)
    _check(Residual(), fastnn.randn(2, 3, 4), [_x(1, 3, 4), _x(6, 3, 4, seed=3)], tmp_path)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.a, self.b = nn.Sequential(nn.Linear(4, 8), nn.Tanh()), nn.Linear(8, 2), nn.Linear(8, 1)

    def forward(self, x):
        h = self.body(x)
        return self.a(h), self.b(h).flatten()


def test_names_torch_style_dynamic_axes_and_several_outputs(tmp_path):
    fastnn.manual_seed(0)
    m = TwoHeads()
    path = tmp_path / "two.onnx"
    fastnn.onnx.export(m, fastnn.randn(2, 4), path, input_names=["features"], output_names=["cls", "reg"],
                       dynamic_axes={"features": {0: "n"}, "cls": {0: "n"}, "reg": [0]})
    sess = ort.InferenceSession(str(path))
    x = _x(5, 4)
    cls, reg = sess.run(None, {"features": x})
    with fastnn.no_grad():
        a, b = m(fastnn.tensor(x))
    np.testing.assert_allclose(cls, a.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(reg, b.numpy(), rtol=1e-5, atol=1e-6)
    assert sess.get_inputs()[0].shape == ["n", 4]
    fixed = fastnn.onnx.export(nn.Linear(4, 2), fastnn.randn(2, 4), tmp_path / "f.onnx", dynamic_batch=False)
    assert [d.dim_value for d in fixed.graph.input[0].type.tensor_type.shape.dim] == [2, 4]


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)

    def forward(self, x):
        return self.emb(x)


@pytest.mark.parametrize("model, example, what", [
    (nn.Sequential(nn.Conv2d(1, 1, 1), nn.Upsample(scale_factor=2)), fastnn.randn(1, 1, 4, 4), "Upsample"),
    (Branchy(), fastnn.tensor([[1, 2]]), "Embedding"),
    (nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect")), fastnn.randn(1, 1, 5, 5), "padding_mode"),
])
def test_what_has_no_onnx_form_is_refused_by_name_and_nothing_written(model, example, what, tmp_path):
    with pytest.raises(ValueError, match=what):
        fastnn.onnx.export(model, example, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="model"):
        fastnn.onnx.export(lambda x: x, fastnn.randn(1, 2), tmp_path / "x.onnx")
    with pytest.raises(TypeError, match="args"):
        fastnn.onnx.export(nn.Linear(2, 2), [[1.0, 2.0]], tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="opset_version"):
        fastnn.onnx.export(nn.Linear(2, 2), fastnn.randn(1, 2), tmp_path / "x.onnx", opset_version=11)
    with pytest.raises(ValueError, match="dynamic_axes"):
        fastnn.onnx.export(nn.Linear(2, 2), fastnn.randn(1, 2), tmp_path / "x.onnx", dynamic_axes={"nope": [0]})
