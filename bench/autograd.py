"""The PyTorch-style loop on fastnn (tensors + autograd) against PyTorch's eager loop and fastnn.fit,
side by side in one run, float32.

    python bench/autograd.py [--threads 1,2] [--rounds 3] [--per 4] [--json bench/results/autograd.json]

Workloads (the tensor/autograd issue's bars):
  * a custom nn.Module (fc1..fc3, F.relu in forward: one graph node per op) trained by the explicit loop
    ``opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()`` with Adam:
    784-256-128-10 at batch 32 (>= 2x torch) and 64-64-10 at batch 32 (>= 4x torch);
  * the same loop at batch 128 against fastnn.fit's throughput on the same model (within 15 %), and the
    same loop over a module that wraps an nn.Sequential (one fused node for the whole chain);
  * per-op overhead: ``(a * b + c)`` on 64 elements with requires_grad, forward + backward (<= 0.5x torch);
  * allocations of a steady autograd step (tracemalloc: blocks and bytes per step).
Epochs alternate between the engines (a settle pause before each turn, the first epoch of a turn dropped).
"""
import argparse
import os
import statistics
import time
import tracemalloc

import numpy as np

import fastnn
from fastnn import nn, optim
from fastnn.benchmark import machine_info, thread_list, time_side_by_side, write_json


