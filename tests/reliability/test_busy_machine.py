"""The adaptive team: fastnn's kernels use fewer threads while other processes keep cores busy, and
exactly what the user asked for once asked (set_num_threads(n), OMP_NUM_THREADS); results never
depend on which."""
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import fastnn
from fastnn._ext import _runtime

LINUX = sys.platform.startswith("linux") and os.path.exists("/proc/stat")


@pytest.mark.parametrize("ncpu, others, ceded, expected", [
    (2, 0.0, 0, 0),     # idle: every core
    (2, 0.15, 0, 0),    # a little background work: not worth a core yet
    (2, 0.25, 0, 1),    # above the cede margin: one core left to the others
    (2, 1.0, 0, 1),     # one core busy (the case)
    (2, 0.15, 1, 1),    # between the margins: keep what was decided (no flapping)
    (2, 0.05, 1, 0),    # below the take-back margin: the core comes back
    (2, 5.0, 0, 1),     # never below one thread
    (16, 8.0, 0, 8),    # 8 of 16 busy
    (16, 8.15, 8, 8),
    (16, 8.3, 8, 9),
    (16, 7.05, 8, 7),
])
def test_the_rule_cedes_a_core_per_busy_core_with_hysteresis(ncpu, others, ceded, expected):
    assert _runtime.adapt_decide(ncpu, others, ceded) == expected


def test_default_is_adaptive_and_an_explicit_count_is_fixed_then_restored():
    status = fastnn.thread_status()
    assert set(status) == {"max", "adaptive", "now", "cpus", "ceded", "others_load", "reason"}
    before = (fastnn.get_num_threads(), status["adaptive"])
    with fastnn.set_num_threads(1):
        s = fastnn.thread_status()
        assert (s["max"], s["adaptive"], s["now"]) == (1, False, 1)
        assert "fixed" in s["reason"]
    assert (fastnn.get_num_threads(), fastnn.thread_status()["adaptive"]) == before
    with fastnn.set_num_threads("auto"):
        s = fastnn.thread_status()
        assert s["adaptive"] and 1 <= s["now"] <= s["max"]
    with fastnn.set_num_threads(2, adaptive=True) as st:
        assert fastnn.thread_status()["adaptive"] and fastnn.get_num_threads() == 2
        assert "adaptive=True" in repr(st)
    assert (fastnn.get_num_threads(), fastnn.thread_status()["adaptive"]) == before


@pytest.mark.parametrize("bad, err", [("all", TypeError), (0, ValueError), (2.0, TypeError), (True, TypeError)])
def test_bad_thread_counts_are_refused_and_change_nothing(bad, err):
    before = (fastnn.get_num_threads(), fastnn.thread_status()["adaptive"])
    with pytest.raises(err, match="n: expected an int >= 1 or 'auto'"):
        fastnn.set_num_threads(bad)
    assert (fastnn.get_num_threads(), fastnn.thread_status()["adaptive"]) == before


def test_others_load_refuses_a_negative_window():
    with pytest.raises(ValueError, match="seconds"):
        _runtime.others_load(-1.0)


@pytest.mark.parametrize("env, adaptive", [({"OMP_NUM_THREADS": "2"}, False), ({"FASTNN_ADAPTIVE_THREADS": "0"}, False),
                                           ({}, True)])
def test_the_environment_fixes_the_count(env, adaptive, tmp_path):
    code = "import fastnn; s = fastnn.thread_status(); print(s['adaptive'], s['max'])"
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "FASTNN_ADAPTIVE_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                         timeout=120, check=True, cwd=tmp_path).stdout.split()  # the installed fastnn
    assert out[0] == str(adaptive)
    if "OMP_NUM_THREADS" in env:
        assert out[1] == "2"


def _hogs(n):
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


@pytest.mark.skipif(not LINUX, reason="the others' load is read from /proc/stat")
def test_a_busy_machine_shrinks_the_team_and_reports_why():
    cores = len(os.sched_getaffinity(0))
    if cores < 2:
        pytest.skip("one core: nothing to cede")
    hogs = _hogs(cores)  # every core busy: whatever else runs here, the others keep > 1 core
    try:
        time.sleep(0.3)
        with fastnn.set_num_threads(cores, adaptive=True):
            x = np.ones(1 << 20, np.float32)
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < 1.0:  # kernels sample the load every 0.1 s
                fastnn.ops.relu(x)
            s = fastnn.thread_status()
            assert s["now"] < cores and s["ceded"] >= 1, s
            assert s["others_load"] > 0.5 and "left to them" in s["reason"]
            m = fastnn.thread_status(measure=0.2)
            assert m["others_load"] > 0.5 and m["now"] < cores
    finally:
        for p in hogs:
            p.kill()
            p.wait()


_TRAIN = textwrap.dedent("""
    import hashlib, sys
    import numpy as np
    import fastnn
    from fastnn import nn, optim
    if sys.argv[1] == "fixed1":
        fastnn.set_num_threads(1)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((2048, 64)).astype(np.float32), rng.integers(0, 10, 2048)
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    fastnn.fit(model, X, y, loss="cross_entropy", optimizer=optim.Adam(model.parameters()), epochs=3,
               batch_size=128, verbose=0, seed=0)
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(v.numpy().tobytes())
    print(h.hexdigest(), fastnn.thread_status()["now"])
""")


@pytest.mark.skipif(not LINUX, reason="the others' load is read from /proc/stat")
def test_training_on_a_busy_machine_is_bitwise_what_one_thread_gives(tmp_path):
    run = [sys.executable, "-c", _TRAIN]
    quiet = subprocess.run(run + ["fixed1"], capture_output=True, text=True, timeout=300, check=True,
                           cwd=tmp_path).stdout.split()
    hogs = _hogs(len(os.sched_getaffinity(0)))
    try:
        busy = subprocess.run(run + ["default"], capture_output=True, text=True, timeout=300,
                              check=True, cwd=tmp_path).stdout.split()
    finally:
        for p in hogs:
            p.kill()
            p.wait()
    assert busy[0] == quiet[0]


@pytest.mark.skipif(not LINUX, reason="the others' load is read from /proc/stat")
def test_fastnn_bench_warns_on_a_busy_machine_instead_of_judging():
    import io

    from fastnn import benchmark

    hogs = _hogs(len(os.sched_getaffinity(0)))
    try:
        time.sleep(0.2)
        out = io.StringIO()
        load = benchmark._busy_warning(0.3, "before", out)
    finally:
        for p in hogs:
            p.kill()
            p.wait()
    assert load > benchmark.BUSY_LOAD and "WARNING (before the run)" in out.getvalue()
    assert "timings below are a busy machine's" in out.getvalue()
