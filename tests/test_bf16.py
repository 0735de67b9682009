"""bf16 products (csrc/gemm_bf16.inc) and autocast: accuracy against float64, one chain per element
(thread-count invariance), the AVX512_BF16 path and its emulation bit for bit, autocast's semantics,
and training parity with float32."""
import json
import os
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest

import fastnn
from fastnn import ops
from fastnn._ext import _blas

BF16 = ml_dtypes.bfloat16


def _bf(a):
    """a rounded to bf16 (nearest even) as float64."""
    return np.asarray(a, np.float32).astype(BF16).astype(np.float64)


def _cpu_has_bf16():
    try:
        with open("/proc/cpuinfo") as f:
            return "avx512_bf16" in f.read()
    except OSError:
        return False


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 5, 7), (13, 33, 385), (64, 64, 64), (100, 70, 513), (29, 300, 2)])
@pytest.mark.parametrize("trans", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_bf16_product_within_its_error_bound(shape, trans):
    """Against float64 on the bf16-rounded factors: float32 accumulation's bound (K ulps of the sum of
    |products|); against the exact product of the unrounded factors: bf16's (2^-8 of it, each factor)."""
    m, n, k = shape
    ta, tb = trans
    rng = np.random.default_rng(m * 7 + n + k)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    c = ops.matmul(a, b, trans_a=bool(ta), trans_b=bool(tb), bf16=True)
    A, B = (a.T if ta else a), (b.T if tb else b)
    scale = np.abs(A).astype(np.float64) @ np.abs(B).astype(np.float64)
    exact_bf = _bf(A) @ _bf(B)
    assert np.all(np.abs(c - exact_bf) <= (k + 1) * 2.0 ** -24 * scale + 1e-30)
    exact = A.astype(np.float64) @ B.astype(np.float64)
    assert np.all(np.abs(c - exact) <= 2 * 2.0 ** -8 * scale + (k + 1) * 2.0 ** -24 * scale + 1e-30)


def test_bf16_rounding_is_nearest_even_and_flushes_denormals():
    """A product by 1 (K = 1) returns each factor rounded: nearest even as ml_dtypes (ties included),
    infinities kept, denormals to zero (as vcvtneps2bf16 / vdpbf16ps)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 64)).astype(np.float32) * np.float32(1e3)
    ties = (np.arange(64, dtype=np.uint32) << 16 | 0x8000 | (0x3f80 << 16)).view(np.float32)  # x.5 ulps
    x[1] = ties
    x[2, :4] = [np.inf, -np.inf, 1e-40, -1e-40]
    x[3, :2] = [3.4e38, -3.4e38]
    got = ops.matmul(x.reshape(-1, 1), np.ones((1, 1), np.float32), bf16=True).reshape(x.shape)
    want = x.astype(BF16).astype(np.float32)
    want[2, 2:4] = 0.0
    np.testing.assert_array_equal(got, want)
    nan = ops.matmul(np.full((1, 2), np.nan, np.float32), np.ones((2, 3), np.float32), bf16=True)
    assert np.isnan(nan).all()


@pytest.mark.parametrize("shape", [(37, 70, 129), (300, 45, 800), (2, 1000, 33)])
def test_bf16_products_do_not_depend_on_threads_or_blocking(shape):
    m, n, k = shape
    rng = np.random.default_rng(11)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((n, k)).astype(np.float32)
    at = np.ascontiguousarray(a.T)
    with fastnn.set_num_threads(1):
        want = ops.matmul(a, b, trans_b=True, bf16=True)
    for nt in (2, 3, 5):
        with fastnn.set_num_threads(nt):
            np.testing.assert_array_equal(ops.matmul(a, b, trans_b=True, bf16=True), want)
            np.testing.assert_array_equal(ops.matmul(at, b, trans_a=True, trans_b=True, bf16=True), want)
    # a row block alone (another split of the same chains)
    np.testing.assert_array_equal(ops.matmul(a[5:9], b, trans_b=True, bf16=True), want[5:9])


def test_bf16_ignored_for_float64():
    a = np.random.default_rng(0).standard_normal((5, 6))
    np.testing.assert_array_equal(ops.matmul(a, a.T, bf16=True), ops.matmul(a, a.T))


_PATHS = r"""
import json, sys
import numpy as np
from fastnn import ops
from fastnn._ext import _blas
rng = np.random.default_rng(5)
out = {"path": _blas.kernel_info()["bf16"], "res": []}
for (m, n, k) in [(13, 33, 385), (300, 17, 50), (5, 300, 3), (40, 64, 101)]:
    a = (rng.standard_normal((m, k)) * np.exp(rng.uniform(-8, 8, (m, k)))).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    out["res"].append(ops.matmul(a, b, bf16=True).view(np.uint32).tolist())
x = rng.standard_normal((2, 8, 10, 10)).astype(np.float32)
w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
out["res"].append(ops.conv2d(x, w, padding=(1, 1, 1, 1), bf16=True).view(np.uint32).ravel().tolist())
json.dump(out, sys.stdout)
"""


def _paths(isa):
    env = {k: v for k, v in os.environ.items() if k != "FASTNN_ISA"}
    if isa:
        env["FASTNN_ISA"] = isa
    r = subprocess.run([sys.executable, "-c", _PATHS], env=env, capture_output=True, text=True, timeout=300,
                       cwd=os.path.dirname(os.path.abspath(__file__)))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_avx512_bf16_and_its_emulations_agree_bit_for_bit():
    """vdpbf16ps adds a pair's odd product, then its even one, each a fused multiply-add (measured on
    this CPU); the emulation does the same in float32, so every path gives the same bits. FASTNN_ISA=v4
    forces the AVX-512 emulation, v3 the AVX2 one, base the portable one."""
    if not _blas.kernel_info()["isa"].startswith("x86-64-v"):
        pytest.skip("a single-target build (not x86-64 with run-time dispatch)")
    full = _paths(None)
    assert full["path"] == ("avx512_bf16" if _cpu_has_bf16() and _blas.kernel_info()["isa"].startswith("x86-64-v4")
                            else "emulated")
    for isa in ("v4", "v3", "base"):
        other = _paths(isa)
        assert other["path"] == "emulated"
        for x, y in zip(full["res"], other["res"]):
            assert x == y, f"FASTNN_ISA={isa} differs from the {full['path']} path"


# ---- autocast ----
def test_autocast_linear_runs_bf16_products_forward_and_backward():
    fastnn.manual_seed(0)
    lin = fastnn.nn.Linear(40, 24)
    x = fastnn.randn(16, 40, requires_grad=True)
    with fastnn.autocast("cpu", dtype=fastnn.bfloat16):
        assert fastnn.is_autocast_enabled()
        y = lin(x)
    assert not fastnn.is_autocast_enabled()
    assert y.dtype == fastnn.float32
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    xa = x.detach().numpy()
    want = ops.matmul(xa, w, trans_b=True, bf16=True) + b
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-6, atol=1e-6)
    assert np.abs(y.detach().numpy() - (xa @ w.T + b)).max() > 0  # not the float32 product
    g = np.random.default_rng(1).standard_normal((16, 24)).astype(np.float32)
    y.backward(fastnn.tensor(g))  # outside the block: the backward of what ran inside stays bf16
    np.testing.assert_allclose(lin.weight.grad.numpy(), ops.matmul(g, xa, trans_a=True, bf16=True), rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), ops.matmul(g, w, bf16=True), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(0), rtol=1e-5)


def test_autocast_covers_functional_sequential_and_conv():
    fastnn.manual_seed(1)
    x = fastnn.randn(4, 3, 9, 9)
    conv = fastnn.nn.Conv2d(3, 6, 3, padding=1)
    seq = fastnn.nn.Sequential(fastnn.nn.Flatten(), fastnn.nn.Linear(243, 10), fastnn.nn.ReLU(), fastnn.nn.Linear(10, 3))
    with fastnn.autocast("cpu"):
        yc = conv(x).detach().numpy()
        yf = fastnn.nn.functional.conv2d(x, conv.weight, conv.bias, padding=1).detach().numpy()
        ys = seq(x).detach().numpy()
        yl = fastnn.nn.functional.linear(x.flatten(1), seq[1].weight).detach().numpy()
    want = ops.conv2d(x.numpy(), conv.weight.detach().numpy(), conv.bias.detach().numpy(), padding=(1, 1, 1, 1),
                      bf16=True)
    np.testing.assert_array_equal(yc, want)
    np.testing.assert_array_equal(yf, want)
    np.testing.assert_array_equal(yl, ops.matmul(x.numpy().reshape(4, -1), seq[1].weight.detach().numpy(),
                                                 trans_b=True, bf16=True))
    np.testing.assert_allclose(ys, seq(x).detach().numpy(), rtol=0.05, atol=0.05)
    assert not np.array_equal(ys, seq(x).detach().numpy())


def test_autocast_nesting_decorator_and_refusals():
    lin = fastnn.nn.Linear(8, 8)
    x = fastnn.randn(2, 8)

    @fastnn.autocast("cpu")
    def f():
        with fastnn.autocast("cpu", enabled=False):
            off = fastnn.is_autocast_enabled()
        return fastnn.is_autocast_enabled(), off, lin(x)

    on, off, y = f()
    assert on and not off and not fastnn.is_autocast_enabled()
    assert fastnn.amp.autocast is fastnn.autocast and fastnn.get_autocast_dtype("cpu") == fastnn.bfloat16
    with pytest.raises(ValueError, match="device_type"):
        fastnn.autocast("cuda")
    with pytest.raises(ValueError, match="dtype"):
        fastnn.autocast("cpu", dtype=fastnn.float16)
    with pytest.raises(TypeError, match="enabled"):
        fastnn.autocast("cpu", enabled="yes")
    t = fastnn.randn(3).bfloat16()
    assert t.dtype == fastnn.bfloat16 and t.float().dtype == fastnn.float32


def test_fit_precision_argument_is_checked_before_training():
    m = fastnn.nn.Sequential(fastnn.nn.Linear(4, 2))
    before = m.state_dict()["0.weight"].clone()
    with pytest.raises(ValueError, match="precision"):
        fastnn.fit(m, np.zeros((8, 4), np.float32), np.zeros(8, np.int64), loss="cross_entropy", optimizer="sgd",
                   epochs=1, verbose=0, precision="fp8")
    np.testing.assert_array_equal(m.state_dict()["0.weight"], before)


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_bf16_training_matches_float32_accuracy(kind):
    """Training parity on digits: over 3 seeds, bf16's mean validation accuracy within 1 point of
    float32's (the products in bf16; weights, losses and the optimizer in float32)."""
    X, y = _digits()
    if kind == "cnn":
        X = X.reshape(-1, 1, 8, 8)
    acc = {}
    for prec in ("32", "bf16"):
        vals = []
        for seed in range(3):
            fastnn.manual_seed(seed)
            nn = fastnn.nn
            if kind == "mlp":
                m = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
            else:
                m = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                                  nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128, 10))
            h = fastnn.fit(m, X[:1400], y[:1400], loss="cross_entropy", optimizer=fastnn.optim.Adam(m.parameters(), 2e-3),
                           epochs=8, batch_size=32, verbose=0, seed=seed, precision=prec,
                           validation_data=(X[1400:], y[1400:]))
            vals.append(h["val_accuracy"][-1])
        acc[prec] = float(np.mean(vals))
    assert acc["32"] > 0.85
    assert abs(acc["bf16"] - acc["32"]) <= 0.01, acc


