"""Where a training step's time goes: per-kernel time of fit's step for bench/train.py's workloads.
(Not named profile.py: that would shadow the standard library's profile module, which torch imports, for
every script in bench/.)

    python bench/profile_step.py [--threads N] [--steps 300] [--json bench/results/profile_step.json]

For each workload (784-256-128-10 Adam at batch 32 and 128, the course's default network at 128, the
64-64-10 digits MLP at 32) the step fit runs -- forward through each layer, the loss and its gradient,
backward through each layer (assigning the gradients, or zero_grad and adding when the chain cannot),
the fused optimizer update -- is timed part by part (each
layer's kernel pair wrapped with a clock -- which runs each layer's own method, not the compiled chain,
so the parts add up to a little more than the plain step), then without the clocks, then as fit runs
it (batching, metrics, callbacks: the loop's own cost). The matrix products' useful FLOPs per step
(forward, weight gradient, input gradient except the first layer's) against this machine's sgemm rate
(1024^3, the better of fastnn's product and NumPy's, at the same thread count) give the step's share
of the machine's limit.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fastnn  # noqa: E402
from fastnn import nn, ops  # noqa: E402
from fastnn.training._step import chain_writes_each_once as _chain_writes_each_once  # noqa: E402
from fastnn.benchmark import machine_info, time_side_by_side, write_json  # noqa: E402
from train import WORKLOADS, build, digits, make_opt, synthetic  # noqa: E402

clock = time.perf_counter


def sgemm_gflops():
    """The machine's sgemm rate at the current thread count: the better of fastnn's own product and
    NumPy's (its OpenBLAS, threading itself) on 1024^3."""
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    out = np.empty_like(a)
    best = min(time_side_by_side({"mm": lambda: ops.matmul(a, a, out=out)}, reps=8)["mm"] for _ in range(5))
    with threadpool_limits(fastnn.get_num_threads(), user_api="blas"):
        best = min([best] + [time_side_by_side({"mm": lambda: np.matmul(a, a, out=out)}, reps=8)["mm"]
                             for _ in range(5)])
    return 2 * 1024 ** 3 / best / 1e9


def gemm_flops(model, batch):
    """Useful product FLOPs of one step: forward + weight gradient for every Linear, input gradient for
    all but the first."""
    lins = [m for m in model.modules() if isinstance(m, nn.Linear)]
    f = 0
    for i, m in enumerate(lins):
        mnk = 2 * batch * m.in_features * m.out_features
        f += mnk * (2 if i == 0 else 3)
    return f


class Clocked:
    """Wraps every layer's _fwd/_bwd, the loss and the optimizer with clocks (instance attributes shadow
    the methods); totals per part in seconds."""

    def __init__(self, model, loss_fn, opt):
        self.t = {}
        for i, m in enumerate(model):
            name = f"{i}:{type(m).__name__}"
            m._fwd = self._wrap(m._fwd, "fwd " + name)
            m._bwd = self._wrap(m._bwd, "bwd " + name)
        self.loss = self._wrap(loss_fn.__call__, "loss fwd")
        self.loss_bwd = self._wrap(loss_fn.backward, "loss bwd")
        self.zero = self._wrap(opt.zero_grad, "zero_grad")
        self.step = self._wrap(opt.step, "optimizer step")

    def _wrap(self, f, key):
        self.t.setdefault(key, 0.0)

        def g(*a, **k):
            t0 = clock()
            r = f(*a, **k)
            self.t[key] += clock() - t0
            return r
        return g


def raw_steps(model, lf, opt, X, y, batch, steps, clocked=None):
    """fit's native step on pre-cut batches (no loader): returns seconds per step. As fit, gradients
    are assigned (no zero_grad) when the chain writes each exactly once."""
    n = len(X)
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(steps):
        idx = rng.integers(0, n - batch)
        batches.append((np.ascontiguousarray(X[idx:idx + batch]), y[idx:idx + batch]))
    loss = clocked.loss if clocked else lf
    loss_bwd = clocked.loss_bwd if clocked else lf.backward
    zero = clocked.zero if clocked else opt.zero_grad
    step = clocked.step if clocked else opt.step
    assign = _chain_writes_each_once(model, opt)
    model.train()
    t0 = clock()
    for xb, yb in batches:
        out = model(xb)
        loss(out, yb)
        if assign:
            model.backward(loss_bwd(), need_input_grad=False, accumulate=False)
        else:
            zero()
            model.backward(loss_bwd(), need_input_grad=False)
        step()
    return (clock() - t0) / steps


