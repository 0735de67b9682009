"""Convolution and pooling: PyTorch parity on a randomized sweep (outputs and every gradient, float32),
float64 finite differences, the max-pool tie rule, thread-count invariance, the NumPy twins, bounded
memory, flushing of subnormals, and CNNs through fit, the PyTorch-style loop, checkpoints and summary."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastnn
from fastnn import nn, ops, reference as R
from fastnn.nn import functional as F
from _helpers import run_python

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def close(a, b, rtol=1e-4):
    """float32 parity: relative to the largest magnitude (sums of many products)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    err = float(np.abs(a - b).max(initial=0.0)) / scale
    assert err <= rtol, f"relative error {err:.2e} > {rtol:.0e}"


def run_both(fn_fast, fn_torch, arrays, seed):
    """Forward both on the same float32 arrays, backward a random upstream gradient; compare all."""
    fx = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    fy, ty = fn_fast(*fx), fn_torch(*tx)
    close(fy.detach().numpy(), ty.detach().numpy())
    g = np.random.default_rng(seed).standard_normal(tuple(ty.shape)).astype(np.float32)
    fy.backward(fastnn.tensor(g))
    ty.backward(torch.tensor(g))
    for f, t in zip(fx, tx):
        close(f.grad.numpy(), t.grad.numpy())


