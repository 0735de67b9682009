"""Kernel benchmark: fastnn.ops against its NumPy twin and PyTorch's CPU kernels, side by side.

Every candidate runs round-robin in one process (fastnn, NumPy, torch, fastnn, ...), so machine noise
hits them alike; the table gives medians and ratios, and memory-bound kernels as a fraction of the
STREAM triad bandwidth measured in the same run. Used by ``fastnn bench`` and ``bench/kernels.py``.
"""
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

from . import ops
from ._version import __version__
from . import reference as R
from ._ext import _runtime
from ._threads import default_num_threads, ensure_single_pool, set_num_threads

SIZES = {"64K": 1 << 16, "1M": 1 << 20, "16M": 1 << 24}


def time_side_by_side(fns, reps, min_time=0.0, block=8, skip=2, settle=0.0):
    """Median seconds per call of each callable in `fns` (a dict), interleaved in blocks: each
    candidate runs `block` consecutive calls in turn, and the first `skip` calls of every block are
    dropped. (Strict call-by-call alternation is unfair: the idle-spinning worker threads one library
    leaves behind steal the cores the next one needs -- torch at 2 threads measured 10x slower that
    way.) `settle` seconds of sleep before each block let those threads time out (OpenBLAS's spin
    for up to ~0.1 s after a GEMM). About `reps` timed calls per candidate, more if min_time asks."""
    for f in fns.values():
        f()  # warm-up: page faults, lazy init, thread pools
    times = {k: [] for k in fns}
    keep = max(1, block - skip)
    t_end = time.perf_counter() + min_time
    while len(next(iter(times.values()))) < reps or time.perf_counter() < t_end:
        for k, f in fns.items():
            if settle:
                time.sleep(settle)
            for i in range(block):
                t0 = time.perf_counter()
                f()
                dt = time.perf_counter() - t0
                if i >= block - keep:
                    times[k].append(dt)
    return {k: statistics.median(v) for k, v in times.items()}