def profile(kind, batch, steps, peak):
    X, y = digits() if kind == "digits" else synthetic()
    fastnn.manual_seed(0)
    model = build(kind, "fastnn")
    opt = make_opt(kind, model, "fastnn")
    lf = nn.CrossEntropyLoss()
    raw_steps(model, lf, opt, X, y, batch, 50)                      # warm-up: workspaces, clocks
    plain = statistics.median(raw_steps(model, lf, opt, X, y, batch, steps) for _ in range(5))
    fit_sps = []
    for r in range(3):
        h = fastnn.fit(model, X, y, loss=lf, optimizer=opt, epochs=3, batch_size=batch, verbose=0, seed=r)
        fit_sps += h["samples_per_sec"][1:]
    fit_step = batch / statistics.median(fit_sps)
    c = Clocked(model, lf, opt)
    clocked = statistics.mean(raw_steps(model, lf, opt, X, y, batch, steps, c) for _ in range(3))
    parts = {k: v / (3 * steps) for k, v in c.t.items()}
    kernels = sum(parts.values())
    flops = gemm_flops(model, batch)
    lin = sum(v for k, v in parts.items() if "Linear" in k)
    return {"workload": kind, "batch": batch, "threads": fastnn.get_num_threads(),
            "step_ms": plain * 1e3, "fit_step_ms": fit_step * 1e3, "clocked_step_ms": clocked * 1e3,
            "parts_ms": {k: v * 1e3 for k, v in parts.items()},
            "python_glue_ms": max(clocked - kernels, 0.0) * 1e3, "fit_loop_ms": max(fit_step - plain, 0.0) * 1e3,
            "gemm_mflop": flops / 1e6, "linear_gflops": flops / lin / 1e9 if lin else None,
            "step_gflops": flops / plain / 1e9, "sgemm_gflops": peak,
            "step_of_sgemm": flops / plain / 1e9 / peak, "floor_ms": flops / (peak * 1e9) * 1e3}


def report(r):
    print(f"\n== {r['workload']} batch {r['batch']}, {r['threads']} threads: step {r['step_ms']:.3f} ms "
          f"(in fit {r['fit_step_ms']:.3f} ms; with clocks {r['clocked_step_ms']:.3f} ms)")
    tot = r["clocked_step_ms"]
    for k, v in sorted(r["parts_ms"].items(), key=lambda kv: -kv[1]):
        print(f"   {k:28s} {v * 1e3:8.1f} us  {v / tot:6.1%}")
    print(f"   {'python glue in the step':28s} {r['python_glue_ms'] * 1e3:8.1f} us  {r['python_glue_ms'] / tot:6.1%}")
    print(f"   {'fit loop (batching, metrics)':28s} {r['fit_loop_ms'] * 1e3:8.1f} us  (beyond the step)")
    lg = f"{r['linear_gflops']:.0f}" if r["linear_gflops"] else "-"
    print(f"   products: {r['gemm_mflop']:.1f} MFLOP/step; inside Linear layers {lg} GFLOP/s; whole step "
          f"{r['step_gflops']:.0f} GFLOP/s = {r['step_of_sgemm']:.0%} of sgemm ({r['sgemm_gflops']:.0f}); "
          f"floor at sgemm rate {r['floor_ms']:.3f} ms")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "profile_step.json"))
    a = ap.parse_args(argv)
    info = machine_info()
    rows = []
    with fastnn.set_num_threads(a.threads or fastnn.get_num_threads()):
        peak = sgemm_gflops()
        print(f"fastnn {info['fastnn']} | {info['cpu']} | {fastnn.get_num_threads()} threads | "
              f"sgemm {peak:.0f} GFLOP/s")
        for kind, batch in WORKLOADS:
            r = profile(kind, batch, a.steps, peak)
            report(r)
            rows.append(r)
    write_json(a.json, {"machine": info, "rows": rows})


if __name__ == "__main__":
    main()