def conv_case(rng, nd):
    """One random convolution of the sweep: batch 1-32, channels 1-64, kernel 1/3/5/7, stride 1/2,
    padding 0/1/2/"same", dilation 1/2, groups 1/2/depthwise, odd sizes."""
    groups = rng.choice(["1", "2", "dw"])
    cin = int(rng.choice([1, 2, 3, 8, 16, 33, 64]))
    if groups == "2":
        cin = max(2, cin - cin % 2)
    g = {"1": 1, "2": 2, "dw": cin}[groups]
    cout = g * int(rng.choice([1, 2, 3])) if groups == "dw" else g * int(rng.integers(1, 33 // g + 1))
    k = int(rng.choice([1, 3, 5, 7]))
    stride, dil = int(rng.choice([1, 2])), int(rng.choice([1, 2]))
    pad = rng.choice(["0", "1", "2", "same"])
    pad = "same" if pad == "same" and stride == 1 else int(pad) if pad != "same" else 1
    n = int(rng.integers(1, 33))
    ks = (k,) * nd if nd == 1 or rng.random() < 0.7 else (k, int(rng.choice([1, 3])))  # now and then non-square
    size = [max(int(rng.integers(1, 20)) | 1, dil * (kk - 1) + 1) for kk in ks]  # at least one output
    return n, cin, cout, ks, stride, pad, dil, g, size


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("case", range(24))
def test_conv_matches_torch_on_random_sweep(nd, case):
    rng = np.random.default_rng(1000 * nd + case)
    n, cin, cout, ks, stride, pad, dil, g, size = conv_case(rng, nd)
    x = rng.standard_normal((n, cin, *size)).astype(np.float32)
    w = (rng.standard_normal((cout, cin // g, *ks)) * 0.2).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    ff, tf = (F.conv1d, TF.conv1d) if nd == 1 else (F.conv2d, TF.conv2d)
    kw = dict(stride=stride, padding=pad, dilation=dil, groups=g)
    run_both(lambda x, w, b: ff(x, w, b, **kw), lambda x, w, b: tf(x, w, b, **kw), [x, w, b], case)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("nd", [1, 2])
def test_conv_modules_match_torch_with_padding_modes(mode, nd):
    fastnn.manual_seed(0)
    Fm, Tm = (nn.Conv1d, torch.nn.Conv1d) if nd == 1 else (nn.Conv2d, torch.nn.Conv2d)
    for args in [dict(in_channels=4, out_channels=6, kernel_size=3, padding=2, padding_mode=mode),
                 dict(in_channels=4, out_channels=4, kernel_size=4, padding="same", dilation=2, groups=2,
                      padding_mode=mode),
                 dict(in_channels=4, out_channels=8, kernel_size=3, stride=2, padding=1, bias=False,
                      padding_mode=mode)]:
        fm, tm = Fm(**args), Tm(**args)
        tm.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in fm.state_dict().items()})
        x = np.random.default_rng(3).standard_normal((3, 4) + (9,) * nd).astype(np.float32)
        run_both(fm, tm, [x], 7)
        for p, q in zip(fm.parameters(), tm.parameters()):
            close(p.grad.numpy(), q.grad.numpy())


def test_conv_default_init_has_torch_statistics():
    fastnn.manual_seed(0)
    m = nn.Conv2d(64, 128, 3)
    bound = 1 / np.sqrt(64 * 9)  # kaiming_uniform(a=sqrt(5)) gives U(+-1/sqrt(fan_in)), as the bias
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)
    he = nn.Conv2d(64, 128, 3, init="he_normal").weight.detach().numpy()
    assert he.std() == pytest.approx(np.sqrt(2 / (64 * 9)), rel=0.02)
    assert np.all(nn.Conv2d(3, 4, 3, init="he_normal").bias.detach().numpy() == 0)


def pool_case(rng, nd):
    k = int(rng.choice([1, 2, 3, 5]))
    s = int(rng.choice([1, 2, 3]))
    p = int(rng.integers(0, k // 2 + 1))
    ceil = bool(rng.integers(0, 2))
    size = tuple(int(rng.integers(k, 18)) for _ in range(nd))
    shape = (int(rng.integers(1, 9)), int(rng.integers(1, 17))) + size
    return k, s, p, ceil, shape


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("case", range(16))
def test_pools_match_torch_on_random_sweep(nd, case):
    rng = np.random.default_rng(5000 + 100 * nd + case)
    k, s, p, ceil, shape = pool_case(rng, nd)
    x = rng.standard_normal(shape).astype(np.float32)
    d = int(rng.choice([1, 2]))
    mp = (F.max_pool1d, TF.max_pool1d) if nd == 1 else (F.max_pool2d, TF.max_pool2d)
    if d * (k - 1) + 1 <= shape[-1] + 2 * p and all(d * (k - 1) + 1 <= n + 2 * p for n in shape[2:]):
        kw = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        run_both(lambda x: mp[0](x, **kw), lambda x: mp[1](x, **kw), [x], case)
    ap = (F.avg_pool1d, TF.avg_pool1d) if nd == 1 else (F.avg_pool2d, TF.avg_pool2d)
    for cip in (True, False):
        kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=cip)
        run_both(lambda x: ap[0](x, **kw), lambda x: ap[1](x, **kw), [x], case)
    out = tuple(int(rng.integers(1, n + 3)) for n in shape[2:])
    aa = (F.adaptive_avg_pool1d, TF.adaptive_avg_pool1d) if nd == 1 else (F.adaptive_avg_pool2d,
                                                                          TF.adaptive_avg_pool2d)
    am = (F.adaptive_max_pool1d, TF.adaptive_max_pool1d) if nd == 1 else (F.adaptive_max_pool2d,
                                                                          TF.adaptive_max_pool2d)
    for f, t in (aa, am):
        run_both(lambda x: f(x, out), lambda x: t(x, out), [x], case)


@pytest.mark.parametrize("cls,args", [
    ("MaxPool2d", (3, 2, 1)), ("MaxPool1d", (2,)), ("AvgPool2d", (3, 2, 1)), ("AvgPool1d", (3, 1, 1)),
    ("AdaptiveAvgPool2d", ((3, 2),)), ("AdaptiveAvgPool1d", (4,)), ("AdaptiveMaxPool2d", (1,)),
    ("AdaptiveMaxPool1d", (3,)), ("MaxPool2d", ((2, 3), (1, 2), 0, 1, False, True)),
])
def test_pool_modules_match_torch(cls, args):
    nd = 1 if cls.endswith("1d") else 2
    x = np.random.default_rng(0).standard_normal((2, 3) + (11,) * nd).astype(np.float32)
    run_both(getattr(nn, cls)(*args), getattr(torch.nn, cls)(*args), [x], 1)


def test_max_pool_indices_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 10)).astype(np.float32)
    fy, fi = F.max_pool2d(fastnn.tensor(x), 3, 2, 1, return_indices=True)
    ty, ti = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(fi.numpy(), ti.numpy())
    m = nn.MaxPool2d(3, 2, 1, return_indices=True)
    y, i = m(fastnn.tensor(x))
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    np.testing.assert_array_equal(y.numpy(), ty.numpy())


@pytest.mark.parametrize("kind", ["constant", "binary", "nan"])
def test_max_pool_ties_and_nans_route_like_torch(kind):
    rng = np.random.default_rng(1)
    if kind == "constant":
        x = np.ones((2, 2, 7, 7), np.float32)
    elif kind == "binary":
        x = rng.integers(0, 2, (2, 2, 7, 7)).astype(np.float32)
    else:
        x = rng.standard_normal((2, 2, 7, 7)).astype(np.float32)
        x[rng.random(x.shape) < 0.2] = np.nan
    for kw in (dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=2), dict(kernel_size=3, stride=2,
                                                                                 dilation=2, ceil_mode=True)):
        fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fy, ty = F.max_pool2d(fx, **kw), TF.max_pool2d(tx, **kw)
        np.testing.assert_array_equal(fy.detach().numpy(), ty.detach().numpy())
        g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
        fy.backward(fastnn.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("nd,kw", [
    (2, dict(stride=1, padding=1)), (2, dict(stride=2, padding=2, dilation=2)), (2, dict(groups=2, padding="same")),
    (1, dict(stride=2, padding=1)), (1, dict(groups=4, padding="same", dilation=2)),
])
def test_conv_float64_finite_differences(nd, kw):
    rng = np.random.default_rng(2)
    x = fastnn.tensor(rng.standard_normal((2, 4) + (6,) * nd), dtype=fastnn.float64, requires_grad=True)
    w = fastnn.tensor(rng.standard_normal((4, 4 // kw.get("groups", 1)) + (3,) * nd), dtype=fastnn.float64,
                      requires_grad=True)
    b = fastnn.tensor(rng.standard_normal(4), dtype=fastnn.float64, requires_grad=True)
    f = F.conv1d if nd == 1 else F.conv2d
    assert fastnn.autograd.gradcheck(lambda x, w, b: f(x, w, b, **kw), (x, w, b), eps=1e-6, atol=1e-7, rtol=1e-7)


@pytest.mark.parametrize("op", [
    lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    lambda x: F.adaptive_avg_pool2d(x, (2, 3)), lambda x: F.adaptive_max_pool2d(x, 2),
    lambda x: F.max_pool1d(x.flatten(2), 3, 2, ceil_mode=True), lambda x: F.avg_pool1d(x.flatten(2), 2),
    nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect", dtype=np.float64),
    nn.Conv2d(2, 2, 3, padding=2, padding_mode="circular", dtype=np.float64),
    nn.Conv2d(2, 4, (2, 3), padding=(2, 1), padding_mode="replicate", dtype=np.float64),
])
def test_pool_and_padded_conv_float64_finite_differences(op):
    fastnn.manual_seed(0)
    x = fastnn.tensor(np.random.default_rng(3).permutation(2 * 2 * 6 * 5).reshape(2, 2, 6, 5) / 7.0,
                      dtype=fastnn.float64, requires_grad=True)  # distinct values: max is differentiable
    assert fastnn.autograd.gradcheck(op, (x,), eps=1e-6, atol=1e-7, rtol=1e-7)


def conv_cases():
    return st.tuples(st.integers(1, 4), st.sampled_from([1, 2, 4]), st.integers(1, 5), st.sampled_from([1, 3]),
                     st.integers(1, 2), st.integers(0, 2), st.integers(1, 2), st.integers(3, 9), st.integers(3, 9),
                     st.integers(0, 2 ** 31 - 1))


@settings(max_examples=40, deadline=None)
@given(conv_cases(), st.sampled_from([np.float32, np.float64]))
def test_conv_kernels_match_numpy_twins(case, dtype):
    n, g, cg, k, s, p, d, h, w, seed = case
    rng = np.random.default_rng(seed)
    if d * (k - 1) + 1 > min(h, w) + 2 * p:
        return
    x = rng.standard_normal((n, g * cg, h, w)).astype(dtype)
    wt = rng.standard_normal((2 * g, cg, k, k)).astype(dtype)
    b = rng.standard_normal(2 * g).astype(dtype)
    kw = dict(stride=(s, s), padding=(p, p, p, p), dilation=(d, d), groups=g)
    y = ops.conv2d(x, wt, b, **kw)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(y, R.conv2d(x, wt, b, **kw), **tol)
    gy = rng.standard_normal(y.shape).astype(dtype)
    for a, r in zip(ops.conv2d_backward(gy, x, wt, **kw), R.conv2d_backward(gy, x, wt, **kw)):
        np.testing.assert_allclose(a, r, **tol)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 1), st.integers(1, 2), st.booleans(),
       st.sampled_from(["max", "avg"]), st.integers(0, 2 ** 31 - 1))
def test_pool_kernels_match_numpy_twins(k, s, p, d, ceil, op, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    p = min(p, k // 2)
    if op == "avg":
        d = 1
    hs, hn, OH = F.pool_windows(9, k, s, p, d, ceil)
    ws, wn, OW = F.pool_windows(8, k, s, p, d, ceil)
    div = np.outer(hn, wn).reshape(-1).astype(np.float64) if op == "avg" else None
    y, i = ops.pool2d(x, hs, hn, d, ws, wn, d, op=op, div=div, return_indices=True)
    yr, ir = R.pool2d(x, hs, hn, d, ws, wn, d, op=op, div=div, return_indices=True)
    np.testing.assert_allclose(y, yr, rtol=1e-6, atol=1e-6)
    if op == "max":
        np.testing.assert_array_equal(i, ir)
    g = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(ops.pool2d_backward(g, x.shape, hs, hn, d, ws, wn, d, op=op, indices=i, div=div),
                               R.pool2d_backward(g, x.shape, hs, hn, d, ws, wn, d, op=op, indices=ir, div=div),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape,wshape,kw", [
    ((16, 32, 20, 20), (48, 32, 3, 3), dict(padding=(1, 1, 1, 1))),     # tiles and per-chunk weight sums
    ((64, 3, 8, 8), (16, 3, 5, 5), dict(padding=(2, 2, 2, 2))),          # small images grouped per tile
    ((8, 64, 14, 14), (64, 1, 3, 3), dict(padding=(1, 1, 1, 1), groups=64)),  # depthwise
    ((8, 64, 14, 14), (32, 64, 1, 1), dict(stride=(2, 2))),               # 1x1
])
def test_conv_results_do_not_depend_on_thread_count(shape, wshape, kw):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(wshape).astype(np.float32)
    b = rng.standard_normal(wshape[0]).astype(np.float32)
    old = fastnn.get_num_threads()
    results = []
    try:
        for t in (1, 2, 3, 5):
            fastnn.set_num_threads(t)
            y = ops.conv2d(x, w, b, **kw)
            results.append([y] + list(ops.conv2d_backward(np.sin(y), x, w, **kw)))
            results[-1].append(ops.pool2d(x, *F.pool_windows(shape[2], 3, 2, 1, 1, False)[:2], 1,
                                          *F.pool_windows(shape[3], 3, 2, 1, 1, False)[:2], 1))
    finally:
        fastnn.set_num_threads(old)
    for r in results[1:]:
        for a, b_ in zip(results[0], r):
            np.testing.assert_array_equal(a, b_)


def test_conv_memory_is_bounded():
    """Peak extra memory of a 3x3 conv, C=64, 56x56, batch 64, forward + backward <= 1.25 x (input +
    output + weights): the unfolded buffer is per tile, never the batch's. The kernel, the module on
    arrays, and the module on tensors (a first layer: the input needs no gradient) each in a fresh process."""
    for path in ("kernel", "array", "tensor"):
        r = run_python(f"""
            import resource, numpy as np, fastnn
            from fastnn import nn, ops
            def rss():
                return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            x = np.empty((64, 64, 56, 56), np.float32)
            for i in range(64):  # no float64 temporary to inflate the high-water mark
                x[i] = np.random.default_rng(i).standard_normal((64, 56, 56), np.float32)
            gy = np.ones_like(x)
            conv = nn.Conv2d(64, 64, 3, padding=1)
            w = conv.weight.detach().numpy()
            ops.conv2d(x[:1, :, :8, :8], w, padding=(1, 1, 1, 1))  # load code, start the team
            budget = 1.25 * (x.nbytes + x.nbytes + w.nbytes)
            base = rss()
            if "{path}" == "kernel":
                y = ops.conv2d(x, w, padding=(1, 1, 1, 1))
                gx, gw, gb = ops.conv2d_backward(gy, x, w, padding=(1, 1, 1, 1))
            elif "{path}" == "array":
                y = conv(x)
                gx = conv.backward(gy)
            else:
                out = conv(fastnn.from_numpy(x))
                out.backward(fastnn.from_numpy(gy))
                assert conv.weight.grad is not None
            extra = rss() - base
            assert extra <= budget, (extra / budget * 1.25)
        """, timeout=300)
        assert r.returncode == 0, (path, r.stdout + r.stderr)


def test_subnormal_weights_are_flushed_by_default_and_the_switch_turns_it_off():
    x = np.ones((1, 2, 4, 4), np.float32)
    w = np.full((1, 2, 3, 3), 1e-40, np.float32)
    assert fastnn.get_flush_denormal()
    assert np.all(ops.conv2d(x, w) == 0)  # subnormal operands read as zero
    assert fastnn.set_flush_denormal(False) is True
    try:
        assert np.all(ops.conv2d(x, w) > 0)  # exact IEEE arithmetic: 18 x 1e-40
    finally:
        fastnn.set_flush_denormal(True)
    assert fastnn.get_flush_denormal()


def small_cnn(nd=2):
    conv, pool, bn = (nn.Conv1d, nn.MaxPool1d, nn.BatchNorm1d) if nd == 1 else (nn.Conv2d, nn.MaxPool2d,
                                                                               nn.BatchNorm2d)
    return nn.Sequential(conv(1, 8, 3, padding=1), bn(8), nn.ReLU(), pool(2),
                         conv(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1) if nd == 2
                         else nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(16, 3))


def toy_images(n=240, seed=0):
    """Three classes: a bright row, a bright column, or a bright diagonal, in noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, 1, 8, 8)).astype(np.float32) * 0.5
    for i, c in enumerate(y):
        j = rng.integers(1, 7)
        if c == 0:
            x[i, 0, j, :] += 2
        elif c == 1:
            x[i, 0, :, j] += 2
        else:
            x[i, 0, np.arange(8), np.arange(8)] += 2
    return x, y


def test_cnn_trains_with_fit_checkpoints_and_summary(tmp_path):
    fastnn.manual_seed(0)
    x, y = toy_images()
    m = small_cnn()
    hist = fastnn.fit(m, x, y, loss=nn.CrossEntropyLoss(), optimizer=fastnn.optim.Adam(m.parameters(), lr=1e-2),
                      epochs=15, batch_size=32, verbose=0)
    assert hist["loss"][-1] < hist["loss"][0] * 0.5
    acc = fastnn.evaluate(m, x, y, loss=nn.CrossEntropyLoss())["accuracy"]
    assert acc > 0.9
    s = m.summary((1, 8, 8))
    assert "Conv2d" in s and "MaxPool2d" in s and "(8, 8, 8)" in s.replace("[", "(").replace("]", ")") \
        or "8, 8, 8" in s
    path = tmp_path / "cnn.pt"
    fastnn.save(m.state_dict(), path)
    m2 = small_cnn()
    m2.load_state_dict(fastnn.load(path))
    m.eval(), m2.eval()
    xt = fastnn.tensor(x)
    np.testing.assert_array_equal(m(xt).detach().numpy(), m2(xt).detach().numpy())
    # a checkpoint of a different architecture is refused, naming the mismatch
    m3 = nn.Sequential(nn.Conv2d(1, 4, 3))
    with pytest.raises((ValueError, RuntimeError, KeyError)):
        m3.load_state_dict(fastnn.load(path))


def test_cnn_state_dict_loads_into_torch_and_back():
    fastnn.manual_seed(0)
    fm = small_cnn()
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                             torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(),
                             torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Dropout(0.1),
                             torch.nn.Linear(16, 3))
    tm.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in fm.state_dict().items()})
    fm.eval(), tm.eval()
    x, _ = toy_images(16)
    close(fm(fastnn.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), 1e-5)


def test_cnn_trains_with_the_pytorch_style_loop():
    fastnn.manual_seed(0)
    x, y = toy_images()
    m = nn.Sequential(nn.Conv1d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten(),
                      nn.Linear(16 * 4, 3))
    opt = fastnn.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    loader = fastnn.utils.data.DataLoader(fastnn.utils.data.TensorDataset(fastnn.tensor(x[:, 0]), fastnn.tensor(y)),
                                          batch_size=32, shuffle=True)
    lossf = nn.CrossEntropyLoss()
    first = None
    for epoch in range(10):
        for xb, yb in loader:
            opt.zero_grad()
            loss = lossf(m(xb), yb)
            loss.backward()
            opt.step()
            first = loss.item() if first is None else first
    with fastnn.no_grad():
        acc = (m(fastnn.tensor(x[:, 0])).argmax(1) == fastnn.tensor(y)).float().mean().item()
    assert acc > 0.9 and loss.item() < first


def test_conv_rejects_bad_arguments_clearly():
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="same"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(3, 4, 0)
    m = nn.Conv2d(3, 4, 5)
    with pytest.raises(ValueError, match="expected"):
        m(np.zeros((2, 2, 8, 8), np.float32))
    with pytest.raises(ValueError, match="smaller"):
        m(np.zeros((2, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match="pad"):
        nn.MaxPool2d(2, padding=2)


@pytest.fixture(params=["im2col", "winograd"])
def algorithm(request):
    from fastnn._ext import _conv
    _conv.set_algorithm(request.param)
    yield request.param
    _conv.set_algorithm("auto")


@pytest.mark.parametrize("shape,wshape,pad,groups", [
    ((3, 16, 7, 9), (16, 16), 1, 1), ((2, 8, 5, 6), (24, 8), 0, 1), ((4, 32, 11, 11), (32, 16), 2, 2),
    ((2, 8, 13, 4), (8, 8), 3, 1), ((1, 8, 1, 1), (16, 8), 1, 1), ((40, 8, 3, 3), (8, 8), 1, 1),
    ((1, 64, 14, 14), (32, 64), 1, 1), ((2, 4, 57, 33), (4, 4), 1, 1), ((3, 6, 9, 8), (6, 2), 1, 3),
])
def test_both_convolution_algorithms_match_numpy_and_are_thread_invariant(algorithm, shape, wshape, pad, groups):
    """im2col and Winograd F(2x2, 3x3) (every 3x3 stride-1 layer when forced): float64 to 1e-12 against the
    NumPy twin, and bitwise the same for any thread count (bands of tile rows, images side by side, one
    image split for a team)."""
    rng = np.random.default_rng(sum(shape))
    out_c, cg = wshape
    kw = dict(padding=(pad,) * 4, groups=groups)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-5)):
        x = rng.standard_normal(shape).astype(dtype)
        w = rng.standard_normal((out_c, cg, 3, 3)).astype(dtype)
        b = rng.standard_normal(out_c).astype(dtype)
        y = ops.conv2d(x, w, b, **kw)
        np.testing.assert_allclose(y, R.conv2d(x, w, b, **kw), rtol=tol, atol=tol * 10)
        gy = rng.standard_normal(y.shape).astype(dtype)
        grads = ops.conv2d_backward(gy, x, w, **kw)
        for a, r in zip(grads, R.conv2d_backward(gy, x, w, **kw)):
            np.testing.assert_allclose(a, r, rtol=tol, atol=tol * 10 * max(1, np.abs(r).max()))
        old = fastnn.get_num_threads()
        try:
            for t in (1, 3):
                fastnn.set_num_threads(t)
                np.testing.assert_array_equal(ops.conv2d(x, w, b, **kw), y)
                for a, r in zip(ops.conv2d_backward(gy, x, w, **kw), grads):
                    np.testing.assert_array_equal(a, r)
        finally:
            fastnn.set_num_threads(old)


def test_conv_algorithm_switch_is_validated():
    from fastnn._ext import _conv
    assert _conv.get_algorithm() == "auto"
    with pytest.raises(ValueError, match="name"):
        _conv.set_algorithm("fft")
    assert _conv.get_algorithm() == "auto"
