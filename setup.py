"""Build of fastnn's compiled kernels: one extension per kernel family (csrc/<family>.c + its binding).

Flags: -O3 -fno-math-errno -fno-trapping-math (vectorizes exp/select loops without -ffast-math, which
would break NaN/Inf). OpenMP is probed; without it the build is serial, with a warning, unless
FASTNN_REQUIRE_OPENMP=1 (FASTNN_DISABLE_OPENMP=1 forces the serial build, to test it;
FASTNN_OPENMP_CFLAGS/LDFLAGS name other OpenMP flags, e.g. Apple clang with libomp). No -march=native
unless FASTNN_NATIVE=1: wheels run on any x86-64 and pick AVX2/AVX-512 clones at run time. No debug
info unless FASTNN_DEBUG=1.
"""
import os
import shutil
import sys
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

FAMILIES = {
    "_runtime": ["runtime"],
    "_activation": ["activation"],
    "_norm": ["norm"],
    "_loss": ["loss"],
    "_optim": ["optim"],
    "_reduce": ["reduce"],
    "_blas": ["gemm", "reduce", "norm"],
    "_scipy_blas": [],
    "_augment": ["augment"],
    "_conv": ["conv", "gemm", "norm"],
    "_pool": ["pool"],
    "_rbm": ["rbm", "gemm"],
    "_pairs": ["activation"],
    "_chain": [],
}


def _openmp_flags():
    """Compile and link flags for OpenMP: -fopenmp (GCC, LLVM clang), or the environment's
    FASTNN_OPENMP_CFLAGS / FASTNN_OPENMP_LDFLAGS (Apple clang with Homebrew's libomp:
    "-Xpreprocessor -fopenmp -I<libomp>/include" and "-L<libomp>/lib -lomp")."""
    cflags = os.environ.get("FASTNN_OPENMP_CFLAGS", "-fopenmp").split()
    return cflags, os.environ.get("FASTNN_OPENMP_LDFLAGS", " ".join(cflags)).split()


def _probe_openmp(compiler, cflags, ldflags):
    """Compile and link a tiny OpenMP program: the only reliable test of the OpenMP flags."""
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "omp.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void){int n=0;\n#pragma omp parallel reduction(+:n)\nn+=1;\n"
                    "return omp_get_max_threads() > 0 && n > 0 ? 0 : 1;}\n")
        objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
        compiler.link_executable(objs, "omp", output_dir=tmp, extra_postargs=ldflags)
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    def build_extensions(self):
        omp_c, omp_l = _openmp_flags()
        omp = os.environ.get("FASTNN_DISABLE_OPENMP") != "1" and _probe_openmp(self.compiler, omp_c, omp_l)
        if not omp:
            if os.environ.get("FASTNN_REQUIRE_OPENMP") == "1":
                raise RuntimeError("fastnn: FASTNN_REQUIRE_OPENMP=1 but the compiler has no working -fopenmp")
            print("WARNING: fastnn: no OpenMP found; building serial kernels (fastnn info will say so)",
                  file=sys.stderr)
        # a C function called without a prototype in fastnn.h returns int: a double result is garbage
        flags = ["-O3", "-std=gnu11", "-fno-math-errno", "-fno-trapping-math",
                 "-Wno-unused-function", "-Wno-unreachable-code", "-Werror=implicit-function-declaration"]
        flags += omp_c if omp else ["-fopenmp-simd"]
        # release builds carry no debug info (7.1 MB of .so -> ~1.7 MB); FASTNN_DEBUG=1 keeps it
        link = list(omp_l) if omp else []
        if os.environ.get("FASTNN_DEBUG") != "1":
            flags.append("-g0")
            if sys.platform.startswith("linux"):
                link.append("-Wl,--strip-debug")
        macros = []
        if os.environ.get("FASTNN_NATIVE") == "1":
            flags.append("-march=native")
            macros.append(("FASTNN_NATIVE", "1"))
        info = " ".join(flags) + (" (native)" if macros else "")
        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args) + flags
            ext.extra_link_args = list(ext.extra_link_args) + link
            ext.define_macros = list(ext.define_macros) + macros
            if ext.name.endswith("_runtime"):
                ext.define_macros.append(("FNN_BUILD_FLAGS", '"%s"' % info))
        if self.parallel is None:
            self.parallel = min(4, os.cpu_count() or 1)
        super().build_extensions()


extensions = [
    Extension(
        f"fastnn._ext.{name}",
        [f"fastnn/_ext/{name}.pyx"] + [f"csrc/{c}.c" for c in csrc],
        include_dirs=[np.get_include(), "csrc"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        depends=[f"csrc/{c}.inc" for c in csrc] + ["csrc/common.h", "csrc/fastnn.h", "csrc/simd_math.h",
                                                   "csrc/instantiate.h", "csrc/gemm_isa_end.h"],
    )
    for name, csrc in FAMILIES.items()
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False,
                             "cdivision": True, "embedsignature": True},
    ),
    cmdclass={"build_ext": BuildExt},
)
