"""Convolutional networks on fastnn against PyTorch's CPU build, side by side in one run, float32.

    python bench/conv.py [--threads 1,2] [--reps 30] [--json bench/results/conv.json]

Measured (the convolution issue's bars), at each thread count:
  * a LeNet-5 training step on 1x28x28 at batch 64 (>= 1.5x torch) and a small CIFAR-style CNN (3x3
    convs 32-64-128, each with BN, ReLU and 2x2 max-pooling, a linear head) on 3x32x32 at batch 128
    (>= 1.2x torch): the PyTorch-style step zero_grad / forward / loss / backward / Adam step;
  * per layer of a sweep: forward and forward+backward milliseconds, GFLOP/s (2 k^2 C_in C_out H_out W_out
    per sample) against this machine's sgemm GFLOP/s (>= 50 % on 3x3 layers with C >= 32), and
    forward+backward / forward (<= 3.5); first layers (1 or 3 input channels: an image) compute no input
    gradient, as in training, for torch too;
  * the fixed cost of one call (16x32x32, 3x3, 16 channels): the intercept of the time over 1-4 images
    per thread;
  * max-pooling 2x2 forward + backward on [64, 64, 56, 56] against copy bandwidth (>= 40 %);
  * a conv whose weights are subnormal (~1e-40) against the same conv with normal weights (<= 1.2x).
Candidates alternate in blocks (fastnn.benchmark.time_side_by_side); medians are quoted.
"""
import argparse
import os

import numpy as np

import fastnn
from fastnn import nn, ops
from fastnn.benchmark import machine_info, thread_list, time_side_by_side, write_json


def lenet(N):
    return N.Sequential(N.Conv2d(1, 6, 5, padding=2), N.ReLU(), N.MaxPool2d(2),
                        N.Conv2d(6, 16, 5), N.ReLU(), N.MaxPool2d(2), N.Flatten(),
                        N.Linear(16 * 5 * 5, 120), N.ReLU(), N.Linear(120, 84), N.ReLU(), N.Linear(84, 10))


def cifar_net(N):
    layers, c = [], 3
    for w in (32, 64, 128):
        layers += [N.Conv2d(c, w, 3, padding=1), N.BatchNorm2d(w), N.ReLU(), N.MaxPool2d(2)]
        c = w
    return N.Sequential(*layers, N.Flatten(), N.Linear(128 * 4 * 4, 10))


def step_pair(build, shape, batch):
    """A training step of the same model (same weights, same batch) on fastnn and on torch."""
    import torch
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch,) + shape).astype(np.float32)
    y = rng.integers(0, 10, batch)
    fastnn.manual_seed(0)
    fm, tm = build(nn), build(torch.nn)
    tm.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in fm.state_dict().items()})
    fo, to = fastnn.optim.Adam(fm.parameters(), lr=1e-3), torch.optim.Adam(tm.parameters(), lr=1e-3)
    fl, tl = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    fx, fy, tx, ty = fastnn.from_numpy(x), fastnn.from_numpy(y), torch.from_numpy(x), torch.from_numpy(y)

    def f():
        fo.zero_grad()
        fl(fm(fx), fy).backward()
        fo.step()

    def t():
        to.zero_grad()
        tl(tm(tx), ty).backward()
        to.step()
    return {"fastnn": f, "torch": t}


