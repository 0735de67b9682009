"""Data-parallel training over MPI: measured on this machine, modelled for a cluster.

    python bench/distributed.py [--steps 30] [--json bench/results/distributed.json]

1. Measured. For each model, the training step fit runs under mpiexec (each rank: forward and backward
   on its shard of the global batch, the gradient allreduce, the fused update) with 1, 2, 4, ... ranks
   times threads per rank, as far as the cores go (ranks x threads <= cores). It reports samples/s, the
   speedup and efficiency against one rank with one thread, and the allreduce time per step and its
   share of the step, and the wait for the slowest rank before it (medians over --steps steps after
   warm-up; each step's maximum over the ranks). Ranks on one machine reduce through shared memory, so
   the allreduce share here is a floor.

2. Modelled. A cluster of P machines, each as this one (all its cores on one rank): a step costs the
   compute time measured here at the per-machine batch b, t_c(b), plus a ring allreduce that moves
   2(P-1)/P x the gradient bytes over the link and pays 2(P-1) latencies:
       t_ar = 2 (P-1)/P x bytes / bandwidth + 2 (P-1) x alpha
   at 10 Gbit/s (alpha = 25 us, TCP Ethernet) and 100 Gbit/s (alpha = 3 us, RDMA). Efficiency is
   t_c / (t_c + t_ar) (no overlap of the reduction with backward: fastnn reduces after backward). The
   table gives, per model and P, the smallest per-machine batch at which efficiency stays >= 80 %.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

MODELS = {  # name: layer widths of an MLP on 784 inputs with ELU (the chapter's default shape), 10 outputs
    "mlp-small": [784, 256, 128, 10],
    "mlp-medium": [784, 1024, 1024, 10],
    "mlp-large": [784, 2048, 2048, 2048, 10],
}
BATCHES = [16, 32, 64, 128, 256, 512, 1024, 2048]
LINKS = {"10 Gbit/s": (10e9 / 8, 25e-6), "100 Gbit/s": (100e9 / 8, 3e-6)}


def _model(widths):
    import fastnn.nn as nn

    layers = []
    for i in range(len(widths) - 2):
        layers += [nn.Linear(widths[i], widths[i + 1], init="he_normal"), nn.ELU()]
    layers.append(nn.Linear(widths[-2], widths[-1]))
    return nn.Sequential(*layers)


def worker(args):
    """One rank (under mpiexec, or alone): time fit's step on `args.batch` global samples."""
    import fastnn
    import fastnn.distributed as dist
    import fastnn.optim as optim

    dist.init(threads=args.threads)
    fastnn.manual_seed(0)
    model = _model(MODELS[args.model])
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    lossf = fastnn.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    n, R, P = args.batch, dist.rank(), dist.world_size()
    X = rng.standard_normal((n, MODELS[args.model][0])).astype(np.float32)
    y = rng.integers(0, 10, n)
    lo, hi = R * n // P, (R + 1) * n // P
    xs, ys = X[lo:hi], y[lo:hi]
    step, ar, wait = [], [], []
    for i in range(args.steps + 5):
        dist.barrier()
        t0 = time.perf_counter()
        opt.zero_grad()
        out = model(xs)
        lossf(out, ys)
        model.backward(lossf.backward(), need_input_grad=False)
        t1 = time.perf_counter()
        dist.barrier()  # (only to tell waiting for the slowest rank from the reduction itself)
        t2 = time.perf_counter()
        dist.synchronize_gradients(opt._params, weight=hi - lo, total=n)
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        if i >= 5:
            step.append(t4 - t0)
            wait.append(t2 - t1)
            ar.append(t3 - t2)
    # the slowest rank sets the pace: take each step's maximum over the ranks
    mine = np.array([step, ar, wait])
    if P > 1:
        from mpi4py import MPI

        dist._W.comm.Allreduce(MPI.IN_PLACE, mine, op=MPI.MAX)
    if R == 0:
        grads = sum(p.numel() for p in model.parameters())
        res = {"step_s": statistics.median(mine[0].tolist()), "allreduce_s": statistics.median(mine[1].tolist()),
               "wait_s": statistics.median(mine[2].tolist()),
               "threads": fastnn.get_num_threads(), "params": grads}
        with open(args.out, "w") as f:
            json.dump(res, f)


def _mpiexec():
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.path.exists(here) else "mpiexec"


def run(model, batch, ranks, threads, steps):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--model", model, "--batch", str(batch),
               "--threads", str(threads), "--steps", str(steps), "--out", out]
        if ranks > 1:
            cmd = [_mpiexec(), "-n", str(ranks)] + cmd
        env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        subprocess.run(cmd, check=True, env=env, timeout=600)
        with open(out) as f:
            return json.load(f)


