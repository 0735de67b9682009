"""bfloat16 vs float32 training steps: fastnn (float32, and bf16 under fastnn.autocast) against PyTorch
eager float32, torch.compile and PyTorch's CPU autocast to bf16, each engine and workload in its own
process, rounds interleaved; plus the 1024^3 product's rate in float32 and bf16 against the machine's
measured bf16 peak (a register-only vdpbf16ps loop, bench/peak_bf16.c, built with the system's gcc).

    python bench/bf16.py [--rounds 3] [--steps 30] [--only mlp1024,mlp256,default,cnn,gemm]
                         [--json bench/results/bf16.json]

Workloads (issue 27): a 784-1024-1024-10 ReLU MLP at batch 1024 (Adam); the course's 784-256-128-10 MLP at
batch 1024 (Adam; "mlp256", the float32 bar against PyTorch eager); the course's default network
(784-300-100-10, BatchNorm, ELU, dropout, SGD with Nesterov) at batch 128; a small CIFAR-style CNN
(conv3x3 32-32, max-pool, conv3x3 64-64, max-pool, fc 256, fc 10; 3x32x32 inputs; Adam) at batch 64.
Figures are samples/s of whole training steps (forward, loss, backward, update) on synthetic data,
medians over rounds.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINES = ["fastnn", "fastnn-bf16", "torch", "torch-compile", "torch-bf16"]
WORKLOADS = {"mlp1024": 1024, "mlp256": 1024, "default": 128, "cnn": 64}


def build(kind, L):
    if kind == "mlp1024":
        return L.Sequential(L.Linear(784, 1024), L.ReLU(), L.Linear(1024, 1024), L.ReLU(), L.Linear(1024, 10))
    if kind == "mlp256":
        return L.Sequential(L.Linear(784, 256), L.ReLU(), L.Linear(256, 128), L.ReLU(), L.Linear(128, 10))
    if kind == "default":
        return L.Sequential(L.Linear(784, 300), L.BatchNorm1d(300), L.ELU(), L.Dropout(0.2), L.Linear(300, 100),
                            L.BatchNorm1d(100), L.ELU(), L.Dropout(0.2), L.Linear(100, 10))
    return L.Sequential(L.Conv2d(3, 32, 3, padding=1), L.ReLU(), L.Conv2d(32, 32, 3, padding=1), L.ReLU(),
                        L.MaxPool2d(2), L.Conv2d(32, 64, 3, padding=1), L.ReLU(), L.Conv2d(64, 64, 3, padding=1),
                        L.ReLU(), L.MaxPool2d(2), L.Flatten(), L.Linear(64 * 8 * 8, 256), L.ReLU(),
                        L.Linear(256, 10))


def data(kind, batch, nb=8):
    import numpy as np

    rng = np.random.default_rng(0)
    shape = (nb * batch, 3, 32, 32) if kind == "cnn" else (nb * batch, 784)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, 10, nb * batch)


def run_one(engine, kind, steps):
    """Samples/s of `steps` training steps after a warm-up, in this process."""
    batch = WORKLOADS[kind]
    X, y = data(kind, batch)
    if engine.startswith("fastnn"):
        import fastnn as T
    else:
        import torch as T
        T.manual_seed(0)
    L = T.nn
    model = build(kind, L)
    opt = (T.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True) if kind == "default"
           else T.optim.Adam(model.parameters(), lr=1e-3))
    lossf = L.CrossEntropyLoss()
    fwd = T.compile(model) if engine == "torch-compile" else model
    bf16 = engine.endswith("bf16")
    xs = [T.tensor(X[i:i + batch]) for i in range(0, len(X), batch)]
    ys = [T.tensor(y[i:i + batch]) for i in range(0, len(y), batch)]

    def step(i):
        xb, yb = xs[i % len(xs)], ys[i % len(ys)]
        opt.zero_grad()
        with T.autocast("cpu", dtype=T.bfloat16, enabled=bf16):
            loss = lossf(fwd(xb), yb)
        loss.backward()
        opt.step()

    model.train()
    for i in range(5 if engine != "torch-compile" else 8):
        step(i)
    time.sleep(0.5)  # settle, as for the products
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps * batch / (time.perf_counter() - t0)


def gemm_one(engine, n=1024, reps=25):
    """GFLOP/s of an n^3 product in this process (median of reps)."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    if engine.startswith("fastnn"):
        from fastnn import ops

        f = (lambda: ops.matmul(a, b, bf16=True)) if engine.endswith("bf16") else (lambda: ops.matmul(a, b))
    else:
        import torch

        A, B = torch.from_numpy(a), torch.from_numpy(b)
        if engine.endswith("bf16"):
            A, B = A.bfloat16(), B.bfloat16()
        f = lambda: A @ B  # noqa: E731
    f()
    time.sleep(0.5)  # settle: the previous engine's process may still be leaving the cores
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(ts) / 1e9


