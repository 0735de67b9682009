# The hot ops' forward/backward pairs and the workspaces they draw from (see _pairs.pyx); the explicit chain
# (_chain.pyx) calls them at C speed.
from libc.stdint cimport uint64_t


cdef class Workspace:
    cdef public dict entries
    cdef public Py_ssize_t nbytes
    cdef dict used          # key -> the clock at its last use (the least recently used go first)
    cdef Py_ssize_t clock
    cpdef object get(self, key, shape, dtype)
    cdef _evict(self, keep)


cpdef tuple linear_fwd(object x, object w, object b, Workspace ws, bint bf16=*, object packed=*)
cpdef object linear_bwd(object ctx, object g, object w, object gw, object gb, bint need_input_grad,
                        bint accumulate, Workspace ws)
cpdef tuple unary_fwd(int op, double a, double b, bint from_output, object x, Workspace ws)
cpdef object unary_bwd(int op, double a, double b, object ctx, object g, Workspace ws)
cpdef tuple dropout_fwd(double p, uint64_t seed, object x, Workspace ws)
cpdef object dropout_bwd(object ctx, object g, Workspace ws)