def frontier(compute, params, P, link):
    """The smallest measured per-machine batch with modelled efficiency >= 0.8, and that efficiency."""
    bw, alpha = LINKS[link]
    t_ar = 2 * (P - 1) / P * params * 4 / bw + 2 * (P - 1) * alpha
    for b in BATCHES:
        eff = compute[b] / (compute[b] + t_ar)
        if eff >= 0.8:
            return b, eff, t_ar
    return None, compute[BATCHES[-1]] / (compute[BATCHES[-1]] + t_ar), t_ar


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=256, help="global batch of the measured runs")
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "distributed.json"))
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--model", default="mlp-medium")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out")
    a = ap.parse_args(argv)
    if a.worker:
        return worker(a)
    from fastnn.benchmark import machine_info, write_json

    info = machine_info()
    cores = os.cpu_count() or 1
    print(f"fastnn {info['fastnn']} | {info['cpu']} | {cores} cores | global batch {a.batch}")
    layouts = [(p, t) for p in (1, 2, 4, 8, 16) for t in (1, 2, 4, 8, 16) if p * t <= cores]
    measured = {}
    print(f"\n{'model':11s} {'params':>8s} {'ranks x thr':>11s} {'samples/s':>10s} {'speedup':>8s} "
          f"{'effic.':>7s} {'allreduce':>10s} {'share':>6s} {'wait':>9s}")
    for name in MODELS:
        rows = {}
        for p, t in layouts:
            time.sleep(0.3)
            rows[(p, t)] = run(name, a.batch, p, t, a.steps)
        base = rows[(1, 1)]["step_s"]
        measured[name] = []
        for (p, t), r in rows.items():
            sp = base / r["step_s"]
            rec = dict(ranks=p, threads=t, samples_per_s=a.batch / r["step_s"], speedup=sp, efficiency=sp / (p * t),
                       allreduce_ms=r["allreduce_s"] * 1e3, allreduce_share=r["allreduce_s"] / r["step_s"],
                       wait_ms=r["wait_s"] * 1e3,
                       params=r["params"])
            measured[name].append(rec)
            print(f"{name:11s} {r['params']:8d} {p:>5d} x {t:<3d} {rec['samples_per_s']:10.0f} {sp:7.2f}x "
                  f"{rec['efficiency']:6.0%} {rec['allreduce_ms']:8.3f}ms {rec['allreduce_share']:6.1%} "
                  f"{rec['wait_ms']:7.3f}ms")
    # the cluster model: each machine is this one with all its cores on one rank
    print(f"\nCluster model: per-machine compute t_c(b) measured here ({cores} threads, one rank); ring "
          "allreduce 2(P-1)/P x gradient bytes")
    model_rows = []
    for name in MODELS:
        compute = {}
        for b in BATCHES:  # the faster of two runs (this machine's rate swings between minutes)
            ts = []
            for _ in range(2):
                time.sleep(0.2)
                r = run(name, b, 1, cores, max(8, a.steps * 256 // max(b, 256)))
                ts.append(r["step_s"] - r["allreduce_s"] - r["wait_s"])
            compute[b] = min(ts)
        params = r["params"]
        print(f"\n{name} ({params / 1e6:.2f} M params, {params * 4 / 1e6:.1f} MB of gradients); t_c per batch: "
              + ", ".join(f"{b}: {compute[b] * 1e3:.2f} ms" for b in BATCHES))
        for link in LINKS:
            cells = []
            for P in (2, 4, 8, 16, 32):
                b, eff, t_ar = frontier(compute, params, P, link)
                cells.append(f"P={P}: {'b>=' + str(b) if b else '>' + str(BATCHES[-1])} ({eff:.0%} at "
                             f"{'b=' + str(b) if b else 'b=' + str(BATCHES[-1])}, t_ar {t_ar * 1e3:.2f} ms)")
                model_rows.append(dict(model=name, params=params, link=link, P=P, min_batch_80=b, efficiency=eff,
                                       allreduce_ms=t_ar * 1e3))
            print(f"  {link:10s} " + "; ".join(cells))
        measured[name + "_compute_ms"] = {b: compute[b] * 1e3 for b in BATCHES}
    write_json(a.json, {"machine": info, "global_batch": a.batch, "measured": measured, "cluster_model": model_rows})
    print(f"\nwrote {a.json}")


if __name__ == "__main__":
    sys.exit(main())
