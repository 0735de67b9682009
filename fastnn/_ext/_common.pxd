# Argument checks shared by the bindings. They run with the GIL, before a kernel starts, so a bad
# argument raises (naming it and what was expected) and changes nothing.
cimport numpy as cnp
from fastnn._ext._csrc cimport FNN_ENOMEM, FNN_EINDEX, FNN_EVALUE


cdef inline int dtype_code(cnp.ndarray a, str name) except -1:
    cdef int t = cnp.PyArray_TYPE(a)
    if t == cnp.NPY_FLOAT32:
        return 0
    if t == cnp.NPY_FLOAT64:
        return 1
    raise TypeError(f"{name}: expected a float32 or float64 array, got dtype {(<object>a).dtype}")


cdef inline cnp.ndarray arr_in(object x, str name):
    """A read-only input: float32/float64; a non-contiguous array is copied once to C order."""
    cdef cnp.ndarray a
    if isinstance(x, cnp.ndarray):
        a = <cnp.ndarray>x
    else:
        try:
            a = cnp.PyArray_FROM_O(x)
        except Exception as e:
            raise TypeError(f"{name}: expected an array, got {type(x).__name__}") from e
    dtype_code(a, name)
    if not cnp.PyArray_IS_C_CONTIGUOUS(a) or not cnp.PyArray_ISALIGNED(a):
        # one copy to an aligned C-ordered array (the vector loops assume natural alignment)
        a = cnp.PyArray_FROMANY(a, cnp.PyArray_TYPE(a), 0, 0, cnp.NPY_ARRAY_CARRAY_RO | cnp.NPY_ARRAY_ENSURECOPY)
    return a


cdef inline bint same_shape(cnp.ndarray a, cnp.ndarray b):
    cdef int i
    if cnp.PyArray_NDIM(a) != cnp.PyArray_NDIM(b):
        return False
    for i in range(cnp.PyArray_NDIM(a)):
        if cnp.PyArray_DIMS(a)[i] != cnp.PyArray_DIMS(b)[i]:
            return False
    return True


cdef inline int check_dtype(cnp.ndarray a, str name, cnp.ndarray ref, str refname) except -1:
    if cnp.PyArray_TYPE(a) != cnp.PyArray_TYPE(ref):
        raise TypeError(f"{name}: expected dtype {(<object>ref).dtype} (the dtype of {refname}), "
                        f"got {(<object>a).dtype}")
    return 0


cdef inline cnp.ndarray arr_like(object x, str name, cnp.ndarray ref, str refname):
    """An input with ref's dtype and shape."""
    cdef cnp.ndarray a = arr_in(x, name)
    check_dtype(a, name, ref, refname)
    if not same_shape(a, ref):
        raise ValueError(f"{name}: expected shape {(<object>ref).shape} (the shape of {refname}), "
                         f"got {(<object>a).shape}")
    return a


cdef inline cnp.ndarray arr_inplace(object x, str name, cnp.ndarray ref, str refname):
    """An array updated in place: must already have ref's dtype and shape, be C-contiguous, writeable."""
    if not isinstance(x, cnp.ndarray):
        raise TypeError(f"{name}: expected a numpy array (it is updated in place), got {type(x).__name__}")
    cdef cnp.ndarray a = <cnp.ndarray>x
    if ref is None:
        dtype_code(a, name)
    else:
        check_dtype(a, name, ref, refname)
        if not same_shape(a, ref):
            raise ValueError(f"{name}: expected shape {(<object>ref).shape} (the shape of {refname}), "
                             f"got {(<object>a).shape}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError(f"{name}: must be C-contiguous (it is updated in place)")
    if not cnp.PyArray_ISALIGNED(a):
        raise ValueError(f"{name}: must be aligned to its dtype (it is updated in place)")
    if not cnp.PyArray_ISWRITEABLE(a):
        raise ValueError(f"{name}: array is read-only")
    return a


cdef inline cnp.ndarray arr_out(object out, str name, cnp.ndarray ref, str refname):
    """The result: a new array like ref, or `out` checked to match ref's dtype and shape."""
    if out is None:
        return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(ref), cnp.PyArray_DIMS(ref), cnp.PyArray_TYPE(ref), 0)
    return arr_inplace(out, name, ref, refname)


cdef inline cnp.ndarray new_like(cnp.ndarray ref, int nd, cnp.npy_intp* dims):
    return cnp.PyArray_EMPTY(nd, dims, cnp.PyArray_TYPE(ref), 0)


cdef inline bint overlaps(cnp.ndarray a, cnp.ndarray b):
    cdef char* pa = cnp.PyArray_BYTES(a)
    cdef char* pb = cnp.PyArray_BYTES(b)
    cdef cnp.npy_intp na = cnp.PyArray_NBYTES(a), nb = cnp.PyArray_NBYTES(b)
    return na > 0 and nb > 0 and pa < pb + nb and pb < pa + na


cdef inline int no_alias(cnp.ndarray out, str oname, cnp.ndarray inp, str iname, bint same_ok) except -1:
    """out may be exactly inp when the kernel is element-wise (same_ok); any other overlap is refused."""
    if overlaps(out, inp):
        if same_ok and cnp.PyArray_BYTES(out) == cnp.PyArray_BYTES(inp) and same_shape(out, inp):
            return 0
        raise ValueError(f"{oname}: must not overlap {iname}" + (" (except as the very same array)" if same_ok else ""))
    return 0


cdef inline cnp.ndarray out_shaped(object out, tuple oshape, cnp.ndarray ref, str refname, tuple inputs):
    """The result of shape `oshape` with ref's dtype: a new array, or `out` checked for dtype, shape and
    overlap with `inputs` ((array or None, name) pairs) -- for results shaped unlike their input."""
    cdef cnp.npy_intp dims[32]
    cdef int i, nd = len(oshape)
    cdef cnp.ndarray y
    if out is None:
        for i in range(nd):
            dims[i] = oshape[i]
        return cnp.PyArray_EMPTY(nd, dims, cnp.PyArray_TYPE(ref), 0)
    y = arr_inplace(out, "out", None, "")
    check_dtype(y, "out", ref, refname)
    if (<object>y).shape != oshape:
        raise ValueError(f"out: expected shape {oshape}, got {(<object>y).shape}")
    for a, name in inputs:
        if a is not None:
            no_alias(y, "out", <cnp.ndarray>a, name, False)
    return y


cdef inline int check_rc(int rc) except -1:
    """Map a kernel status code to an exception (the one place that does)."""
    if rc == 0:
        return 0
    if rc == FNN_ENOMEM:
        raise MemoryError("fastnn: a kernel could not allocate its scratch memory")
    if rc == FNN_EINDEX:
        raise ValueError("target: class index out of range")
    raise ValueError(f"fastnn: kernel refused its arguments (code {rc})")


cdef inline unsigned long long seed_arg(object seed, str name="seed") except? 0:
    if isinstance(seed, bool) or not isinstance(seed, int):
        try:
            seed = seed.__index__()
        except AttributeError:
            raise TypeError(f"{name}: expected an int in [0, 2**64), got {type(seed).__name__}") from None
    if seed < 0 or seed >= 2**64:
        raise ValueError(f"{name}: expected an int in [0, 2**64), got {seed}")
    return <unsigned long long>seed
