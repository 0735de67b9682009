"""Thread scaling: kernels, a matrix product and a whole training epoch at 1, 2, 4, ... threads.

    python bench/scaling.py [--threads 1,2,4,8,16] [--json bench/results/scaling.json]

Prints time per call and speedup over 1 thread (meant for the 16-core device; on the 2-core
development machine it covers 1 and 2 threads).
"""
import argparse
import os
import statistics

import numpy as np

import fastnn
from fastnn import nn, ops, optim
from fastnn._threads import default_num_threads
from fastnn.benchmark import machine_info, time_side_by_side, write_json


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default=None)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "scaling.json"))
    a = ap.parse_args(argv)
    allc = default_num_threads()
    threads = [int(t) for t in a.threads.split(",")] if a.threads else [t for t in (1, 2, 4, 8, 16) if t <= allc]
    rng = np.random.default_rng(0)
    n = 1 << 24
    x = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    y = np.empty_like(x)
    p, m, v = x.copy(), np.zeros_like(x), np.zeros_like(x)
    xb = x[: 4096 * 1024].reshape(1024, 4096)
    A = rng.standard_normal((2048, 1024)).astype(np.float32)
    W = rng.standard_normal((1024, 1024)).astype(np.float32)
    out = np.empty((2048, 1024), np.float32)
    cases = {
        "relu 16M": lambda: ops.relu(x, out=y),
        "gelu 16M": lambda: ops.gelu(x, out=y),
        "dropout 16M": lambda: ops.dropout(x, 0.5, seed=1, out=y),
        "adam_step 16M": lambda: ops.adam_step(p, g, m, v, step=3, lr=1e-3),
        "batch_norm_stats 1024x4096": lambda: ops.batch_norm_stats(xb),
        "linear 2048x1024x1024": lambda: ops.linear(A, W, None, out=out),
    }
    Xt = rng.standard_normal((8192, 784)).astype(np.float32)
    yt = rng.integers(0, 10, 8192)
    info = machine_info()
    print(f"fastnn {info['fastnn']} | {info['cpu']} | {info['cores']} cores | SIMD {info['simd']}")
    rows, base = [], {}
    for nt in threads:
        with fastnn.set_num_threads(nt):
            for name, f in cases.items():
                t = time_side_by_side({name: f}, reps=7, block=4, skip=1)[name]
                base.setdefault(name, t)
                rows.append({"case": name, "threads": nt, "seconds": t, "speedup": base[name] / t})
            for batch in (128, 1024):
                fastnn.manual_seed(0)
                model = nn.Sequential(nn.Linear(784, 300), nn.BatchNorm1d(300), nn.ELU(), nn.Dropout(0.2),
                                      nn.Linear(300, 100), nn.BatchNorm1d(100), nn.ELU(), nn.Linear(100, 10))
                h = fastnn.fit(model, Xt, yt, loss="cross_entropy", optimizer=optim.SGD(model, lr=0.01, momentum=0.9,
                               nesterov=True), epochs=4, batch_size=batch, verbose=0, seed=0)
                t = Xt.shape[0] / statistics.median(h["samples_per_sec"][1:])
                name = f"fit default net, batch {batch} (epoch)"
                base.setdefault(name, t)
                rows.append({"case": name, "threads": nt, "seconds": t, "speedup": base[name] / t})
    names = list(dict.fromkeys(r["case"] for r in rows))
    print(f"{'case':42s}" + "".join(f"{str(t) + ' thr (ms, speedup)':>24s}" for t in threads))
    for c in names:
        cells = [r for r in rows if r["case"] == c]
        print(f"{c:42s}" + "".join(f"{r['seconds'] * 1e3:14.3f}  x{r['speedup']:5.2f}  " for r in cells))
    write_json(a.json, {"machine": info, "rows": rows})


if __name__ == "__main__":
    main()
