"""The MPI world fastnn's data-parallel pieces share (fastnn.distributed above, nn.SyncBatchNorm below):
joining it, and a sum over ranks that every rank receives bitwise alike. Private: use fastnn.distributed."""
import contextlib
import os
import sys
import time
import traceback

BUCKET_ELEMENTS = 1 << 20  # gradients are reduced in buckets of 1M elements (4 MB in float32), in order


class _World:
    comm = None
    rank, size, local_rank, local_size = 0, 1, 0, 1
    initialized = False
    symmetric_allreduce = False  # the MPI's allreduce gives every rank bitwise the same sum (MPICH)


_W = _World()


def is_available():
    """Whether mpi4py (and an MPI) can be imported."""
    try:
        import mpi4py  # noqa: F401
        return True
    except ImportError:
        return False


def _launched_by_mpi():
    keys = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALRANKID", "HYDRA_CONTROL_FD")
    return any(k in os.environ for k in keys)


def init(threads=None):
    """Join the MPI world (idempotent). Without mpi4py, or when the script was not started by mpiexec, the
    world is this process alone (rank 0 of 1). threads: kernel threads per rank (default: the cores
    divided by the ranks on this machine, unless OMP_NUM_THREADS says otherwise)."""
    if not _W.initialized:
        _W.initialized = True
        if _launched_by_mpi() and is_available():
            _join()
    from ._threads import set_num_threads

    if threads is not None:
        set_num_threads(threads)
    return _W


def _join():
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    _W.comm, _W.rank, _W.size = comm, comm.Get_rank(), comm.Get_size()
    _W.symmetric_allreduce = MPI.Get_library_version().lstrip().startswith("MPICH")
    local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=_W.rank)
    _W.local_rank, _W.local_size = local.Get_rank(), local.Get_size()
    local.Free()
    if _W.size > 1:
        _abort_on_uncaught()
    if "OMP_NUM_THREADS" not in os.environ and _W.local_size > 1:  # never oversubscribe the cores
        from ._threads import set_num_threads, thread_status

        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover
            cores = os.cpu_count() or 1
        set_num_threads(max(1, cores // _W.local_size), adaptive=thread_status()["adaptive"])


def _abort_on_uncaught():
    """An exception no one catches on one rank would leave the others blocked in their next collective
    (MPI_Finalize at exit waits for them): print it, then end every rank."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        _abort(1)
    sys.excepthook = hook


def _abort(code):
    """MPI_Abort after the message is out: mpiexec forwards a rank's output asynchronously, and an
    immediate abort cut a traceback after its first line (seen in CI); a quarter second lets it through."""
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(0.25)
    _W.comm.Abort(code)


def _reduce_sum(buf):
    """buf (1-D, contiguous) := the sum over ranks, identical on every rank, bucket by bucket. MPICH's
    allreduce algorithms either sum each element once and copy the result (reduce-scatter + allgather,
    tree + broadcast) or sum in symmetric pairs (recursive doubling: a + b on one rank, b + a on the
    other, the same bits), so its MPI_Allreduce gives every rank the same result -- the tests check it.
    Under another MPI the standard only advises that, so fastnn reduces to rank 0 (a fixed tree) and
    broadcasts: about twice the time (7.5 MB on 2 ranks: 2.8 ms against 1.3 ms)."""
    from mpi4py import MPI

    comm = _W.comm
    for lo in range(0, buf.size, BUCKET_ELEMENTS):
        part = buf[lo:lo + BUCKET_ELEMENTS]
        if _W.symmetric_allreduce:
            comm.Allreduce(MPI.IN_PLACE, part, op=MPI.SUM)
            continue
        if _W.rank == 0:
            comm.Reduce(MPI.IN_PLACE, part, op=MPI.SUM, root=0)
        else:
            comm.Reduce(part, None, op=MPI.SUM, root=0)
        comm.Bcast(part, root=0)


def abort(message, code=1):
    """Print `message` (naming the rank) and end every rank: a failure on one rank must not leave the
    others waiting in a collective forever."""
    print(f"fastnn.distributed: rank {_W.rank} of {_W.size} failed: {message}", file=sys.stderr, flush=True)
    if _W.comm is not None and _W.size > 1:
        _abort(code)
    raise SystemExit(code)




@contextlib.contextmanager
def collective_region(active=True):
    """Code every rank runs in step (fit's training): a failure on one rank -- an exception, even one the
    caller would catch, or sys.exit() from a callback -- prints it and ends every rank, since the others
    would wait in their next collective forever."""
    if not active or _W.comm is None or _W.size < 2:
        yield
        return
    try:
        yield
    except AgreedError:  # raised on every rank alike: no rank is left waiting
        raise
    except BaseException as e:  # noqa: B902  (SystemExit and KeyboardInterrupt too)
        traceback.print_exc()
        abort(f"{type(e).__name__}: {e}", code=e.code if isinstance(e, SystemExit) and isinstance(e.code, int)
              else 1)


class AgreedError(ValueError):
    """An error every rank raises alike (from a check made together), so it may propagate normally."""


def check_same(**facts):
    """Refuse, on every rank alike, a call whose facts differ between ranks (a different model, other data):
    they would otherwise meet in mismatched collectives (MPICH's raw errors, or a hang)."""
    if _W.comm is None or _W.size < 2:
        return
    every = _W.comm.allgather(facts)
    bad = [k for k in facts if any(f.get(k) != every[0].get(k) for f in every)]
    if bad:
        lines = "; ".join(f"{k}: " + ", ".join(f"rank {r} {f.get(k)!r}" for r, f in enumerate(every)) for k in bad)
        raise AgreedError(f"distributed: the ranks disagree on {', '.join(bad)} ({lines}); every rank must run the "
                         "same model on the same data")
