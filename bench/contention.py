"""Training speed on a machine that is not idle: fastnn's default threading against one thread, a fixed
team of all cores, PyTorch's default and JAX's jit-compiled step, idle and with other processes holding
cores.

    python bench/contention.py [--rounds 5] [--hogs N] [--seconds 1.5] [--json out.json]

Work: a 784-256-128-10 ReLU MLP, Adam (lr 1e-3), cross-entropy, batch 128, on synthetic data -- as a
PyTorch-style loop (forward, backward, step per batch) and, for fastnn, through ``fit``. Busy: ``--hogs``
busy-loop processes (default: half the cores, at least one) run for the whole measurement. Every figure
comes from its own process (engines and thread settings never share one), started after the hogs,
warmed up for ``--warmup`` seconds (the adaptive team's first decision takes ~0.2 s), then timed for
``--seconds``; the configurations run interleaved, in a rotated order each round, and the table gives
medians of samples/s. PyTorch needs ``pip install torch``, JAX ``pip install "jax[cpu]" optax``;
a missing engine's rows say so.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

IN, HID1, HID2, OUT, BATCH = 784, 256, 128, 10, 128


def _data(n=8192, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((OUT, IN)).astype(np.float32)
    y = rng.integers(0, OUT, n)
    return (centers[y] * 0.5 + rng.standard_normal((n, IN))).astype(np.float32), y.astype(np.int64)


def _timed(step_epoch, n, warmup, seconds):
    """Samples/s of step_epoch() (which trains on n samples), after `warmup` seconds of it."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < warmup:
        step_epoch()
    done, t0 = 0, time.perf_counter()
    while True:
        step_epoch()
        done += n
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return done / dt


# ---- the engines, each run inside its own worker process ----
def run_fastnn(mode, threads, warmup, seconds):
    import fastnn
    from fastnn import nn, optim

    if threads == "1":
        fastnn.set_num_threads(1)
    elif threads == "all":
        fastnn.set_num_threads(len(os.sched_getaffinity(0)))  # a fixed team of every core
    X, y = _data()
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(IN, HID1), nn.ReLU(), nn.Linear(HID1, HID2), nn.ReLU(), nn.Linear(HID2, OUT))
    opt, crit = optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()
    if mode == "fit":
        from fastnn.training import fit

        def epoch():
            fit(model, X, y, loss=crit, optimizer=opt, epochs=1, batch_size=BATCH, verbose=0, metrics=())
    else:
        fX, fy = fastnn.from_numpy(X), fastnn.from_numpy(y)

        def epoch():
            for i in range(0, X.shape[0], BATCH):
                opt.zero_grad()
                crit(model(fX[i:i + BATCH]), fy[i:i + BATCH]).backward()
                opt.step()
    value = _timed(epoch, X.shape[0], warmup, seconds)
    return value, fastnn.thread_status()["now"]


def run_torch(mode, threads, warmup, seconds):
    import torch
    from torch import nn

    X, y = _data()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(IN, HID1), nn.ReLU(), nn.Linear(HID1, HID2), nn.ReLU(), nn.Linear(HID2, OUT))
    opt, crit = torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)

    def epoch():
        for i in range(0, X.shape[0], BATCH):
            opt.zero_grad()
            crit(model(tX[i:i + BATCH]), ty[i:i + BATCH]).backward()
            opt.step()
    return _timed(epoch, X.shape[0], warmup, seconds), torch.get_num_threads()


def run_jax(mode, threads, warmup, seconds):
    import jax
    import jax.numpy as jnp
    import optax

    X, y = _data()
    key = jax.random.PRNGKey(0)
    params = []
    for fan_in, fan_out in ((IN, HID1), (HID1, HID2), (HID2, OUT)):
        key, k1, k2 = jax.random.split(key, 3)
        bound = 1.0 / fan_in ** 0.5
        params.append((jax.random.uniform(k1, (fan_in, fan_out), minval=-bound, maxval=bound),
                       jax.random.uniform(k2, (fan_out,), minval=-bound, maxval=bound)))
    tx = optax.adam(1e-3)

    def loss_fn(p, xb, yb):
        h = xb
        for i, (w, b) in enumerate(p):
            h = h @ w + b
            if i < len(p) - 1:
                h = jax.nn.relu(h)
        return optax.softmax_cross_entropy_with_integer_labels(h, yb).mean()

    @jax.jit
    def step(p, s, xb, yb):
        g = jax.grad(loss_fn)(p, xb, yb)
        upd, s = tx.update(g, s, p)
        return optax.apply_updates(p, upd), s

    batches = [(jnp.asarray(X[i:i + BATCH]), jnp.asarray(y[i:i + BATCH])) for i in range(0, X.shape[0], BATCH)]
    state = [params, tx.init(params)]

    def epoch():
        p, s = state
        for xb, yb in batches:
            p, s = step(p, s, xb, yb)
        jax.block_until_ready(p)
        state[:] = [p, s]
    return _timed(epoch, X.shape[0], warmup, seconds), None


