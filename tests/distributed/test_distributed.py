"""fastnn.distributed: the world of one (always), and real runs under `mpiexec -n 2` / `-n 4` (when
mpi4py and an mpiexec are installed, as the test extras do): bitwise-identical parameters on every rank,
agreement with single-process training, SyncBatchNorm against BatchNorm on the whole batch, and failures
that end every rank instead of hanging."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import fastnn
import fastnn.distributed as dist
import fastnn.nn as nn
import fastnn.optim as optim
from fastnn.utils.data import DistributedSampler

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker.py")


def _mpiexec():
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.path.exists(here) else shutil.which("mpiexec")


_HAVE_MPI = bool(dist.is_available() and _mpiexec())
if os.environ.get("FASTNN_REQUIRE_MPI") and not _HAVE_MPI:  # CI: the mpiexec tests must run, not skip
    raise RuntimeError("FASTNN_REQUIRE_MPI is set but mpi4py or mpiexec is missing")
needs_mpi = pytest.mark.skipif(not _HAVE_MPI, reason="mpi4py and mpiexec not installed")


def _env():
    env = dict(os.environ)
    for k in list(env):  # a test run started under mpiexec must not make the single-process reference a rank
        if k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDRA_", "MPI_LOCALRANKID")):
            del env[k]
    env["OMP_NUM_THREADS"] = "1"  # up to 4 ranks on a 2-core machine
    return env


def _run(case, dtype, outdir, n=None, bn=None, timeout=120, reduce_bcast=False):
    """The worker alone (n None: the single-process reference) or under mpiexec -n n."""
    cmd = ([_mpiexec(), "-n", str(n)] if n else []) + [sys.executable, WORKER, case, dtype, str(outdir)]
    env = _env()
    if reduce_bcast:
        env["FASTNN_TEST_REDUCE_BCAST"] = "1"
    return subprocess.run(cmd + ([bn] if bn else []), capture_output=True, text=True, timeout=timeout, env=env)


def _results(outdir, case, n):
    return [dict(np.load(os.path.join(outdir, f"{case}-rank{r}.npz"))) for r in range(n)]


def _train(tmp_path, case, dtype, n, bn=None, reduce_bcast=False):
    ref_dir, par_dir = tmp_path / "ref", tmp_path / f"n{n}"
    ref_dir.mkdir()
    par_dir.mkdir()
    for d, k in ((ref_dir, None), (par_dir, n)):
        p = _run(case, dtype, d, k, bn, reduce_bcast=reduce_bcast)
        assert p.returncode == 0, p.stdout + p.stderr
    ref, = _results(ref_dir, case, 1)
    ranks = _results(par_dir, case, n)
    assert int(ranks[0]["world"][0]) == n and int(ref["world"][0]) == 1
    return ref, ranks


# ---- under mpiexec ------------------------------------------------------------------------------------

@needs_mpi
@pytest.mark.parametrize("n,dtype,reduce_bcast", [(2, "float32", False), (2, "float64", False), (4, "float32", False),
                                                 (4, "float64", False), (3, "float32", True)])
def test_fit_matches_single_process_and_is_identical_on_every_rank(tmp_path, n, dtype, reduce_bcast):
    # 2 epochs of the digits MLP: momentum SGD, L2 penalty, clipping, ReduceLROnPlateau on validation;
    # reduce_bcast: the reduction used under MPIs other than MPICH (3 ranks: uneven shards)
    ref, ranks = _train(tmp_path, "fit", dtype, n, reduce_bcast=reduce_bcast)
    tol = 1e-6 if dtype == "float32" else 1e-12
    for k, v in ref.items():
        if k == "world":
            continue
        for r, res in enumerate(ranks[1:], 1):
            assert np.array_equal(res[k], ranks[0][k]), f"{k} differs between rank 0 and rank {r}"
        np.testing.assert_allclose(ranks[0][k], v, rtol=0, atol=tol, err_msg=k)
    assert ref["h_val_loss"].shape == (2,)


@needs_mpi
@pytest.mark.parametrize("n,dtype,bn", [(2, "float32", None), (4, "float64", None), (2, "float64", "sync")])
def test_torch_style_loop_with_sampler_and_distributed_optimizer(tmp_path, n, dtype, bn):
    ref, ranks = _train(tmp_path, "loop", dtype, n, bn)
    tol = 1e-6 if dtype == "float32" else 1e-12
    for k, v in ref.items():
        if k == "world":
            continue
        for res in ranks[1:]:
            assert np.array_equal(res[k], ranks[0][k]), k
        np.testing.assert_allclose(ranks[0][k], v, rtol=0, atol=tol, err_msg=k)


@needs_mpi
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_with_sync_batchnorm_matches_whole_batch(tmp_path, dtype):
    ref, ranks = _train(tmp_path, "fit", dtype, 2, "sync")
    tol = 1e-5 if dtype == "float32" else 1e-12  # (the bias before batch norm has a ~0 gradient)
    for k, v in ref.items():
        if k != "world":
            assert np.array_equal(ranks[1][k], ranks[0][k]), k
            np.testing.assert_allclose(ranks[0][k], v, rtol=0, atol=tol, err_msg=k)


@needs_mpi
def test_sync_batchnorm_2d_against_batchnorm_on_the_whole_batch(tmp_path):
    p = _run("syncbn2d", "float64", tmp_path, 2)
    assert p.returncode == 0, p.stdout + p.stderr
    rng = np.random.default_rng(5)  # the worker's batch
    X = rng.standard_normal((12, 3, 4, 5)) * 2 + 1
    G = rng.standard_normal(X.shape)
    m = nn.BatchNorm2d(3, dtype=np.float64)
    m.weight.data[:] = np.array([0.5, 1.5, -1.0])
    x = fastnn.tensor(X, requires_grad=True)
    y = m(x)
    (y * fastnn.tensor(G)).sum().backward()
    for r, res in enumerate(_results(tmp_path, "syncbn2d", 2)):
        np.testing.assert_allclose(res["y"], y.detach().numpy()[r::2], atol=1e-13)
        np.testing.assert_allclose(res["dx"], x.grad.numpy()[r::2], atol=1e-13)
        np.testing.assert_allclose(res["gw"], m.weight.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(res["gb"], m.bias.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(res["rm"], m.running_mean.numpy(), atol=1e-14)
        np.testing.assert_allclose(res["rv"], m.running_var.numpy(), atol=1e-14)


@needs_mpi
@pytest.mark.parametrize("case,code", [("fail", None), ("die", 3)])
def test_a_failing_rank_ends_every_rank(tmp_path, case, code):
    p = _run(case, "float32", tmp_path, 2, timeout=60)  # a hang would be a TimeoutExpired
    assert p.returncode != 0
    if case == "fail":
        assert "rank 1 of 2 failed: RuntimeError: injected failure" in p.stderr
    assert not any(f.startswith(case) for f in os.listdir(tmp_path))  # no rank finished training


@needs_mpi
@pytest.mark.parametrize("case", ["exit", "caught"])
def test_every_way_a_rank_leaves_fit_ends_the_job(tmp_path, case):
    p = _run(case, "float32", tmp_path, 2, timeout=60)  # a hang would be a TimeoutExpired
    assert p.returncode != 0 and "rank 1 of 2 failed" in p.stderr
    assert not any(f.startswith(case) for f in os.listdir(tmp_path))


@needs_mpi
def test_ranks_with_different_data_are_refused_clearly(tmp_path):
    p = _run("mismatch", "float32", tmp_path, 2, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "the ranks disagree on X" in p.stdout and "rank 0 ((200, 64)" in p.stdout
    for r in range(2):
        assert np.load(tmp_path / f"mismatch-rank{r}.npz")["refused"][0] == 1


@needs_mpi
def test_uncaught_exception_on_one_rank_aborts_the_others(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import numpy as np, fastnn.distributed as dist\n"
                      "dist.init()\n"
                      "if dist.rank() == 1:\n    raise ValueError('only on rank 1')\n"
                      "dist.allreduce_(np.ones(3))\nprint('finished')\n")
    p = subprocess.run([_mpiexec(), "-n", "2", sys.executable, str(script)], capture_output=True, text=True,
                       timeout=60, env=_env())
    assert p.returncode != 0 and "only on rank 1" in p.stderr and "finished" not in p.stdout


# ---- a world of one (no mpiexec) ----------------------------------------------------------------------

def test_world_of_one():
    assert dist.world_size() == 1 and dist.rank() == 0 and dist.local_rank() == 0
    assert dist.init() is dist.init() and dist.is_initialized()
    a = np.arange(5.0)
    assert dist.allreduce_(a) is a and np.array_equal(a, np.arange(5.0))
    dist.barrier()
    m = nn.Linear(3, 2)
    before = m.weight.detach().numpy().copy()
    dist.broadcast_parameters(m)
    assert np.array_equal(m.weight.detach().numpy(), before)
    assert "mpi4py" in dist.info() or "not available" in dist.info()


def test_allreduce_rejects_bad_input():
    with pytest.raises(ValueError, match="op"):
        dist.allreduce_(np.ones(3), op="max")
    with pytest.raises(ValueError, match="contiguous"):
        dist.allreduce_(np.ones((4, 4))[:, ::2])
    with pytest.raises(TypeError, match="optimizer"):
        dist.DistributedOptimizer(object())


def test_distributed_optimizer_is_the_wrapped_optimizer_in_a_world_of_one():
    fastnn.manual_seed(0)
    m1 = nn.Linear(4, 3)
    m2 = nn.Linear(4, 3)
    m2.load_state_dict(m1.state_dict())
    o1 = optim.SGD(m1.parameters(), lr=0.1, momentum=0.9)
    o2 = dist.DistributedOptimizer(optim.SGD(m2.parameters(), lr=0.1, momentum=0.9))
    x = fastnn.randn(8, 4)
    for _ in range(3):
        for m, o in ((m1, o1), (m2, o2)):
            o.zero_grad()
            m(x).pow(2).mean().backward()
            o.step()
    assert np.array_equal(m1.weight.detach().numpy(), m2.weight.detach().numpy())
    assert o2.param_groups[0]["lr"] == 0.1
    o2.param_groups[0]["lr"] = 0.05  # the wrapped optimizer's
    assert o2.optimizer.param_groups[0]["lr"] == 0.05


def test_fit_distributed_true_in_a_world_of_one_is_plain_fit():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X[:300] / 16).astype(np.float32)
    y = y[:300]
    out = []
    for d in (False, True):
        fastnn.manual_seed(1)
        m = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
        fastnn.training.fit(m, X, y, loss="cross_entropy", optimizer=optim.SGD(m.parameters(), lr=0.1),
                            epochs=1, seed=0, verbose=0, distributed=d)
        out.append(m[0].weight.detach().numpy().copy())
    assert np.array_equal(*out)


def test_sync_batchnorm_is_batchnorm_in_a_world_of_one():
    x = np.random.default_rng(0).standard_normal((6, 4, 3)).astype(np.float32)
    a, b = nn.BatchNorm1d(4), nn.SyncBatchNorm(4)
    for m in (a, b):
        m.weight.data[:] = np.array([1, 2, 3, 4], np.float32)
    ta, tb = fastnn.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    ya, yb = a(ta), b(tb)
    assert np.array_equal(ya.detach().numpy(), yb.detach().numpy())
    ya.sum().backward()
    yb.sum().backward()
    assert np.array_equal(ta.grad.numpy(), tb.grad.numpy())
    assert np.array_equal(a.running_var.numpy(), b.running_var.numpy())
    with pytest.raises(ValueError, match="more than 1 value"):
        b(fastnn.tensor(x[:1, :, :1]))


def test_convert_sync_batchnorm_keeps_state_and_checkpoints():
    import io

    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    m[1].running_mean.data[:] = 0.5
    sd = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    out = nn.SyncBatchNorm.convert_sync_batchnorm(m)
    assert out is m and type(m[1]) is nn.SyncBatchNorm
    assert all(np.array_equal(v.numpy(), sd[k]) for k, v in m.state_dict().items())
    buf = io.BytesIO()
    fastnn.save(m, buf)
    buf.seek(0)
    m2 = fastnn.load(buf, weights_only=False)
    assert type(m2[1]) is nn.SyncBatchNorm and np.array_equal(m2[1].running_mean.numpy(), sd["1.running_mean"])
    with pytest.raises(ValueError, match="process_group"):
        nn.SyncBatchNorm.convert_sync_batchnorm(m, process_group=object())


@pytest.mark.parametrize("n,shuffle,drop_last", [(10, False, False), (10, False, True), (11, True, False),
                                                  (11, True, True), (2, False, False), (3, True, False)])
def test_distributed_sampler_semantics(n, shuffle, drop_last):
    parts = [list(DistributedSampler(range(n), num_replicas=4, rank=r, shuffle=shuffle, seed=2,
                                     drop_last=drop_last)) for r in range(4)]
    assert len({len(p) for p in parts}) == 1  # every rank runs the same number of steps
    flat = [i for p in parts for i in p]
    if drop_last:
        assert len(flat) == n - n % 4 and len(set(flat)) == len(flat)
    else:
        assert set(flat) == set(range(n)) and len(flat) == -(-n // 4) * 4
    try:
        import torch
        from torch.utils.data import DistributedSampler as TorchSampler
    except ImportError:
        return
    if not shuffle:  # the same split and padding as PyTorch's (its permutations come from its own generator)
        with torch.no_grad():
            want = [list(TorchSampler(range(n), num_replicas=4, rank=r, shuffle=False, drop_last=drop_last))
                    for r in range(4)]
        assert parts == want


def test_distributed_sampler_epochs_and_errors():
    s = DistributedSampler(range(20), num_replicas=2, rank=1, seed=4)
    e0 = list(s)
    assert list(s) == e0
    s.set_epoch(1)
    assert list(s) != e0
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(range(5), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(range(5), num_replicas=0, rank=0)
    assert list(DistributedSampler(range(5), shuffle=False)) == list(range(5))  # the world of one
