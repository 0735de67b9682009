cimport numpy as cnp
# Re-pin scipy's BLAS to one thread if a caller re-threaded it (products split over fastnn's own team).
cdef void repin() noexcept nogil
cdef bint split_mode() noexcept nogil
cdef void *gemm_fn(int dt) noexcept nogil
cdef int gemm_threads() noexcept nogil
# The linear layer's products on checked, C-contiguous operands (the explicit chain calls them directly).
cdef void linear_into(int dt, const void *px, const void *pw, const void *pb, void *py, int N, int I,
                      int O, const void *pwk=*) noexcept nogil
cdef int linear_backward_into(int dt, const void *pg, const void *px, const void *pw, void *pdx, void *pdw,
                              void *pdb, int N, int I, int O, bint accumulate) noexcept nogil
# The products' dtype code: FNN_BF16 where bf16 is asked for a float32 array, else the array's own; and
# the arrays' code behind a products' code.
cdef int product_code(cnp.ndarray A, str name, bint bf16) except -1
cdef inline int array_code(int dt) noexcept nogil:
    return 0 if dt == 2 else dt
# A weight (out, in) packed for linear_into's pwk (None where the products take no packed weights).
cpdef object pack_weight(object w)
cdef size_t packed_bytes(int dt, int O, int I) noexcept nogil
# x (..., in) as N rows of `in` features against weight (out, in): the shapes checked, the sizes as ints.
cdef int linear_dims(cnp.ndarray X, cnp.ndarray W, int *N, int *I, int *O) except -1
