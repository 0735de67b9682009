"""scipy's sgemm/dgemm for fastnn's optional BLAS backend (fastnn._ext._blas.set_backend("blas")): a module
of its own so that SciPy is imported only when that backend is selected."""
from scipy.linalg.cython_blas cimport sgemm, dgemm


def addresses():
    """(sgemm, dgemm) as addresses: fnn_gemm calls them through the BLAS calling convention."""
    return <size_t><void *>sgemm, <size_t><void *>dgemm
