"""Batch-1 (and small-batch) inference latency of a trained-size 784-256-128-10 MLP: fastnn in eval mode
under no_grad, onnxruntime on fastnn's ONNX export of the same weights, and PyTorch under
inference_mode, each engine in its own process, rounds interleaved; medians in microseconds per call.

    python bench/latency.py [--rounds 5] [--batches 1,4,16] [--json bench/results/latency.json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ENGINES = ["fastnn", "onnxruntime", "torch"]


def _time(f, n=2000, reps=7):
    for _ in range(n // 10):
        f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        ts.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(ts)


def child(engine, batch, weights):
    import numpy as np

    w = np.load(weights)
    x = np.random.default_rng(1).standard_normal((batch, 784)).astype(np.float32)
    if engine == "torch":
        import torch

        m = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10))
        m.load_state_dict({k: torch.from_numpy(w[k]) for k in w.files})
        m.eval()
        xt = torch.from_numpy(x)
        with torch.inference_mode():
            return _time(lambda: m(xt))
    import fastnn

    m = fastnn.nn.Sequential(fastnn.nn.Linear(784, 256), fastnn.nn.ReLU(), fastnn.nn.Linear(256, 128),
                             fastnn.nn.ReLU(), fastnn.nn.Linear(128, 10))
    m.load_state_dict({k: w[k] for k in w.files})
    m.eval()
    if engine == "fastnn":
        xt = fastnn.tensor(x)
        with fastnn.no_grad():
            return _time(lambda: m(xt))
    import onnxruntime as ort

    path = os.path.join(os.path.dirname(weights), "mlp.onnx")
    fastnn.onnx.export(m, fastnn.tensor(x), path)
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    return _time(lambda: s.run(None, {name: x}))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batches", default="1,4,16")
    ap.add_argument("--json", default=None)
    ap.add_argument("--child", nargs=3, metavar=("ENGINE", "BATCH", "WEIGHTS"))
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.child[2])))
        return
    import numpy as np

    rng = np.random.default_rng(0)
    shapes = {"0.weight": (256, 784), "0.bias": (256,), "2.weight": (128, 256), "2.bias": (128,),
              "4.weight": (10, 128), "4.bias": (10,)}
    tmp = tempfile.mkdtemp()
    weights = os.path.join(tmp, "w.npz")
    np.savez(weights, **{k: (rng.standard_normal(s) * 0.05).astype(np.float32) for k, s in shapes.items()})
    print(f"load average {open('/proc/loadavg').read().split()[:3]}")
    batches = [int(b) for b in args.batches.split(",")]
    res = {b: {e: [] for e in ENGINES} for b in batches}
    for rnd in range(args.rounds):
        for b in batches:
            for e in (ENGINES if rnd % 2 == 0 else ENGINES[::-1]):
                r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", e, str(b), weights],
                                   capture_output=True, text=True, timeout=600, cwd=tmp)
                if r.returncode == 0:
                    res[b][e].append(json.loads(r.stdout.strip().splitlines()[-1]))
                else:
                    print(f"  {e} batch {b}: failed: {r.stderr.strip().splitlines()[-1:]}")
    table = {b: {e: statistics.median(v) for e, v in res[b].items() if v} for b in batches}
    for b in batches:
        t = table[b]
        print(f"\nbatch {b} (us per forward, median of {args.rounds})")
        for e, v in t.items():
            print(f"  {e:12s} {v:8.1f}")
        if "fastnn" in t:
            for e in ("onnxruntime", "torch"):
                if e in t:
                    print(f"  {e} / fastnn: {t[e] / t['fastnn']:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"table": table, "raw": res, "load": open("/proc/loadavg").read()}, f, indent=1)


if __name__ == "__main__":
    main()
