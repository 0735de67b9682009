"""Image-batch augmentation kernels: per-sample affine resampling and colour jitter (N, C, H, W)."""
cimport numpy as cnp
import numpy as np
from fastnn._ext._csrc cimport *
from fastnn._ext._common cimport arr_in, arr_out, arr_inplace, no_alias, check_rc, dtype_code
from fastnn._ext._runtime cimport get_threads

cnp.import_array()


cdef int _images(cnp.ndarray x, str name) except -1:
    if cnp.PyArray_NDIM(x) != 4:
        raise ValueError(f"{name}: expected an image batch (N, C, H, W), got shape {(<object>x).shape}")
    return 0


def affine_sample(x, matrices, out_hw=None, *, nearest=False, edge=False, double fill=0.0, out=None):
    """y[n, c, i, j] = x[n, c] at (sy, sx) = (a0 i + a1 j + a2, a3 i + a4 j + a5), matrices (N, 6) float64
    (an inverse map: output pixel -> source pixel). Bilinear (nearest=True: nearest), `fill` outside,
    or the border replicated with edge=True (resizing).
    out_hw: (OH, OW), default x's (H, W)."""
    cdef cnp.ndarray xa = arr_in(x, "x")
    _images(xa, "x")
    cdef cnp.npy_intp *d = cnp.PyArray_DIMS(xa)
    cdef size_t N = d[0], C = d[1], H = d[2], W = d[3], OH, OW
    if out_hw is None:
        OH, OW = H, W
    else:
        oh, ow = out_hw
        if oh < 1 or ow < 1:
            raise ValueError(f"out_hw: expected a positive (height, width), got {out_hw!r}")
        OH, OW = oh, ow
    cdef cnp.ndarray A = cnp.PyArray_FROMANY(matrices, cnp.NPY_FLOAT64, 2, 2, cnp.NPY_ARRAY_CARRAY_RO)
    if cnp.PyArray_DIMS(A)[0] != <cnp.npy_intp>N or cnp.PyArray_DIMS(A)[1] != 6:
        raise ValueError(f"matrices: expected shape ({N}, 6), got {(<object>A).shape}")
    cdef cnp.ndarray y
    if out is None:
        y = np.empty((N, C, OH, OW), dtype=(<object>xa).dtype)
    else:
        y = arr_inplace(out, "out", None, "")
        if (<object>y).shape != (N, C, OH, OW) or (<object>y).dtype != (<object>xa).dtype:
            raise ValueError(f"out: expected a {(<object>xa).dtype} array of shape {(N, C, OH, OW)}")
        no_alias(y, "out", xa, "x", False)
    cdef int dt = dtype_code(xa, "x"), nt = get_threads(), rc, nr = 1 if nearest else 0, ed = 1 if edge else 0
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *py = cnp.PyArray_DATA(y)
    cdef const double *pa = <const double *>cnp.PyArray_DATA(A)
    with nogil:
        rc = fnn_affine_sample(dt, px, py, N, C, H, W, OH, OW, pa, nr, ed, fill, nt)
    check_rc(rc)
    return y


def color_jitter(x, factors, order, *, out=None):
    """torchvision's ColorJitter per sample: factors (N, 4) = (brightness, contrast, saturation, hue)
    applied in order[n] (N, 4 ints: 0 brightness, 1 contrast, 2 saturation, 3 hue), clamped to [0, 1].
    out may be x (in place)."""
    cdef cnp.ndarray xa = arr_in(x, "x")
    _images(xa, "x")
    cdef cnp.npy_intp *d = cnp.PyArray_DIMS(xa)
    cdef size_t N = d[0], C = d[1], HW = d[2] * d[3]
    cdef cnp.ndarray F = cnp.PyArray_FROMANY(factors, cnp.NPY_FLOAT64, 2, 2, cnp.NPY_ARRAY_CARRAY_RO)
    cdef cnp.ndarray O = cnp.PyArray_FROMANY(order, cnp.NPY_INT32, 2, 2, cnp.NPY_ARRAY_CARRAY_RO)
    for arr, nm in ((F, "factors"), (O, "order")):
        if cnp.PyArray_DIMS(arr)[0] != <cnp.npy_intp>N or cnp.PyArray_DIMS(arr)[1] != 4:
            raise ValueError(f"{nm}: expected shape ({N}, 4), got {(<object>arr).shape}")
    cdef int *po = <int *>cnp.PyArray_DATA(O)
    cdef size_t i
    for i in range(4 * N):
        if po[i] < 0 or po[i] > 3:
            raise ValueError(f"order: expected op codes 0..3, got {po[i]}")
    cdef cnp.ndarray y = arr_out(out, "out", xa, "x")
    no_alias(y, "out", xa, "x", True)
    cdef int dt = dtype_code(xa, "x"), nt = get_threads(), rc
    cdef void *px = cnp.PyArray_DATA(xa)
    cdef void *py = cnp.PyArray_DATA(y)
    cdef const double *pf = <const double *>cnp.PyArray_DATA(F)
    with nogil:
        rc = fnn_color_jitter(dt, px, py, N, C, HW, pf, po, nt)
    check_rc(rc)
    return y
