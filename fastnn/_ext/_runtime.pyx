"""Runtime state and facts: the kernel thread count, build information, the bandwidth yardstick."""
from fastnn._ext._csrc cimport (fnn_has_openmp, fnn_omp_max_threads, fnn_simd_level,
                                fnn_clones_enabled, fnn_compiler, fnn_triad, fnn_adapt_decide,
                                fnn_adaptive_threads, fnn_adapt_state, fnn_others_load)

cdef extern from *:
    """
    #ifndef FNN_BUILD_FLAGS
    #define FNN_BUILD_FLAGS "unknown"
    #endif
    static const char *fnn_build_flags(void) { return FNN_BUILD_FLAGS; }
    """
    const char *fnn_build_flags()

cdef extern from *:
    """
    /* a per-thread override (the data loader's background thread runs its kernels on one thread,
       beside the training step's team) */
    static __thread int fnn_tls_threads = 0;
    """
    int fnn_tls_threads

cdef int _n_threads = 1
cdef int _adaptive = 0  # fewer than _n_threads while other processes keep cores busy (csrc/runtime.c)
cdef int _ftz = 1


cdef int get_ftz() noexcept nogil:
    return _ftz


def set_flush_denormal(bint on):
    """Products and convolutions flush subnormal floats to zero while they run (default: on)."""
    global _ftz
    _ftz = 1 if on else 0


def get_flush_denormal():
    return bool(_ftz)


cdef int get_threads() noexcept nogil:
    if fnn_tls_threads > 0:
        return fnn_tls_threads
    return fnn_adaptive_threads(_n_threads) if _adaptive else _n_threads


def set_thread_local_threads(int n):
    """Thread count for kernels called from the current thread only (0: follow the global count)."""
    global fnn_tls_threads
    if n < 0:
        raise ValueError(f"n: expected >= 0, got {n}")
    fnn_tls_threads = n


def set_kernel_threads(int n, bint adaptive=False):
    """Set the thread count passed to every kernel (fastnn.set_num_threads also sets BLAS): exactly n, or
    with adaptive=True at most n, fewer while other processes keep this machine's cores busy."""
    global _n_threads, _adaptive
    if n < 1:
        raise ValueError(f"n: expected a thread count >= 1, got {n}")
    _n_threads, _adaptive = n, adaptive
    if adaptive:
        fnn_adaptive_threads(n)  # the first sample: the next one measures the others' load since now


def get_kernel_threads():
    return _n_threads


def get_adaptive():
    return bool(_adaptive)


def current_threads():
    """The team a kernel called now would get (the adaptive decision included)."""
    return get_threads()


def adaptive_state():
    """(sampling, CPUs, cores ceded to other processes, their smoothed load in cores)."""
    cdef int ncpu = 0, ceded = 0
    cdef double others = 0
    ok = fnn_adapt_state(&ncpu, &ceded, &others)
    return bool(ok), ncpu, ceded, others


def others_load(double seconds):
    """(cores other processes keep busy over the next `seconds`, CPUs this process may use); the load is
    None where this system cannot be measured."""
    cdef int ncpu = 0
    cdef double load
    if not seconds >= 0:
        raise ValueError(f"seconds: expected >= 0, got {seconds}")
    with nogil:
        load = fnn_others_load(seconds, &ncpu)
    return (None if load < 0 else load), ncpu


def adapt_decide(int ncpu, double others, int ceded):
    """The adaptive team's rule alone (for tests): cores to cede given the others' load and those ceded."""
    return fnn_adapt_decide(ncpu, others, ceded)


_SIMD = {4: "x86-64-v4 (AVX-512)", 3: "x86-64-v3 (AVX2+FMA)", 0: "baseline (SSE2)"}


def build_info():
    """What this build can do: OpenMP, SIMD clones and the one this CPU runs, compiler and flags."""
    clones = bool(fnn_clones_enabled())
    return {
        "openmp": bool(fnn_has_openmp()),
        "omp_max_threads": fnn_omp_max_threads(),
        "simd_clones": ["x86-64-v4", "x86-64-v3", "baseline"] if clones else ["single (built for this CPU)"],
        "simd_selected": _SIMD[fnn_simd_level()] if clones else "native",
        "compiler": fnn_compiler().decode(),
        "flags": fnn_build_flags().decode(),
    }


def triad_bandwidth(size_t n=20_000_000, int reps=10, threads=None):
    """Best GB/s of the STREAM triad a[i] = b[i] + s*c[i] over n doubles (24 bytes per element)."""
    cdef int nt = _n_threads if threads is None else threads
    cdef double r
    with nogil:
        r = fnn_triad(n, reps, nt)
    if r < 0:
        raise MemoryError("triad: could not allocate its arrays")
    return r