def sgemm_gflops(reps):
    """This machine's sgemm peak (fastnn.ops.matmul, 1024^3, at the current thread count): the fastest of
    several blocks of calls (a shared machine's slow moments would otherwise flatter the layers)."""
    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    out = np.empty_like(a)
    t = min(time_side_by_side({"mm": lambda: ops.matmul(a, a, out=out)}, reps=max(4, reps // 4))["mm"]
            for _ in range(5))
    return 2 * 1024 ** 3 / t / 1e9


# (label, N, C_in, C_out, H, k, stride, padding): LeNet's, the CIFAR net's and ResNet-like layers
LAYERS = [("lenet conv1", 64, 1, 6, 28, 5, 1, 2), ("lenet conv2", 64, 6, 16, 14, 5, 1, 0),
          ("cifar conv1", 128, 3, 32, 32, 3, 1, 1), ("cifar conv2", 128, 32, 64, 16, 3, 1, 1),
          ("cifar conv3", 128, 64, 128, 8, 3, 1, 1), ("3x3 64@56 b16", 16, 64, 64, 56, 3, 1, 1),
          ("3x3 128@28 b32", 32, 128, 128, 28, 3, 1, 1), ("3x3 s2 64->128@56 b16", 16, 64, 128, 56, 3, 2, 1),
          ("1x1 256->64@28 b32", 32, 256, 64, 28, 1, 1, 0), ("depthwise 3x3 128@28 b32", 32, 128, 128, 28, 3, 1, 1)]


def layer_rows(nt, reps, peak):
    import torch
    rows = []
    for label, N, C, O, H, k, s, p in LAYERS:
        g = C if label.startswith("depthwise") else 1
        rng = np.random.default_rng(1)
        x = rng.standard_normal((N, C, H, H)).astype(np.float32)
        w = (rng.standard_normal((O, C // g, k, k)) * 0.1).astype(np.float32)
        b = np.zeros(O, np.float32)
        kw = dict(stride=(s, s), padding=(p,) * 4, groups=g)
        y = ops.conv2d(x, w, b, **kw)
        gy = np.ones_like(y)
        gx, gw, gb = np.empty_like(x), np.empty_like(w), np.empty_like(b)
        tx, tw, tb = torch.from_numpy(x), torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()
        txg = tx.clone().requires_grad_()
        tg = torch.from_numpy(gy)
        first = C <= 3  # a network's first layer (image input): training needs no input gradient there
        fns = {
            "fwd": lambda: ops.conv2d(x, w, b, out=y, **kw),
            "fwdbwd": lambda: (ops.conv2d(x, w, b, out=y, **kw),
                               ops.conv2d_backward(gy, x, w, need_input_grad=not first, grad_input=gx,
                                                   grad_weight=gw, grad_bias=gb, **kw)),
            "torch_fwd": lambda: torch.nn.functional.conv2d(tx, tw.detach(), tb.detach(), s, p, 1, g),
            "torch_fwdbwd": lambda: torch.autograd.grad(torch.nn.functional.conv2d(tx if first else txg, tw, tb,
                                                                                   s, p, 1, g),
                                                        (tw, tb) if first else (txg, tw, tb), tg),
        }
        r = time_side_by_side(fns, reps=reps, block=4, skip=1)
        flops = 2 * k * k * (C // g) * O * y.shape[2] * y.shape[3] * N
        rows.append({"layer": label, "threads": nt, "fwd_ms": r["fwd"] * 1e3, "fwdbwd_ms": r["fwdbwd"] * 1e3,
                     "torch_fwd_ms": r["torch_fwd"] * 1e3, "torch_fwdbwd_ms": r["torch_fwdbwd"] * 1e3,
                     "gflops": flops / r["fwd"] / 1e9, "of_sgemm": flops / r["fwd"] / 1e9 / peak,
                     "bwd_ratio": r["fwdbwd"] / r["fwd"], "k": k, "cin": C, "groups": g})
    return rows


def fixed_cost(reps, nt):
    """What one call costs beyond its arithmetic: the intercept of a straight line fitted to the time of a
    16x32x32 3x3 convolution over k * nt images, k = 1..4 (k * nt keeps the whole team equally busy); the
    median of three fits."""
    rng = np.random.default_rng(2)
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    pad = (1, 1, 1, 1)
    ks = [1, 2, 3, 4]
    xs = {k: rng.standard_normal((k * nt, 16, 32, 32)).astype(np.float32) for k in ks}
    ys = {k: np.empty_like(xs[k]) for k in ks}
    fits = []
    for _ in range(3):
        r = time_side_by_side({k: (lambda k=k: ops.conv2d(xs[k], w, padding=pad, out=ys[k])) for k in ks},
                              reps=reps * 10, block=50, skip=10)
        slope, icept = np.polyfit(ks, [r[k] for k in ks], 1)
        fits.append((icept, r[1]))
    icept, t1 = sorted(fits)[1]
    return {"t1_us": t1 * 1e6, "fixed_us": max(0.0, icept) * 1e6}


def maxpool_bandwidth(reps):
    x = np.random.default_rng(3).standard_normal((64, 64, 56, 56)).astype(np.float32)
    hs, hn, _ = fastnn.nn.functional.pool_windows(56, 2, 2, 0, 1, False)
    y, idx = ops.pool2d(x, hs, hn, 1, hs, hn, 1, return_indices=True)
    g, gx, dst = np.ones_like(y), np.empty_like(x), np.empty_like(x)

    def pool():
        ops.pool2d(x, hs, hn, 1, hs, hn, 1, return_indices=True, out=y)
        ops.pool2d_backward(g, x.shape, hs, hn, 1, hs, hn, 1, indices=idx, out=gx)

    r = time_side_by_side({"pool": pool, "copy": lambda: np.copyto(dst, x)}, reps=reps, block=4, skip=1)
    copy_gbs = 2 * x.nbytes / r["copy"] / 1e9              # read + write
    traffic = x.nbytes + y.nbytes + g.nbytes + gx.nbytes    # x in, y out; gy in, gx out
    return {"pool_ms": r["pool"] * 1e3, "pool_gbs": traffic / r["pool"] / 1e9, "copy_gbs": copy_gbs,
            "of_copy": traffic / r["pool"] / 1e9 / copy_gbs}


def denormal_rows(reps):
    import torch
    rng = np.random.default_rng(4)
    x = rng.standard_normal((32, 32, 28, 28)).astype(np.float32)
    wn = (rng.standard_normal((32, 32, 3, 3)) * 0.1).astype(np.float32)
    wd = (wn * 1e-39).astype(np.float32)  # subnormal: |w| ~ 1e-40
    assert np.all(np.abs(wd[wd != 0]) < np.finfo(np.float32).tiny)
    y, gy = np.empty((32, 32, 28, 28), np.float32), np.ones((32, 32, 28, 28), np.float32)
    gx, gw = np.empty_like(x), np.empty_like(wn)
    pad = (1, 1, 1, 1)

    def f(w):
        return lambda: (ops.conv2d(x, w, padding=pad, out=y),
                        ops.conv2d_backward(gy, x, w, grad_input=gx, grad_weight=gw, need_bias_grad=False, padding=pad))

    tx = torch.from_numpy(x)

    def t(w):
        tw = torch.from_numpy(w).requires_grad_()
        txg = tx.clone().requires_grad_()
        return lambda: torch.autograd.grad(torch.nn.functional.conv2d(txg, tw, None, 1, 1), (txg, tw),
                                           torch.from_numpy(gy))
    r = time_side_by_side({"normal": f(wn), "subnormal": f(wd), "torch_normal": t(wn), "torch_subnormal": t(wd)},
                          reps=reps, block=4, skip=1)
    fastnn.set_flush_denormal(False)
    try:
        off = time_side_by_side({"normal": f(wn), "subnormal": f(wd)}, reps=max(3, reps // 3), block=3, skip=1)
    finally:
        fastnn.set_flush_denormal(True)
    return {"ratio": r["subnormal"] / r["normal"], "torch_ratio": r["torch_subnormal"] / r["torch_normal"],
            "ratio_flush_off": off["subnormal"] / off["normal"], "normal_ms": r["normal"] * 1e3}


def main(argv=None):
    import torch
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default=None)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "conv.json"))
    a = ap.parse_args(argv)
    info = machine_info()
    print(f"fastnn {info['fastnn']} | torch {info['torch']} | {info['cpu']} | {info['cores']} cores")
    out = {"machine": info, "nets": [], "layers": [], "fixed": [], "maxpool": [], "denormal": [], "sgemm": {}}
    for nt in thread_list(a.threads):
        torch.set_num_threads(nt)
        with fastnn.set_num_threads(nt):
            peak = sgemm_gflops(a.reps)
            out["sgemm"][nt] = peak
            print(f"\n== {nt} thread(s): sgemm {peak:.0f} GFLOP/s")
            for name, build, shape, batch, want in (("LeNet-5", lenet, (1, 28, 28), 64, 1.5),
                                                    ("CIFAR CNN", cifar_net, (3, 32, 32), 128, 1.2)):
                r = time_side_by_side(step_pair(build, shape, batch), reps=a.reps, block=4, skip=1, settle=0.1)
                row = {"net": name, "batch": batch, "threads": nt, "fastnn_ms": r["fastnn"] * 1e3,
                       "torch_ms": r["torch"] * 1e3, "speedup": r["torch"] / r["fastnn"], "want": want}
                out["nets"].append(row)
                print(f"{name:10s} batch {batch:3d} step: fastnn {row['fastnn_ms']:7.2f} ms  torch "
                      f"{row['torch_ms']:7.2f} ms  x{row['speedup']:.2f} (want >= {want})")
            print(f"{'layer':26s} {'fwd ms':>7s} {'f+b ms':>7s} {'torch f':>7s} {'torch fb':>8s} {'GF/s':>6s} "
                  f"{'%sgemm':>6s} {'fb/f':>5s}")
            for row in layer_rows(nt, max(5, a.reps // 3), peak):
                out["layers"].append(row)
                print(f"{row['layer']:26s} {row['fwd_ms']:7.2f} {row['fwdbwd_ms']:7.2f} {row['torch_fwd_ms']:7.2f} "
                      f"{row['torch_fwdbwd_ms']:8.2f} {row['gflops']:6.1f} {100 * row['of_sgemm']:5.0f}% "
                      f"{row['bwd_ratio']:5.2f}")
            fc = dict(fixed_cost(a.reps, nt), threads=nt)
            out["fixed"].append(fc)
            print(f"fixed cost per call (16x32x32, 3x3): {fc['fixed_us']:.1f} us (intercept; {nt} image(s) take "
                  f"{fc['t1_us']:.1f} us)")
            mp = dict(maxpool_bandwidth(max(5, a.reps // 3)), threads=nt)
            out["maxpool"].append(mp)
            print(f"max-pool 2x2 fwd+bwd [64,64,56,56]: {mp['pool_ms']:.1f} ms, {mp['pool_gbs']:.1f} GB/s = "
                  f"{100 * mp['of_copy']:.0f}% of copy ({mp['copy_gbs']:.1f} GB/s)")
            dn = dict(denormal_rows(max(5, a.reps // 3)), threads=nt)
            out["denormal"].append(dn)
            print(f"subnormal weights: fastnn x{dn['ratio']:.2f} of normal (flush off: x{dn['ratio_flush_off']:.2f}), "
                  f"torch x{dn['torch_ratio']:.2f}")
    allc = max(thread_list(a.threads))
    print(f"\ntargets ({allc} threads):")
    for r in out["nets"]:
        if r["threads"] == allc:
            print(f"  {'PASS' if r['speedup'] >= r['want'] else 'MISS'} {r['net']} step x{r['speedup']:.2f} torch "
                  f"(want >= {r['want']})")
    for r in out["layers"]:
        if r["threads"] != allc:
            continue
        if r["k"] == 3 and r["cin"] >= 32 and r["groups"] == 1:
            print(f"  {'PASS' if r['of_sgemm'] >= 0.5 else 'MISS'} {r['layer']}: {100 * r['of_sgemm']:.0f}% of sgemm "
                  f"(want >= 50%)")
        print(f"  {'PASS' if r['bwd_ratio'] <= 3.5 else 'MISS'} {r['layer']}: fwd+bwd {r['bwd_ratio']:.2f}x fwd "
              f"(want <= 3.5)")
    for r in out["fixed"]:
        if r["threads"] == allc:
            print(f"  {'PASS' if r['fixed_us'] <= 5 else 'MISS'} fixed cost {r['fixed_us']:.1f} us (want <= 5)")
    for r in out["maxpool"]:
        if r["threads"] == allc:
            print(f"  {'PASS' if r['of_copy'] >= 0.4 else 'MISS'} max-pool {100 * r['of_copy']:.0f}% of copy bandwidth "
                  f"(want >= 40%)")
    for r in out["denormal"]:
        if r["threads"] == allc:
            print(f"  {'PASS' if r['ratio'] <= 1.2 else 'MISS'} subnormal weights x{r['ratio']:.2f} (want <= 1.2)")
    write_json(a.json, out)


if __name__ == "__main__":
    main()