def write_json(path, obj):
    """Write a benchmark's results (creating the folder)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
    return path


def thread_list(arg):
    """--threads "1,2,4" -> [1, 2, 4]; default: 1 and all cores."""
    return [int(t) for t in arg.split(",")] if arg else sorted({1, default_num_threads()})


def machine_info():
    info = _runtime.build_info()
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{d.get('internal_api')} {d.get('version')} ({d.get('num_threads')} threads)"
                for d in threadpool_info() if d.get("user_api") == "blas"]
    except ImportError:
        blas = []
    try:
        import torch

        tv = torch.__version__
    except ImportError:
        tv = None
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"fastnn": __version__, "cpu": cpu, "cores": default_num_threads(),
            "simd": info["simd_selected"], "openmp": info["openmp"], "blas": blas,
            "numpy": np.__version__, "torch": tv, "python": platform.python_version()}


def _torch():
    try:
        import torch
        import torch.nn.functional as F

        return torch, F
    except ImportError:
        return None, None


def _cases(n, dtype, torch, F):
    """(name, bytes moved per call, fastnn fn, numpy fn, torch fn or None) for ~n elements."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    y = np.empty_like(x)
    it = dtype(0).itemsize
    tx = torch.from_numpy(x) if torch else None
    tg = torch.from_numpy(g) if torch else None
    aten = torch.ops.aten if torch else None
    cases = []

    def act(name, kw, tf, tb, from_y=False):
        v = getattr(ops, name)(x, **kw) if from_y else x
        tv = torch.from_numpy(v) if torch else None
        fwd, bwd = getattr(ops, name), getattr(ops, name + "_backward")
        rf, rb = getattr(R, name), getattr(R, name + "_backward")
        cases.append((name, 2 * n * it, lambda: fwd(x, **kw, out=y), lambda: rf(x, **kw),
                      (lambda: tf(tx)) if torch else None))
        cases.append((name + "_backward", 3 * n * it, lambda: bwd(g, v, **kw, out=y), lambda: rb(g, v, **kw),
                      (lambda: tb(tg, tv)) if torch else None))

    act("sigmoid", {}, lambda a: torch.sigmoid(a), lambda gg, v: aten.sigmoid_backward(gg, v), True)
    act("tanh", {}, lambda a: torch.tanh(a), lambda gg, v: aten.tanh_backward(gg, v), True)
    act("relu", {}, lambda a: torch.relu(a), lambda gg, v: aten.threshold_backward(gg, v, 0))
    act("leaky_relu", {}, lambda a: F.leaky_relu(a, 0.01),
        lambda gg, v: aten.leaky_relu_backward(gg, v, 0.01, False))
    act("elu", {}, lambda a: F.elu(a), lambda gg, v: aten.elu_backward(gg, 1.0, 1.0, 1.0, False, v))
    act("selu", {}, lambda a: F.selu(a),
        lambda gg, v: aten.elu_backward(gg, 1.6732632423543772, 1.0507009873554805, 1.0, False, v))
    act("gelu", {}, lambda a: F.gelu(a), lambda gg, v: aten.gelu_backward(gg, v))
    act("silu", {}, lambda a: F.silu(a), lambda gg, v: aten.silu_backward(gg, v))
    act("softplus", {}, lambda a: F.softplus(a), lambda gg, v: aten.softplus_backward(gg, v, 1.0, 20.0))

    # dropout: NumPy baseline is what a NumPy user writes (Generator mask), not the Philox twin
    def np_dropout(p=0.5):
        return x * (rng.random(n, dtype=np.float32 if dtype == np.float32 else np.float64) >= p) / (1 - p)

    cases.append(("dropout", 2 * n * it, lambda: ops.dropout(x, 0.5, seed=1, out=y), np_dropout,
                  (lambda: F.dropout(tx, 0.5, training=True)) if torch else None))

    # batch-norm statistics on (rows, 4096) (the issue's (256, 4096) at 1M)
    cols = 4096 if n >= 4096 * 4 else 256
    xb = x.reshape(-1, cols)
    txb = torch.from_numpy(xb) if torch else None
    cases.append(("batch_norm_stats", n * it, lambda: ops.batch_norm_stats(xb),
                  lambda: (xb.mean(axis=0), xb.var(axis=0)),
                  (lambda: torch.var_mean(txb, dim=0, unbiased=False)) if torch else None))
    w, b = np.ones(cols, dtype), np.zeros(cols, dtype)
    tw, tb_ = (torch.from_numpy(w), torch.from_numpy(b)) if torch else (None, None)
    yb = np.empty_like(xb)
    cases.append(("batch_norm_train", 3 * n * it,
                  lambda: ops.batch_norm(xb, w, b, None, None, training=True, out=yb),
                  lambda: R.batch_norm(xb, w, b, None, None, training=True),
                  (lambda: F.batch_norm(txb, None, None, tw, tb_, training=True)) if torch else None))

    # softmax / cross-entropy over 1000 classes
    xs = x.reshape(-1, 1000) if n % 1000 == 0 else x[: n - n % 1000].reshape(-1, 1000)
    t = rng.integers(0, 1000, xs.shape[0])
    txs, tt = (torch.from_numpy(xs), torch.from_numpy(t)) if torch else (None, None)
    cases.append(("softmax", 2 * xs.size * it, lambda: ops.softmax(xs), lambda: R.softmax(xs),
                  (lambda: torch.softmax(txs, -1)) if torch else None))

    def torch_ce():
        a = txs.detach().requires_grad_()
        F.cross_entropy(a, tt).backward()

    cases.append(("cross_entropy+grad", 2 * xs.size * it,
                  lambda: ops.cross_entropy(xs, t, return_grad=True),
                  lambda: R.cross_entropy(xs, t, return_grad=True), torch_ce if torch else None))

    # fused optimizer updates
    p, m, v = x.copy(), np.zeros_like(x), np.zeros_like(x)
    pr, mr, vr = x.copy(), np.zeros_like(x), np.zeros_like(x)
    st = {"k": 0}

    def adam_fastnn():
        st["k"] += 1
        ops.adam_step(p, g, m, v, step=st["k"], lr=1e-3)

    def adam_numpy():
        R.adam_step(pr, g, mr, vr, step=5, lr=1e-3)

    topt = None
    if torch:
        tp = torch.nn.Parameter(torch.from_numpy(x.copy()))
        tp.grad = torch.from_numpy(g.copy())
        topt = torch.optim.Adam([tp], lr=1e-3, fused=True)
    cases.append(("adam_step", 7 * n * it, adam_fastnn, adam_numpy, topt.step if torch else None))
    bufm = np.zeros_like(x)
    cases.append(("sgd_step(momentum)", 5 * n * it,
                  lambda: ops.sgd_step(p, g, bufm, step=2, lr=1e-3, momentum=0.9),
                  lambda: R.sgd_step(pr, g, mr, step=2, lr=1e-3, momentum=0.9), None))

    # linear with bias: (n / 512, 512) @ (512, 512).T + b
    rows = max(1, n // 512)
    xl = rng.standard_normal((rows, 512)).astype(dtype)
    wl = rng.standard_normal((512, 512)).astype(dtype)
    bl = rng.standard_normal(512).astype(dtype)
    yl = np.empty((rows, 512), dtype)
    txl, twl, tbl = (torch.from_numpy(xl), torch.from_numpy(wl), torch.from_numpy(bl)) if torch else (None,) * 3
    cases.append(("linear(+bias)", 0, lambda: ops.linear(xl, wl, bl, out=yl), lambda: xl @ wl.T + bl,
                  (lambda: F.linear(txl, twl, tbl)) if torch else None))
    return cases


TARGETS = {  # (op, size) -> (min ratio vs numpy, min ratio vs torch) at all cores, float32
    "activation": (4.0, 1.0),
    "adam_step": (10.0, 1.0),
    "batch_norm_stats": (3.0, None),
    "linear(+bias)": (0.95, None),
}
MEMORY_BOUND = {"relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "dropout",
                "batch_norm_stats", "adam_step", "sgd_step(momentum)", "sigmoid_backward",
                "tanh_backward"}
ACTIVATIONS = {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus"}


def run(sizes=("64K", "1M", "16M"), threads=None, dtype=np.float32, only=None, reps=None,
        json_path=None, out=sys.stdout):
    torch, F = _torch()
    allc = default_num_threads()
    threads = threads or sorted({1, allc})
    info = machine_info()
    load_before = _busy_warning(0.5, "before", out)
    bw = {}
    for nt in threads:
        with set_num_threads(nt):
            bw[nt] = _runtime.triad_bandwidth(20_000_000, 10)
    print(f"fastnn {info['fastnn']} | {info['cpu']} | {info['cores']} cores | SIMD {info['simd']} | "
          f"OpenMP {'on' if info['openmp'] else 'off'} | numpy {info['numpy']} | torch {info['torch']}",
          file=out)
    print("BLAS: " + "; ".join(info["blas"]), file=out)
    print("triad bandwidth: " + ", ".join(f"{nt} thr {bw[nt]:.1f} GB/s" for nt in threads), file=out)
    hdr = f"{'op':22s} {'size':>4s} {'thr':>3s} {'fastnn ms':>10s} {'numpy ms':>9s} {'torch ms':>9s} " \
          f"{'x numpy':>8s} {'x torch':>8s} {'%triad':>7s}"
    print(hdr, file=out)
    print("-" * len(hdr), file=out)
    rows = []
    for sname in sizes:
        n = SIZES[sname]
        cases = _cases(n, dtype, torch, F)
        for nt in threads:
            if torch:
                torch.set_num_threads(nt)
            with set_num_threads(nt), _blas_limit(nt):
                ensure_single_pool()  # NumPy's BLAS gets nt threads, fastnn's stays pinned and split
                for name, nbytes, f_fast, f_np, f_torch in cases:
                    if only and not any(o in name for o in only):
                        continue
                    fns = {"fastnn": f_fast, "numpy": f_np}
                    if f_torch is not None:
                        fns["torch"] = f_torch
                    r = reps or (21 if n <= 1 << 16 else 11 if n <= 1 << 20 else 5)
                    if name.startswith("linear"):  # BLAS workers spin ~0.1 s after a GEMM: settle between
                        # engines, then long blocks (the first calls after an idle pause run slow)
                        blk = 120 if n <= 1 << 16 else 30 if n <= 1 << 20 else 6
                        t = time_side_by_side(fns, r, block=blk, skip=blk // 3, settle=0.12)
                    else:
                        t = time_side_by_side(fns, r, min_time=0.05 if n <= 1 << 16 else 0.0)
                    row = {"op": name, "size": sname, "n": n, "threads": nt,
                           "fastnn_s": t["fastnn"], "numpy_s": t["numpy"], "torch_s": t.get("torch"),
                           "vs_numpy": t["numpy"] / t["fastnn"],
                           "vs_torch": t["torch"] / t["fastnn"] if "torch" in t else None,
                           "triad_frac": (nbytes / t["fastnn"] / 1e9 / bw[nt]) if nbytes else None}
                    rows.append(row)
                    print(f"{name:22s} {sname:>4s} {nt:3d} {t['fastnn'] * 1e3:10.3f} {t['numpy'] * 1e3:9.3f} "
                          f"{(t['torch'] * 1e3 if 'torch' in t else float('nan')):9.3f} "
                          f"{row['vs_numpy']:8.2f} {(row['vs_torch'] or float('nan')):8.2f} "
                          f"{(100 * row['triad_frac'] if row['triad_frac'] else float('nan')):6.0f}%",
                          file=out, flush=True)
    verdicts = check_targets(rows, allc)
    load_after = _busy_warning(0.3, "after", out)
    busy = max(x or 0.0 for x in (load_before, load_after)) > BUSY_LOAD
    if busy:  # a busy machine's timings say nothing about the kernels: no PASS/MISS
        verdicts = [v.replace("MISS", "busy", 1).replace("PASS", "busy", 1) for v in verdicts]
    if verdicts:
        print("\ntargets (float32, all cores)" + (": NOT JUDGED, other processes kept cores busy (rerun on a quiet "
                                                  "machine)" if busy else ":"), file=out)
        for v in verdicts:
            print("  " + v, file=out)
    result = {"machine": info, "triad_gbs": bw, "dtype": np.dtype(dtype).name, "rows": rows,
              "targets": verdicts, "others_load": [load_before, load_after], "busy": busy}
    if json_path:
        write_json(json_path, result)
        print(f"\nwrote {json_path}", file=out)
    return result


BUSY_LOAD = 0.2  # cores other processes keep busy beyond which the timings are not judged (as the adaptive team)


def _busy_warning(seconds, when, out):
    """Measure the cores other processes keep busy (None where the system cannot tell); warn if busy."""
    load, ncpu = _runtime.others_load(seconds)
    if load is not None and load > BUSY_LOAD:
        where = "below" if when == "before" else "above"
        print(f"WARNING ({when} the run): other processes keep ~{load:.1f} of {ncpu} cores busy; the timings "
              f"{where} are a busy machine's, not the kernels' (fastnn's default threading adapts; these fixed-"
              "thread rows do not)", file=out, flush=True)
    return load


def _blas_limit(n):
    """Every BLAS library (NumPy's too: the baseline) limited to n threads for a fair row."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(n, user_api="blas")
    except ImportError:
        import contextlib

        return contextlib.nullcontext()


def check_targets(rows, allc):
    out = []
    at = {(r["op"], r["size"]): r for r in rows if r["threads"] == allc}
    for (op, size), r in sorted(at.items()):
        base = op.replace("_backward", "")
        if size == "1M" and base in ACTIVATIONS:
            tn, tt = TARGETS["activation"]
        elif size == "1M" and op in TARGETS:
            tn, tt = TARGETS[op]
        else:
            tn = tt = None
        if tn is not None:
            ok = r["vs_numpy"] >= tn and (tt is None or r["vs_torch"] is None or r["vs_torch"] >= tt)
            vt = f", x{r['vs_torch']:.2f} torch (want >= {tt})" if tt and r["vs_torch"] else ""
            out.append(f"{'PASS' if ok else 'MISS'} {op} 1M: x{r['vs_numpy']:.2f} numpy (want >= {tn}){vt}")
        if size == "16M" and op in MEMORY_BOUND and r["triad_frac"] is not None:
            ok = r["triad_frac"] >= 0.70
            out.append(f"{'PASS' if ok else 'MISS'} {op} 16M: {100 * r['triad_frac']:.0f}% of triad (want >= 70%)")
    return out
