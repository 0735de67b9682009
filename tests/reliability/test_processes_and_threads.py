"""No hang and no crash across processes and thread pools: fork after parallel kernels (multiprocessing,
Pool, DataLoader workers), the zero-class cross-entropy that used to raise SIGFPE, and products that
stay single-pool and bitwise reproducible whatever a caller's threadpoolctl state."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastnn
from fastnn import nn, ops
from _helpers import run_python

FORK = r'''
import multiprocessing as mp, numpy as np, fastnn
from fastnn import ops, nn
x = np.ones(4_000_000, np.float32)
ops.relu(x)                                   # an OpenMP team now exists in this process
ops.matmul(np.ones((512, 512), np.float32), np.ones((512, 512), np.float32))

def work(_=None):
    import fastnn
    from fastnn import ops
    ops.relu(x); ops.dropout(x, 0.5, seed=1); ops.batch_norm_stats(x.reshape(4000, 1000))
    ops.matmul(np.ones((512, 512), np.float32), np.ones((512, 512), np.float32))
    fastnn.set_num_threads(4)                 # stays serial in the forked child
    m = nn.Linear(1000, 10); m(fastnn.randn(64, 1000)).sum().backward()
    return fastnn.get_num_threads()

ctx = mp.get_context("fork")
p = ctx.Process(target=work); p.start(); p.join(60)
assert not p.is_alive() and p.exitcode == 0, "forked Process hung or failed"
with ctx.Pool(2) as pool:
    assert pool.map(work, range(4), chunksize=1) == [1, 1, 1, 1]
print("fork ok")
'''


def test_fork_after_parallel_kernels_does_not_hang():
    r = run_python(FORK, timeout=240)
    assert r.returncode == 0 and "fork ok" in r.stdout, r.stderr[-2000:]


SIGFPE = r'''
import numpy as np, fastnn
from fastnn import ops, nn
loss = ops.cross_entropy(np.zeros((0, 0), np.float32), np.zeros(0, np.int64))
assert np.isnan(loss)
assert ops.cross_entropy(np.zeros((0, 0), np.float32), np.zeros(0, np.int64), reduction="sum") == 0.0
try:
    ops.cross_entropy(np.zeros((2, 0), np.float32), np.zeros(2, np.int64))
except ValueError:
    pass
nn.CrossEntropyLoss()(fastnn.zeros(0, 0, requires_grad=True), fastnn.zeros(0, dtype=fastnn.long))
print("no SIGFPE")
'''


def test_zero_class_cross_entropy_does_not_kill_the_process():
    r = run_python(SIGFPE)
    assert r.returncode == 0 and "no SIGFPE" in r.stdout, (r.returncode, r.stderr[-2000:])


def test_products_keep_one_pool_under_a_callers_threadpool_limits():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((300, 400)).astype(np.float32), rng.standard_normal((400, 500)).astype(np.float32)
    m = nn.Sequential(nn.Linear(400, 300), nn.ReLU(), nn.Linear(300, 10))
    ref_mm, ref_pred = ops.matmul(a, b), fastnn.predict(m, a)
    for n in (1, 2, 4):
        with threadpoolctl.threadpool_limits(n):
            np.testing.assert_array_equal(ops.matmul(a, b), ref_mm)
            np.testing.assert_array_equal(fastnn.predict(m, a), ref_pred)
            scipy_blas = [d for d in threadpoolctl.threadpool_info()
                          if d["user_api"] == "blas" and "scipy" in d["filepath"] and "openblas64" not in d["filepath"]]
            if scipy_blas and fastnn._ext._blas.get_split():
                assert scipy_blas[0]["num_threads"] == 1  # re-pinned by the product itself


def test_results_do_not_depend_on_the_thread_count_through_autograd():
    x = np.random.default_rng(0).standard_normal((64, 20)).astype(np.float32)
    out = []
    for nt in (1, 2, 3, 5, 16):
        with fastnn.set_num_threads(nt):
            fastnn.manual_seed(0)
            m = nn.Sequential(nn.Linear(20, 300), nn.BatchNorm1d(300), nn.ELU(), nn.Dropout(0.3), nn.Linear(300, 4))
            loss = nn.CrossEntropyLoss()(m(fastnn.tensor(x)), fastnn.tensor(np.arange(64) % 4))
            loss.backward()
            out.append([p.grad.numpy().copy() for p in m.parameters()])
    for o in out[1:]:
        for g1, g2 in zip(out[0], o):
            np.testing.assert_array_equal(g1, g2)


_TRAIN = """
import numpy as np, fastnn, sys
from fastnn import nn, optim
rng = np.random.default_rng(0)
X = rng.standard_normal((1000, 784)).astype(np.float32)
y = rng.integers(0, 10, 1000)
fastnn.manual_seed(0)
m = nn.Sequential(nn.Linear(784, 300), nn.BatchNorm1d(300), nn.ELU(), nn.Dropout(0.2), nn.Linear(300, 100),
                  nn.ReLU(), nn.Linear(100, 10))
opt = optim.Adam(m.parameters(), lr=1e-3)
fastnn.fit(m, X, y, loss="cross_entropy", optimizer=opt, epochs=2, batch_size=int(sys.argv[1]), verbose=0, seed=0)
print(fastnn.get_num_threads())
np.save(sys.argv[2], np.concatenate([p.detach().numpy().ravel() for p in m.parameters()]))
"""


@pytest.mark.parametrize("batch", [32, 512])
def test_training_is_bitwise_the_same_with_more_threads_than_cores(tmp_path, batch):
    """Whole training runs (products of every block layout, batch norm, dropout, Adam) under
    OMP_NUM_THREADS = 1, 3 and 16 -- more threads than this machine may have cores -- end with the
    same parameters, bit for bit."""
    script = tmp_path / "train.py"
    script.write_text(_TRAIN)
    runs = {}
    for nt in ("1", "3", "16"):
        env = dict(os.environ, OMP_NUM_THREADS=nt)
        out = tmp_path / f"p{nt}.npy"
        r = subprocess.run([sys.executable, str(script), str(batch), str(out)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == nt  # fastnn took the thread count from OMP_NUM_THREADS
        runs[nt] = np.load(out)
    np.testing.assert_array_equal(runs["1"], runs["3"])
    np.testing.assert_array_equal(runs["1"], runs["16"])