def test_bf16_convolutions_do_not_depend_on_threads():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 8, 12, 11)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    w5 = rng.standard_normal((6, 8, 5, 5)).astype(np.float32)
    g = rng.standard_normal((3, 16, 12, 11)).astype(np.float32)
    with fastnn.set_num_threads(1):
        want = [ops.conv2d(x, w, padding=(1, 1, 1, 1), bf16=True), ops.conv2d(x, w5, stride=2, bf16=True),
                *ops.conv2d_backward(g, x, w, padding=(1, 1, 1, 1), bf16=True)]
    for nt in (2, 3):
        with fastnn.set_num_threads(nt):
            got = [ops.conv2d(x, w, padding=(1, 1, 1, 1), bf16=True), ops.conv2d(x, w5, stride=2, bf16=True),
                   *ops.conv2d_backward(g, x, w, padding=(1, 1, 1, 1), bf16=True)]
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    # bf16 rounding shows: not the float32 convolution, but within bf16's bound of it
    f32 = ops.conv2d(x, w, padding=(1, 1, 1, 1))
    assert not np.array_equal(want[0], f32)
    np.testing.assert_allclose(want[0], f32, atol=0.1, rtol=0.05)


@pytest.mark.filterwarnings("ignore:the loss is inf")
def test_grad_scaler_matches_torch():
    """fastnn.amp.GradScaler beside torch.amp.GradScaler("cpu"): the same scales, the same skipped step
    (an inf gradient), the same parameters after growth_interval clean steps."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    xs = [rng.standard_normal((5, 4)).astype(np.float32) for _ in range(6)]
    xs[2][0, 0] = np.inf  # this step's gradient is not finite: skipped, the scale backs off

    def run(T):
        lin = T.nn.Linear(4, 3, bias=False)
        with T.no_grad():
            lin.weight.copy_(T.tensor(w0))
        opt = T.optim.SGD(lin.parameters(), lr=0.1)
        scaler = T.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
        scales = []
        for x in xs:
            opt.zero_grad()
            loss = (lin(T.tensor(x)) ** 2).mean()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            scales.append(float(scaler.get_scale()))
        return scales, lin.weight.detach().numpy().copy(), scaler.state_dict()["_growth_tracker"]

    s_f, w_f, t_f = run(fastnn)
    s_t, w_t, t_t = run(torch)
    assert s_f == s_t and t_f == t_t
    np.testing.assert_allclose(w_f, w_t, rtol=1e-5, atol=1e-6)
    assert np.isfinite(w_f).all()


def test_grad_scaler_disabled_and_checked():
    lin = fastnn.nn.Linear(2, 1)
    opt = fastnn.optim.SGD(lin.parameters(), lr=0.1)
    off = fastnn.amp.GradScaler(enabled=False)
    loss = lin(fastnn.ones(1, 2)).sum()
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}
    on = fastnn.amp.GradScaler()
    on.scale(loss).backward()
    on.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_"):
        on.unscale_(opt)
    for bad in (dict(init_scale=-1.0), dict(growth_factor=0.5), dict(backoff_factor=1.5), dict(growth_interval=0)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            fastnn.amp.GradScaler(**bad)


def test_reference_twins_of_the_bf16_kernels():
    from fastnn import reference as R

    rng = np.random.default_rng(9)
    x = (rng.standard_normal(1000) * np.exp(rng.uniform(-20, 20, 1000))).astype(np.float32)
    x[:4] = [1e-40, -1e-40, np.inf, -0.0]
    want = x.astype(BF16).astype(np.float32)
    want[:2] = 0.0
    np.testing.assert_array_equal(R.bf16_round(x), want)
    a = rng.standard_normal((17, 40)).astype(np.float32)
    b = rng.standard_normal((40, 9)).astype(np.float32)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64) * 2.0
    got = ops.matmul(a, b, alpha=0.5, bf16=True)
    assert np.all(np.abs(got - R.matmul(a, b, alpha=0.5, bf16=True)) <= 41 * 2.0 ** -24 * scale)
    xi = rng.standard_normal((2, 8, 9, 9)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(ops.conv2d(xi, w, padding=(1, 1, 1, 1), bf16=True),
                               R.conv2d(xi, w, padding=(1, 1, 1, 1), bf16=True), atol=0.15, rtol=0.02)
