"""Forward + backward of whole models: fastnn vs PyTorch eager (same model, same weights), side by side.

    python bench/modules.py [--threads 1,2] [--json bench/results/modules.json]

Models: a 784-256-128-10 ReLU MLP, and the course's default block
(Linear -> BatchNorm1d -> ELU -> Dropout) x2 -> Linear, at batch 32 and 128. One step = forward,
cross-entropy, zero_grad, backward (no optimizer step).
"""
import argparse
import os

import numpy as np

import fastnn
from fastnn import nn
from fastnn.benchmark import machine_info, thread_list, time_side_by_side, write_json


def build(kind, lib):
    L = nn if lib == "fastnn" else __import__("torch").nn
    if kind == "mlp":
        return L.Sequential(L.Linear(784, 256), L.ReLU(), L.Linear(256, 128), L.ReLU(), L.Linear(128, 10))
    return L.Sequential(L.Linear(784, 256), L.BatchNorm1d(256), L.ELU(), L.Dropout(0.2),
                        L.Linear(256, 128), L.BatchNorm1d(128), L.ELU(), L.Dropout(0.2), L.Linear(128, 10))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default=None)
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "modules.json"))
    a = ap.parse_args(argv)
    import torch

    threads = thread_list(a.threads)
    info = machine_info()
    print(f"fastnn {info['fastnn']} vs torch {info['torch']} | {info['cpu']} | {info['cores']} cores")
    print(f"{'model':14s} {'batch':>5s} {'thr':>3s} {'fastnn us':>10s} {'torch us':>9s} {'x torch':>8s}")
    rows = []
    for kind in ("mlp", "default-block"):
        for batch in (32, 128):
            fastnn.manual_seed(0)
            fm = build(kind, "fastnn")
            tm = build(kind, "torch")
            tm.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in fm.state_dict().items()})
            rng = np.random.default_rng(0)
            x = rng.standard_normal((batch, 784)).astype(np.float32)
            t = rng.integers(0, 10, batch)
            tx, tt = torch.from_numpy(x), torch.from_numpy(t)
            flf, tlf = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()

            def f_step():
                flf(fm(x), t)
                fm.zero_grad()
                fm.backward(flf.backward(), need_input_grad=False)

            def t_step():
                loss = tlf(tm(tx), tt)
                tm.zero_grad(set_to_none=False)
                loss.backward()

            for nt in threads:
                torch.set_num_threads(nt)
                with fastnn.set_num_threads(nt):
                    # long blocks: after the settle pause the first few dozen calls run slow
                    # (clock ramp-up after idling; measured 663 us/step over 25-call blocks, 301 us over 200)
                    r = time_side_by_side({"fastnn": f_step, "torch": t_step}, a.reps, block=150,
                                          skip=50, settle=0.15)
                row = {"model": kind, "batch": batch, "threads": nt, "fastnn_s": r["fastnn"],
                       "torch_s": r["torch"], "vs_torch": r["torch"] / r["fastnn"]}
                rows.append(row)
                print(f"{kind:14s} {batch:5d} {nt:3d} {r['fastnn'] * 1e6:10.1f} {r['torch'] * 1e6:9.1f} "
                      f"{row['vs_torch']:8.2f}", flush=True)
    allc = max(threads)
    print("\ntargets (all cores): >= 1.5x torch at batch 128, >= 3x at batch 32")
    for r in rows:
        if r["threads"] == allc:
            want = 3.0 if r["batch"] == 32 else 1.5
            print(f"  {'PASS' if r['vs_torch'] >= want else 'MISS'} {r['model']} batch {r['batch']}: "
                  f"x{r['vs_torch']:.2f} (want >= {want})")
    write_json(a.json, {"machine": info, "rows": rows})


if __name__ == "__main__":
    main()
