# The thread count every binding passes to its kernel (set by fastnn.set_num_threads).
cdef int get_threads() noexcept nogil
# Whether product and convolution kernels flush subnormals to zero (fastnn.set_flush_denormal).
cdef int get_ftz() noexcept nogil
