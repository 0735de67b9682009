# The thread count every binding passes to its kernel (set by fastnn.set_num_threads).
cdef int get_threads() noexcept nogil