def synthetic(n, d, k=10, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((k, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    return (centers[y] * 0.5 + rng.standard_normal((n, d))).astype(np.float32), y.astype(np.int64)


def make(lib, sizes, fused):
    """A user module as the course writes it, for fastnn or torch."""
    T = fastnn if lib == "fastnn" else __import__("torch")
    N, F = T.nn, T.nn.functional

    class PerOp(N.Module):
        def __init__(self):
            super().__init__()
            self.layers = N.ModuleList([N.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])

        def forward(self, x):
            for layer in self.layers[:-1]:
                x = F.relu(layer(x))
            return self.layers[-1](x)

    class Fused(N.Module):
        def __init__(self):
            super().__init__()
            mods = []
            for a, b in zip(sizes[:-2], sizes[1:-1]):
                mods += [N.Linear(a, b), N.ReLU()]
            self.net = N.Sequential(*mods, N.Linear(sizes[-2], sizes[-1]))

        def forward(self, x):
            return self.net(x)

    return Fused() if fused else PerOp()


def copy_weights(fm, tm):
    import torch
    tm.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in fm.state_dict().items()})


def loop_epoch(lib, model, opt, crit, X, y, batch, perm):
    for i in range(0, len(perm), batch):
        idx = perm[i:i + batch]
        xb, yb = X[idx], y[idx]
        opt.zero_grad()
        loss = crit(model(xb), yb)
        loss.backward()
        opt.step()


def epochs_side_by_side(runs, rounds, per):
    """runs: {name: epoch_fn() -> samples}; samples/s medians, engines alternating turn by turn."""
    sps = {k: [] for k in runs}
    for f in runs.values():
        f()
    for _ in range(rounds):
        for k, f in runs.items():
            time.sleep(0.2)
            for j in range(per):
                t0 = time.perf_counter()
                n = f()
                if j:
                    sps[k].append(n / (time.perf_counter() - t0))
    return {k: statistics.median(v) for k, v in sps.items()}


def loop_workload(sizes, batch, nt, rounds, per, n=10000, fused=False, with_fit=False):
    import torch
    X, y = synthetic(n, sizes[0])
    fastnn.manual_seed(0)
    fm = make("fastnn", sizes, fused)
    tm = make("torch", sizes, fused)
    copy_weights(fm, tm)
    fo, to = optim.Adam(fm.parameters(), lr=1e-3), torch.optim.Adam(tm.parameters(), lr=1e-3)
    fcrit, tcrit = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    fX, fy, tX, ty = fastnn.from_numpy(X), fastnn.from_numpy(y), torch.from_numpy(X), torch.from_numpy(y)
    rng = np.random.default_rng(0)

    def f_epoch():
        loop_epoch("fastnn", fm, fo, fcrit, fX, fy, batch, fastnn.from_numpy(rng.permutation(n)))
        return n

    def t_epoch():
        loop_epoch("torch", tm, to, tcrit, tX, ty, batch, torch.from_numpy(rng.permutation(n)))
        return n

    runs = {"fastnn": f_epoch, "torch": t_epoch}
    if with_fit:
        seq = nn.Sequential(*[m for pair in zip(fm.layers[:-1], [nn.ReLU() for _ in fm.layers[:-1]]) for m in pair],
                            fm.layers[-1]) if not fused else fm.net
        so = optim.Adam(seq.parameters(), lr=1e-3)

        def fit_epoch():
            fastnn.fit(seq, X, y, loss="cross_entropy", optimizer=so, epochs=1, batch_size=batch, verbose=0)
            return n
        runs["fit"] = fit_epoch
    torch.set_num_threads(nt)
    with fastnn.set_num_threads(nt):
        return epochs_side_by_side(runs, rounds, per)


def per_op(nt):
    import torch
    torch.set_num_threads(nt)
    fa, fb, fc = (fastnn.randn(64, requires_grad=True) for _ in range(3))
    ta, tb, tc = (torch.randn(64, requires_grad=True) for _ in range(3))
    g = np.ones(64, np.float32)
    fg, tg = fastnn.from_numpy(g), torch.from_numpy(g)

    def f():
        (fa * fb + fc).backward(fg)

    def t():
        (ta * tb + tc).backward(tg)

    with fastnn.set_num_threads(nt):
        r = time_side_by_side({"fastnn": f, "torch": t}, reps=3000, block=200, skip=20)
    return r["fastnn"] * 1e6, r["torch"] * 1e6


def allocations(sizes=(784, 256, 128, 10), batch=32, steps=50):
    X, y = synthetic(batch * 4, sizes[0])
    fastnn.manual_seed(0)
    m = make("fastnn", sizes, False)
    opt, crit = optim.Adam(m.parameters(), lr=1e-3), nn.CrossEntropyLoss()
    xs = [fastnn.from_numpy(X[i * batch:(i + 1) * batch]) for i in range(4)]
    ys = [fastnn.from_numpy(y[i * batch:(i + 1) * batch]) for i in range(4)]

    def step(i):
        opt.zero_grad()
        loss = crit(m(xs[i % 4]), ys[i % 4])
        loss.backward()
        opt.step()

    for i in range(10):
        step(i)
    tracemalloc.start()
    s0 = tracemalloc.take_snapshot()
    for i in range(steps):
        step(i)
    s1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    stats = s1.compare_to(s0, "filename")
    net = sum(st.size_diff for st in stats)
    tracemalloc.start()
    step(0)
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    step(1)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return {"net_bytes_per_step": net / steps, "peak_bytes_in_step": peak,
            "activation_bytes": 4 * batch * sum(sizes[1:])}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default=None)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--per", type=int, default=4)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "autograd.json"))
    a = ap.parse_args(argv)
    info = machine_info()
    print(f"fastnn {info['fastnn']} | torch {info['torch']} | {info['cpu']} | {info['cores']} cores")
    rows = []
    for nt in thread_list(a.threads):
        for sizes, batch, n in (((784, 256, 128, 10), 32, 10000), ((64, 64, 10), 32, 20000)):
            r = loop_workload(sizes, batch, nt, a.rounds, a.per, n=n)
            rows.append({"workload": "-".join(map(str, sizes)) + " per-op module", "batch": batch, "threads": nt,
                         "fastnn_sps": r["fastnn"], "torch_sps": r["torch"], "vs_torch": r["fastnn"] / r["torch"]})
        for fused in (False, True):
            r = loop_workload((784, 256, 128, 10), 128, nt, a.rounds, a.per, fused=fused, with_fit=True)
            rows.append({"workload": "784-256-128-10 " + ("Sequential module" if fused else "per-op module"),
                         "batch": 128, "threads": nt, "fastnn_sps": r["fastnn"], "torch_sps": r["torch"],
                         "fit_sps": r["fit"], "vs_torch": r["fastnn"] / r["torch"], "vs_fit": r["fastnn"] / r["fit"]})
        fo, to = per_op(nt)
        rows.append({"workload": "a*b+c (64) fwd+bwd", "threads": nt, "fastnn_us": fo, "torch_us": to,
                     "ratio": fo / to})
    print(f"\n{'workload':38s} {'batch':>5s} {'thr':>3s} {'fastnn/s':>10s} {'torch/s':>10s} {'fit/s':>10s} "
          f"{'x torch':>8s} {'loop/fit':>8s}")
    for r in rows:
        if "fastnn_us" in r:
            print(f"{r['workload']:38s} {'':5s} {r['threads']:3d} {r['fastnn_us']:8.1f}us {r['torch_us']:8.1f}us "
                  f"{'':10s} {r['ratio']:8.2f}")
            continue
        fit = f"{r['fit_sps']:10,.0f}" if "fit_sps" in r else " " * 10
        vf = f"{r['vs_fit']:8.2f}" if "vs_fit" in r else ""
        print(f"{r['workload']:38s} {r['batch']:5d} {r['threads']:3d} {r['fastnn_sps']:10,.0f} {r['torch_sps']:10,.0f} "
              f"{fit} {r['vs_torch']:8.2f} {vf}")
    al = allocations()
    print(f"\nsteady autograd step (784-256-128-10, batch 32): net {al['net_bytes_per_step']:.0f} B/step retained, "
          f"peak {al['peak_bytes_in_step'] / 1024:.1f} KiB of Python objects and arrays inside a step "
          f"(activations alone: {al['activation_bytes'] / 1024:.1f} KiB)")
    allc = max(thread_list(a.threads))
    print("\ntargets (all cores):")
    for r in rows:
        if r["threads"] != allc:
            continue
        if "fastnn_us" in r:
            verdict = 'PASS' if r['ratio'] <= 0.5 else 'MISS'
            print(f"  {verdict} per-op overhead x{r['ratio']:.2f} of torch (want <= 0.5)")
        elif "vs_fit" in r:
            ok = r["vs_fit"] >= 0.85
            print(f"  {'PASS' if ok else 'MISS'} {r['workload']} batch 128: loop at {r['vs_fit']:.2f} of fit "
                  "(want >= 0.85)")
        else:
            want = 2.0 if r["workload"].startswith("784") else 4.0
            print(f"  {'PASS' if r['vs_torch'] >= want else 'MISS'} {r['workload']} batch {r['batch']}: "
                  f"x{r['vs_torch']:.2f} torch (want >= {want})")
    write_json(a.json, {"machine": info, "rows": rows, "allocations": al})


if __name__ == "__main__":
    main()