ENGINES = {"fastnn": run_fastnn, "torch": run_torch, "jax": run_jax}
# (label, engine, mode, threads)
CONFIGS = [("fastnn loop, default", "fastnn", "loop", "default"),
           ("fastnn loop, 1 thread", "fastnn", "loop", "1"),
           ("fastnn loop, all cores fixed", "fastnn", "loop", "all"),
           ("fastnn fit, default", "fastnn", "fit", "default"),
           ("fastnn fit, 1 thread", "fastnn", "fit", "1"),
           ("fastnn fit, all cores fixed", "fastnn", "fit", "all"),
           ("PyTorch loop, default", "torch", "loop", "default"),
           ("JAX jit step, default", "jax", "loop", "default")]


def _worker(a):
    label, engine, mode, threads = CONFIGS[a.worker]
    value, team = ENGINES[engine](mode, threads, a.warmup, a.seconds)
    print(json.dumps({"value": value, "team": team}))


def _run(i, a):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(i), "--warmup", str(a.warmup),
           "--seconds", str(a.seconds)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": last[:100]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def _hogs(n):
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def _loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--hogs", type=int, default=None, help="busy processes for the busy half (default: cores/2)")
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--only", default=None, help="comma-separated substrings of the configurations to run")
    ap.add_argument("--json", default=None)
    ap.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker is not None:
        return _worker(a)
    cores = len(os.sched_getaffinity(0))
    hogs = a.hogs if a.hogs is not None else max(1, cores // 2)
    chosen = [i for i, c in enumerate(CONFIGS) if a.only is None or any(s in c[0] for s in a.only.split(","))]
    print(f"cores: {cores}  busy: {hogs} busy-loop process(es)  rounds: {a.rounds}  load average: {_loadavg()}")
    results = {}
    for cond in ("idle", "busy"):
        vals = {i: [] for i in chosen}
        teams, errors = {}, {}
        for r in range(a.rounds):
            order = chosen[r % len(chosen):] + chosen[:r % len(chosen)]
            procs = _hogs(hogs if cond == "busy" else 0)
            try:
                time.sleep(0.2 if procs else 0)
                for i in order:
                    res = _run(i, a)
                    if "error" in res:
                        errors[i] = res["error"]
                    else:
                        vals[i].append(res["value"])
                        teams[i] = res["team"]
            finally:
                for p in procs:
                    p.kill()
                    p.wait()
        results[cond] = {CONFIGS[i][0]: {"median": statistics.median(v) if v else None, "all": v,
                                         "team": teams.get(i), "error": errors.get(i)} for i, v in vals.items()}
    _table(results)
    _bars(results)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cores": cores, "hogs": hogs, "rounds": a.rounds, "results": results}, f, indent=1)
    print(f"load average at end: {_loadavg()}")


def _table(results):
    print(f"\n{'samples/s (median)':32} {'idle':>10} {'busy':>10}  team idle/busy")
    for label in results["idle"]:
        cells, teams = [], []
        for cond in ("idle", "busy"):
            r = results[cond][label]
            cells.append(f"{r['median']:10.0f}" if r["median"] else f"{'n/a':>10}")
            teams.append(str(r["team"]) if r["team"] is not None else "-")
        err = results["idle"][label]["error"] or results["busy"][label]["error"]
        print(f"{label:32} {cells[0]} {cells[1]}  {'/'.join(teams)}" + (f"  ({err})" if err else ""))


def _bars(results):
    def med(cond, label):
        r = results[cond].get(label)
        return r["median"] if r else None

    checks = []
    for kind in ("loop", "fit"):
        checks.append((f"busy: fastnn {kind} default / 1 thread", "busy", f"fastnn {kind}, default",
                       f"fastnn {kind}, 1 thread", 0.8))
        checks.append((f"idle: fastnn {kind} default / all cores", "idle", f"fastnn {kind}, default",
                       f"fastnn {kind}, all cores fixed", 0.9))
    checks.append(("busy: fastnn loop default / PyTorch default", "busy", "fastnn loop, default",
                   "PyTorch loop, default", 1.5))
    checks.append(("busy: fastnn loop default / JAX jit", "busy", "fastnn loop, default", "JAX jit step, default",
                   1.0))
    print()
    for name, cond, num, den, bar in checks:
        a, b = med(cond, num), med(cond, den)
        if a and b:
            print(f"{'PASS' if a / b >= bar else 'MISS'} {name}: {a / b:.2f}x (want >= {bar})")
        else:
            print(f"---- {name}: not measured")


if __name__ == "__main__":
    main()
