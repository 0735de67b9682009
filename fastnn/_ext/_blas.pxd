# Re-pin scipy's BLAS to one thread if a caller re-threaded it (products split over fastnn's own team).
cdef void repin() noexcept nogil
cdef bint split_mode() noexcept nogil
cdef void *gemm_fn(int dt) noexcept nogil
cdef int gemm_threads() noexcept nogil
