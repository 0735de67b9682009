"""Optimizer step(): fastnn (one fused call over the arena) vs PyTorch Adam(foreach), Adam(fused) and a
multi-pass NumPy Adam, side by side, for models of ~1M and ~10M parameters in several layers.

    python bench/optim.py [--threads 1,2] [--json bench/results/optim.json]

Reports medians, ratios and the fraction of the STREAM triad bandwidth (Adam moves 7 float32 arrays
per parameter: reads p, g, m, v; writes p, m, v).
"""
import argparse
import os

import numpy as np

import fastnn
from fastnn import nn, optim
from fastnn import reference as R
from fastnn._ext import _runtime
from fastnn.benchmark import machine_info, thread_list, time_side_by_side, write_json

SHAPES = {"1M": [(512, 784), (512,), (512, 512), (512,), (512, 512), (512,), (512, 512), (512,), (10, 512), (10,)],
          "10M": [(2048, 1024), (2048,), (2048, 2048), (2048,), (1024, 2048), (1024,), (1024, 1024), (1024,),
                  (10, 1024), (10,)]}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default=None)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "optim.json"))
    a = ap.parse_args(argv)
    import torch

    threads = thread_list(a.threads)
    info = machine_info()
    bw = {}
    for nt in threads:
        with fastnn.set_num_threads(nt):
            bw[nt] = _runtime.triad_bandwidth(20_000_000, 10)
    print(f"fastnn {info['fastnn']} vs torch {info['torch']} | {info['cpu']} | {info['cores']} cores | "
          + ", ".join(f"triad {nt} thr {bw[nt]:.1f} GB/s" for nt in threads))
    print(f"{'model':5s} {'params':>9s} {'thr':>3s} {'fastnn ms':>10s} {'torch fused':>12s} {'torch foreach':>14s} "
          f"{'numpy ms':>9s} {'x fused':>8s} {'x foreach':>9s} {'x numpy':>8s} {'%triad':>7s}")
    rows = []
    rng = np.random.default_rng(0)
    for name, shapes in SHAPES.items():
        arrays = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in shapes]
        grads = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in shapes]
        n = sum(x.size for x in arrays)
        fparams = [nn.Parameter(x.copy()) for x in arrays]
        fopt = optim.Adam(fparams, lr=1e-3)
        arena = fopt._range.arena
        for p, g in zip(fparams, grads):
            p.grad[...] = g
        tps = {}
        topts = {}
        for mode in ("fused", "foreach"):
            tps[mode] = [torch.nn.Parameter(torch.from_numpy(x.copy())) for x in arrays]
            for p, g in zip(tps[mode], grads):
                p.grad = torch.from_numpy(g.copy())
            topts[mode] = torch.optim.Adam(tps[mode], lr=1e-3, **{mode: True})
        nps = [x.copy() for x in arrays]
        nstate = [(np.zeros_like(x), np.zeros_like(x)) for x in arrays]
        k = {"t": 0}

        def numpy_step():
            k["t"] += 1
            for p, g, (m, v) in zip(nps, grads, nstate):
                R.adam_step(p, g, m, v, step=k["t"], lr=1e-3)

        for nt in threads:
            torch.set_num_threads(nt)
            with fastnn.set_num_threads(nt):
                t = time_side_by_side({"fastnn": fopt.step, "fused": topts["fused"].step,
                                       "foreach": topts["foreach"].step, "numpy": numpy_step},
                                      reps=15 if name == "1M" else 7, block=5, skip=1, settle=0.1)
            frac = 7 * 4 * n / t["fastnn"] / 1e9 / bw[nt]
            row = {"model": name, "params": n, "threads": nt, **{f"{k2}_s": v for k2, v in t.items()},
                   "vs_fused": t["fused"] / t["fastnn"], "vs_foreach": t["foreach"] / t["fastnn"],
                   "vs_numpy": t["numpy"] / t["fastnn"], "triad_frac": frac}
            rows.append(row)
            print(f"{name:5s} {n:9,d} {nt:3d} {t['fastnn'] * 1e3:10.3f} {t['fused'] * 1e3:12.3f} "
                  f"{t['foreach'] * 1e3:14.3f} {t['numpy'] * 1e3:9.3f} {row['vs_fused']:8.2f} "
                  f"{row['vs_foreach']:9.2f} {row['vs_numpy']:8.2f} {100 * frac:6.0f}%", flush=True)
        assert arena is fopt._range.arena
    allc = max(threads)
    print("\ntargets (all cores): no slower than torch Adam(fused), >= 10x NumPy, >= 70% of triad at 10M")
    for r in rows:
        if r["threads"] == allc:
            ok = r["vs_fused"] >= 1.0 and r["vs_numpy"] >= 10 and (r["model"] != "10M" or r["triad_frac"] >= 0.7)
            print(f"  {'PASS' if ok else 'MISS'} {r['model']}: x{r['vs_fused']:.2f} fused, x{r['vs_numpy']:.1f} numpy, "
                  f"{100 * r['triad_frac']:.0f}% triad")
    write_json(a.json, {"machine": info, "triad_gbs": bw, "rows": rows})


if __name__ == "__main__":
    main()
