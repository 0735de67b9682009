"""Thread control: one count for fastnn's OpenMP kernels and the BLAS under its matrix products.

The count is passed explicitly to every kernel (never a global omp_set_num_threads). Products run on
fastnn's own kernels unless scipy's BLAS is selected (fastnn._ext._blas.set_backend("blas")); only then
is that BLAS pinned to one thread through threadpoolctl (products split over fastnn's team), so the two
pools never oversubscribe the cores -- and neither SciPy nor threadpoolctl is imported before.

Default: adaptive -- at most the cores this process may run on (sched_getaffinity), fewer while other
processes keep some of them busy (csrc/runtime.c says how it measures; docs/performance.md the policy).
OMP_NUM_THREADS=n or fastnn.set_num_threads(n) fix the count at n; FASTNN_ADAPTIVE_THREADS=0 turns the
adaptation off; fastnn.set_num_threads("auto") turns it back on.
"""
import os

from ._ext import _runtime

_controller = None
_forked = [False]  # in a process forked from one that had started fastnn's OpenMP team


def _omp_env():
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(env) if env.isdigit() and int(env) >= 1 else None


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_num_threads():
    return _omp_env() or _cores()


def default_adaptive():
    """Adaptive unless the user fixed a count (OMP_NUM_THREADS) or turned it off (FASTNN_ADAPTIVE_THREADS=0)."""
    return _omp_env() is None and os.environ.get("FASTNN_ADAPTIVE_THREADS", "1").strip() not in ("0", "off", "no")


def _scipy_blas(controller):
    """The BLAS library scipy's cython_blas calls (scipy's bundled OpenBLAS), if it can be told apart."""
    import scipy

    roots = (os.path.dirname(scipy.__file__), os.path.dirname(scipy.__file__) + ".libs")
    libs = [lc for lc in controller.lib_controllers if lc.user_api == "blas"
            and os.path.realpath(lc.filepath).startswith(tuple(os.path.realpath(r) for r in roots))]
    return libs[0] if len(libs) == 1 else None


def _limit_blas(n):
    """One pool: pin scipy's BLAS to 1 thread and split products over fastnn's OpenMP team; when
    scipy's BLAS cannot be identified, let BLAS thread itself (n threads) instead. Nothing to do while
    products run on fastnn's own kernels."""
    global _controller
    from ._ext import _blas

    if _blas.get_backend() != "blas":
        return
    from threadpoolctl import ThreadpoolController

    if _controller is None:
        _controller = ThreadpoolController()
    lib = _scipy_blas(_controller)
    if lib is not None:
        lib.set_num_threads(1)
        _blas.set_split(True)
        _blas.set_pin(*_openblas_thread_functions(lib))
    else:
        _controller.limit(limits=n, user_api="blas")
        _blas.set_split(False)
        _blas.set_pin(0, 0)


def _openblas_thread_functions(lib):
    """Addresses of scipy's OpenBLAS get/set_num_threads (pthreads builds), so every product can re-pin
    it to one thread whatever a caller's threadpool_limits did; (0, 0) when they cannot be found."""
    import ctypes

    try:
        if getattr(lib, "threading_layer", None) != "pthreads":
            return 0, 0
        prefix, suffix = lib._find_affixes()
        get = getattr(lib.dynlib, f"{prefix}openblas_get_num_threads{suffix}")
        put = getattr(lib.dynlib, f"{prefix}openblas_set_num_threads{suffix}")
        return ctypes.cast(get, ctypes.c_void_p).value or 0, ctypes.cast(put, ctypes.c_void_p).value or 0
    except (AttributeError, TypeError, ValueError):
        return 0, 0


def ensure_single_pool():
    """Re-pin scipy's BLAS to one thread if something (threadpoolctl's threadpool_limits, another
    library) changed it: otherwise each of fastnn's GEMM threads would start its own BLAS team and
    oversubscribe the cores. fit() calls this once at its start."""
    _limit_blas(get_num_threads())


def get_num_threads():
    """The thread count fastnn's kernels use."""
    return _runtime.get_kernel_threads()


def thread_status(measure=0.0):
    """How many threads fastnn's kernels use now, and why: a dict with ``max`` (the setting), ``adaptive``,
    ``now`` (the team a kernel gets now), ``cpus`` (those this process may run on), ``ceded`` (cores left
    to other processes), ``others_load`` (the cores other processes keep busy, smoothed; None when
    this machine cannot be measured) and ``reason`` (one line). measure > 0: the others' load is measured
    over that many seconds now (a sleep) instead of read from the kernels' last samples."""
    sampling, ncpu, ceded, others = _runtime.adaptive_state()
    adaptive, nmax, now = _runtime.get_adaptive(), get_num_threads(), _runtime.current_threads()
    if measure > 0:
        load, n = _runtime.others_load(measure)
        sampling, ncpu = load is not None, n or ncpu
        if sampling:
            others = load
            ceded = _runtime.adapt_decide(ncpu, load, ceded)
            if adaptive:
                now = max(1, min(nmax, ncpu - ceded))
    if not adaptive:
        why = "forked process: serial kernels" if _forked[0] else "fixed (fastnn.set_num_threads or OMP_NUM_THREADS)"
    elif not sampling:
        why = "adaptive, but this system's CPU load cannot be read: all threads"
    else:
        why = f"other processes keep ~{others:.1f} of {ncpu} cores busy: " + (
            f"{ceded} left to them" if ceded else "all used")
    return {"max": nmax, "adaptive": adaptive, "now": now, "cpus": ncpu or _cores(), "ceded": ceded,
            "others_load": others if sampling else None, "reason": why}


class set_num_threads:
    """Set the thread count for fastnn's kernels and BLAS together.

    ``fastnn.set_num_threads(4)`` applies at once and fixes the count (no adaptation); with
    ``adaptive=True`` it is a maximum the kernels go below while other processes keep cores busy;
    ``fastnn.set_num_threads("auto")`` is the default: adaptive, at most every core this process may use.
    ``with fastnn.set_num_threads(1): ...`` restores the previous setting on exit.
    """

    def __init__(self, n, adaptive=False):
        if n == "auto":
            n, adaptive = _cores(), True
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n: expected an int >= 1 or 'auto', got {type(n).__name__}")
        if n < 1:
            raise ValueError(f"n: expected an int >= 1 or 'auto', got {n}")
        if _forked[0]:
            n, adaptive = 1, False  # GNU OpenMP's thread pool does not survive fork: kernels stay serial
        self.n, self.adaptive = n, bool(adaptive)
        self.previous = (get_num_threads(), _runtime.get_adaptive())
        _runtime.set_kernel_threads(n, self.adaptive)
        _limit_blas(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _runtime.set_kernel_threads(*self.previous)
        _limit_blas(self.previous[0])
        return False

    def __repr__(self):
        return f"set_num_threads({self.n}{', adaptive=True' if self.adaptive else ''})"


def _after_fork_in_child():
    """A forked child (multiprocessing, DataLoader workers, joblib) inherits libgomp's thread pool without
    its threads: any parallel region would wait for them forever. The child runs serial kernels."""
    _forked[0] = True
    _runtime.set_kernel_threads(1)
    _runtime.set_thread_local_threads(0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

_runtime.set_kernel_threads(default_num_threads(), default_adaptive())