def bf16_peak():
    """The machine's bf16 multiply-add peak in GFLOP/s over all cores (bench/peak_bf16.c), or None."""
    exe = os.path.join("/tmp", f"fastnn_peak_bf16_{os.getuid()}")
    src = os.path.join(HERE, "peak_bf16.c")
    r = subprocess.run(["gcc", "-O2", "-fopenmp", src, "-o", exe], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    r = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    return float(r.stdout.split()[0]) if r.returncode == 0 and r.stdout.strip() else None


def child(args):
    out = gemm_one(args.engine) if args.kind == "gemm" else run_one(args.engine, args.kind, args.steps)
    print(json.dumps(out))


def spawn(engine, kind, steps):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--engine", engine, "--kind", kind,
           "--steps", str(steps)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1:] or ["failed"]
    return json.loads(r.stdout.strip().splitlines()[-1]), None


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--only", default="mlp1024,mlp256,default,cnn,gemm")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--json", default=None)
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--engine")
    ap.add_argument("--kind")
    args = ap.parse_args(argv)
    if args.child:
        return child(args)
    kinds = args.only.split(",")
    engines = args.engines.split(",")
    import fastnn
    from fastnn._ext import _blas

    print(f"load average {open('/proc/loadavg').read().split()[:3]}; fastnn {fastnn.__version__}; "
          f"bf16 path: {_blas.kernel_info()['bf16']}; threads {fastnn.thread_status()}")
    res = {k: {e: [] for e in engines} for k in kinds}
    errors = {}
    for rnd in range(args.rounds):
        for k in kinds:
            for e in (engines if rnd % 2 == 0 else engines[::-1]):
                if k == "gemm" and e == "torch-compile":
                    continue
                v, err = spawn(e, k, args.steps)
                if v is None:
                    errors[(k, e)] = err
                else:
                    res[k][e].append(v)
    peak = bf16_peak() if "gemm" in kinds else None
    table = {k: {e: statistics.median(v) for e, v in res[k].items() if v} for k in kinds}
    for k in kinds:
        unit = "GFLOP/s" if k == "gemm" else "samples/s"
        print(f"\n{k} ({unit}, median of {args.rounds})")
        for e, v in table[k].items():
            print(f"  {e:14s} {v:12.1f}")
        t = table[k]
        if "fastnn" in t and "fastnn-bf16" in t:
            print(f"  bf16 / float32 (fastnn): {t['fastnn-bf16'] / t['fastnn']:.2f}x")
        for other in ("torch", "torch-compile", "torch-bf16"):
            for e in ("fastnn", "fastnn-bf16"):
                if e in t and other in t:
                    print(f"  {e} / {other}: {t[e] / t[other]:.2f}x")
    if peak:
        print(f"\nbf16 peak (vdpbf16ps, all cores): {peak:.1f} GFLOP/s")
        if "gemm" in table and "fastnn-bf16" in table["gemm"]:
            print(f"  fastnn bf16 1024^3: {100 * table['gemm']['fastnn-bf16'] / peak:.0f}% of peak")
    for (k, e), err in errors.items():
        print(f"  {k} {e}: failed: {err}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"table": table, "raw": res, "bf16_peak": peak, "load": open("/proc/loadavg").read()}, f,
                      indent=1)


if __name__ == "__main__":
    main()
