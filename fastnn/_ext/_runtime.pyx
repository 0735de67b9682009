"""Runtime state and facts: the kernel thread count, build information, the bandwidth yardstick."""
from fastnn._ext._csrc cimport (fnn_has_openmp, fnn_omp_max_threads, fnn_simd_level,
                                fnn_clones_enabled, fnn_compiler, fnn_triad)

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
    return fnn_tls_threads if fnn_tls_threads > 0 else _n_threads


def set_thread_local_threads(int n):
    """Thread count for kernels called from the current thread only (0: follow the global count)."""
    global fnn_tls_threads
    if n < 0:
        raise ValueError(f"n: expected >= 0, got {n}")
    fnn_tls_threads = n


def set_kernel_threads(int n):
    """Set the thread count passed to every kernel (fastnn.set_num_threads also sets BLAS)."""
    global _n_threads
    if n < 1:
        raise ValueError(f"n: expected a thread count >= 1, got {n}")
    _n_threads = n


def get_kernel_threads():
    return _n_threads


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
