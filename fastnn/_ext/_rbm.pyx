"""Restricted Boltzmann machine training (csrc/rbm.inc): one call trains a pass over the data in C."""
cimport numpy as cnp
import numpy as np
from libc.stdint cimport int64_t, uint64_t
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport arr_in, arr_inplace, check_dtype, check_rc, dtype_code
from fastnn._ext._runtime cimport get_ftz, get_threads
from fastnn._ext._blas cimport gemm_fn, gemm_threads, repin

cnp.import_array()


cdef cnp.ndarray _vec(object a, str name, cnp.ndarray like, tuple shape):
    cdef cnp.ndarray v = arr_inplace(a, name, None, "")
    check_dtype(v, name, like, "x")
    if (<object>v).shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {(<object>v).shape}")
    return v


def rbm_train(x, W, bh, bv, chain, Winc, bhinc, bvinc, q, *, size_t batch_size, int k=1, bint persistent=True,
              bint gaussian=False, double lr=0.1, double momentum=0.0, double weight_decay=0.0,
              double sparsity_target=0.1, double sparsity_cost=0.0, double sparsity_decay=0.9,
              uint64_t seed=0, uint64_t calls=0, order=None, draws=None):
    """One pass over the rows of x (n, V) in batches of batch_size, updating W (H, V), bh (H,), bv (V,),
    the persistent chain (P, H), the momentum buffers Winc, bhinc, bvinc and q (H,) in place.
    calls: sampling calls made so far (the draws are keyed by it); returns the new count.
    order: row indices (int64, n) to visit instead of the stored order. draws: the uniform draws to use
    instead of Philox's, in the order the kernel consumes them (tests)."""
    cdef cnp.ndarray X = arr_in(x, "x")
    if cnp.PyArray_NDIM(X) != 2:
        raise ValueError(f"x: expected (n_samples, n_features), got shape {(<object>X).shape}")
    cdef size_t n = cnp.PyArray_DIMS(X)[0], V = cnp.PyArray_DIMS(X)[1]
    cdef cnp.ndarray Wt = arr_inplace(W, "W", None, "")
    check_dtype(Wt, "W", X, "x")
    if cnp.PyArray_NDIM(Wt) != 2 or <size_t>cnp.PyArray_DIMS(Wt)[1] != V:
        raise ValueError(f"W: expected (n_components, {V}), got {(<object>Wt).shape}")
    cdef size_t H = cnp.PyArray_DIMS(Wt)[0]
    cdef cnp.ndarray Ch = arr_inplace(chain, "chain", None, "")
    check_dtype(Ch, "chain", X, "x")
    if cnp.PyArray_NDIM(Ch) != 2 or <size_t>cnp.PyArray_DIMS(Ch)[1] != H:
        raise ValueError(f"chain: expected (particles, {H}), got {(<object>Ch).shape}")
    cdef size_t P = cnp.PyArray_DIMS(Ch)[0]
    if batch_size < 1:
        raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
    if k < 1:
        raise ValueError(f"k: expected >= 1 Gibbs steps, got {k}")
    if persistent and P < 1:
        raise ValueError("chain: a persistent chain needs at least one particle")
    cdef cnp.ndarray Bh = _vec(bh, "bh", X, (H,)), Bv = _vec(bv, "bv", X, (V,))
    cdef cnp.ndarray Wi = _vec(Winc, "Winc", X, (H, V)), Bhi = _vec(bhinc, "bhinc", X, (H,))
    cdef cnp.ndarray Bvi = _vec(bvinc, "bvinc", X, (V,)), Q = _vec(q, "q", X, (H,))
    cdef cnp.ndarray Ord = None, D = None
    if order is not None:
        Ord = np.ascontiguousarray(order, dtype=np.int64)
        if Ord.ndim != 1 or <size_t>Ord.shape[0] != n or (n and ((<object>Ord).min() < 0 or (<object>Ord).max() >= n)):
            raise ValueError(f"order: expected a permutation of the {n} row indices")
    cdef fnn_rbm_t c
    c.V, c.H, c.P, c.k, c.persistent, c.gaussian = V, H, P, k, persistent, gaussian
    c.lr, c.momentum, c.weight_decay = lr, momentum, weight_decay
    c.sparsity_target, c.sparsity_cost, c.sparsity_decay, c.seed = sparsity_target, sparsity_cost, sparsity_decay, seed
    if draws is not None:
        D = np.ascontiguousarray(draws, dtype=(<object>X).dtype).reshape(-1)
    cdef size_t wlen = fnn_rbm_work_size(&c, batch_size if batch_size < n else max(n, 1))
    cdef cnp.ndarray Wk = np.empty(wlen, dtype=(<object>X).dtype)
    cdef int dt = dtype_code(X, "x"), rc, nt = gemm_threads(), ftz = get_ftz()
    cdef void *gemm = gemm_fn(dt)
    cdef uint64_t ncalls = calls
    cdef size_t bs = batch_size if batch_size < n else max(n, 1)
    cdef const int64_t *po = <const int64_t *>cnp.PyArray_DATA(Ord) if Ord is not None else NULL
    cdef const void *pd = cnp.PyArray_DATA(D) if D is not None else NULL
    with nogil:
        repin()
        rc = fnn_rbm_train(dt, gemm, &c, cnp.PyArray_DATA(X), n, bs, po, cnp.PyArray_DATA(Wt), cnp.PyArray_DATA(Bh),
                           cnp.PyArray_DATA(Bv), cnp.PyArray_DATA(Ch), cnp.PyArray_DATA(Wi), cnp.PyArray_DATA(Bhi),
                           cnp.PyArray_DATA(Bvi), cnp.PyArray_DATA(Q), &ncalls, pd, cnp.PyArray_DATA(Wk), nt, ftz)
    check_rc(rc)
    return ncalls
