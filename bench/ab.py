"""Two source trees of fastnn side by side: the same workloads, each tree in its own processes, rounds
interleaved, medians and ratios; and whether both trees train to bitwise the same parameters.

    python bench/ab.py --before ../fastnn-old [--after .] [--rounds 5] [--json bench/results/ab.json]

Each tree must be built in place (``python setup.py build_ext --inplace``); a worker process imports
fastnn from one tree (its path first on sys.path) and runs one workload. The workloads are the fastnn
sides of bench/train.py, bench/autograd.py and bench/conv.py, with the public API only (so any two
versions compare):

* fit: the 784-256-128-10 ReLU MLP with Adam at batch 32 and 128, the course's default network
  (BatchNorm, ELU, dropout, Nesterov) at batch 128, the 64-64-10 MLP at batch 32 (samples/s);
* the PyTorch-style loop (zero_grad / loss.backward() / step) over a user module with F.relu at batch 32,
  and over a module wrapping an nn.Sequential at batch 128 (samples/s);
* conv: the small CIFAR-style CNN's training step at batch 128 and LeNet-5's at batch 64 (ms per step);
* per call: (a * b + c) forward and backward on 64 elements, F.cross_entropy and a reused
  nn.CrossEntropyLoss on (32, 10) logits, forward and backward (microseconds).

Bitwise: each training workload also trains a fixed number of steps from a fixed seed and hashes every
parameter; the table says whether the two trees' hashes agree.
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- the workloads (run inside a worker: fastnn is the tree's) ----
def _synthetic(n, d, k=10, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((k, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    return (centers[y] * 0.5 + rng.standard_normal((n, d))).astype(np.float32), y.astype(np.int64)


def _digest(model):
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.numpy().tobytes() if hasattr(v, "numpy") else bytes(v))
    return h.hexdigest()[:16]


def _mlp(nn, kind):
    if kind == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if kind == "default":
        return nn.Sequential(nn.Linear(784, 300), nn.BatchNorm1d(300), nn.ELU(), nn.Dropout(0.2),
                             nn.Linear(300, 100), nn.BatchNorm1d(100), nn.ELU(), nn.Dropout(0.2),
                             nn.Linear(100, 10))
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def _fit_case(kind, batch):
    def run():
        import fastnn
        from fastnn import nn, optim
        d = 64 if kind == "digits" else 784
        X, y = _synthetic(10000, d)
        fastnn.manual_seed(0)
        model = _mlp(nn, kind)
        opt = (optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True) if kind == "default"
               else optim.Adam(model.parameters(), lr=1e-3))

        def epoch():
            fastnn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=1, batch_size=batch, verbose=0,
                       seed=0)
        return epoch, X.shape[0], model
    return run


def _loop_case(fused, batch):
    def run():
        import fastnn
        from fastnn import nn, optim
        import fastnn.nn.functional as F

        class PerOp(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2, self.fc3 = nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)

            def forward(self, x):
                return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

        class Fused(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = _mlp(nn, "mlp")

            def forward(self, x):
                return self.net(x)

        X, y = _synthetic(10000, 784)
        fastnn.manual_seed(0)
        model = Fused() if fused else PerOp()
        opt, crit = optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()
        fX, fy = fastnn.from_numpy(X), fastnn.from_numpy(y)

        def epoch():
            for i in range(0, X.shape[0], batch):
                opt.zero_grad()
                crit(model(fX[i:i + batch]), fy[i:i + batch]).backward()
                opt.step()
        return epoch, X.shape[0], model
    return run


def _conv_case(kind, batch):
    def run():
        import numpy as np
        import fastnn
        from fastnn import nn, optim
        fastnn.manual_seed(0)  # before the first layer: every weight from the seed
        if kind == "cifar":
            layers, c = [], 3
            for w in (32, 64, 128):
                layers += [nn.Conv2d(c, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
                c = w
            model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 4 * 4, 10))
            shape = (3, 32, 32)
        else:
            model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                                  nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                                  nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
            shape = (1, 28, 28)
        rng = np.random.default_rng(0)
        x = fastnn.from_numpy(rng.standard_normal((batch,) + shape).astype(np.float32))
        y = fastnn.from_numpy(rng.integers(0, 10, batch))
        opt, crit = optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()

        def steps():
            for _ in range(5):
                opt.zero_grad()
                crit(model(x), y).backward()
                opt.step()
        return steps, 5, model
    return run


def _per_call(kind):
    def run():
        import numpy as np
        import fastnn
        import fastnn.nn.functional as F
        from fastnn import nn
        if kind == "a*b+c":
            a, b, c = (fastnn.randn(64, requires_grad=True) for _ in range(3))
            g = fastnn.ones(64)

            def once():
                (a * b + c).backward(g)
        else:
            rng = np.random.default_rng(0)
            x = fastnn.tensor(rng.standard_normal((32, 10)).astype(np.float32), requires_grad=True)
            t = fastnn.tensor(rng.integers(0, 10, 32))
            crit = nn.CrossEntropyLoss()
            fn = F.cross_entropy if kind == "F.cross_entropy" else crit

            def once():
                fn(x, t).backward()

        def block():
            for _ in range(500):
                once()
        return block, 500, None
    return run


CASES = {
    "fit mlp 784-256-128-10 b32": ("samples/s", _fit_case("mlp", 32)),
    "fit mlp 784-256-128-10 b128": ("samples/s", _fit_case("mlp", 128)),
    "fit course default b128": ("samples/s", _fit_case("default", 128)),
    "fit 64-64-10 b32": ("samples/s", _fit_case("digits", 32)),
    "loop per-op module b32": ("samples/s", _loop_case(False, 32)),
    "loop fused Sequential b128": ("samples/s", _loop_case(True, 128)),
    "conv CIFAR-style step b128": ("ms/step", _conv_case("cifar", 128)),
    "conv LeNet-5 step b64": ("ms/step", _conv_case("lenet", 64)),
    "a*b+c fwd+bwd (64)": ("us/call", _per_call("a*b+c")),
    "F.cross_entropy fwd+bwd": ("us/call", _per_call("F.cross_entropy")),
    "CrossEntropyLoss() fwd+bwd": ("us/call", _per_call("module")),
}


def worker(name, reps):
    """Time `reps` repetitions of one workload (after a warm-up) and hash the trained model."""
    unit, make = CASES[name]
    fn, count, model = make()
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    value = count / t if unit == "samples/s" else t / count * (1e3 if unit == "ms/step" else 1e6)
    digest = _digest(model) if model is not None else None
    return {"value": value, "digest": digest}


# ---- the driver ----
def _run_worker(tree, name, reps):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", name, "--reps", str(reps)],
                         env=env, capture_output=True, text=True, cwd=os.path.abspath(tree))
    if out.returncode:
        raise RuntimeError(f"{name} on {tree} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", help="the tree to compare against (built in place)")
    ap.add_argument("--after", default=os.path.dirname(HERE))
    ap.add_argument("--rounds", type=int, default=5, help="alternating worker runs per tree and workload")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions per worker run (median)")
    ap.add_argument("--only", default=None, help="comma-separated workload names (substring match)")
    ap.add_argument("--json", default=os.path.join(HERE, "results", "ab.json"))
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(worker(a.worker, a.reps)))
        return
    if not a.before:
        ap.error("--before is required")
    names = [n for n in CASES if not a.only or any(s.strip() in n for s in a.only.split(","))]
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load = f.read().split()[:3]
    print(f"before: {a.before}  after: {a.after}  rounds: {a.rounds}  load average at start: {' '.join(load)}")
    print(f"{'workload':32} {'unit':9} {'before':>10} {'after':>10} {'after/before':>12}  bitwise")
    rows = []
    for name in names:
        unit = CASES[name][0]
        vals = {"before": [], "after": []}
        digests = {}
        for r in range(a.rounds):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for which in order:
                res = _run_worker(getattr(a, which), name, a.reps)
                vals[which].append(res["value"])
                digests[which] = res["digest"]
        b, f = statistics.median(vals["before"]), statistics.median(vals["after"])
        ratio = f / b if unit == "samples/s" else b / f  # > 1: the after tree is faster
        same = "-" if digests["before"] is None else ("same" if digests["before"] == digests["after"] else "DIFFERENT")
        print(f"{name:32} {unit:9} {b:10.1f} {f:10.1f} {ratio:12.3f}  {same}", flush=True)
        rows.append({"workload": name, "unit": unit, "before": b, "after": f, "speed_ratio": ratio, "bitwise": same,
                     "before_all": vals["before"], "after_all": vals["after"]})
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load_end = f.read().split()[:3]
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"before": a.before, "after": a.after, "load_start": load, "load_end": load_end, "rows": rows}, f,
                  indent=1)
    print(f"load average at end: {' '.join(load_end)}; speed_ratio > 1 means the after tree is faster")


if __name__ == "__main__":
    main()
