"""fastnn: train small and medium neural networks fast on a multicore CPU.

Hot loops are C with OpenMP (csrc/), bound with Cython (fastnn._ext); the API above them reads like
PyTorch's. ``fastnn.ops`` is the functional kernel layer, ``fastnn.reference`` its NumPy twin.
"""
__version__ = "0.1.0"

import os as _os

# OpenMP workers that spin after a kernel steal the cores BLAS needs for the next GEMM (measured:
# linear+bias 15.9 ms -> 4.7 ms at 2 threads); a short spin still catches back-to-back kernels.
# libgomp reads it once, when it loads (with our first extension module); the variable is removed
# again afterwards so other libraries' OpenMP runtimes (torch's own libgomp) keep their defaults.
# A user's own setting wins.
_spin = "GOMP_SPINCOUNT" not in _os.environ and "OMP_WAIT_POLICY" not in _os.environ
if _spin:
    _os.environ["GOMP_SPINCOUNT"] = "3000"
try:
    from ._ext import _runtime as _rt  # noqa: F401  (loads libgomp)
finally:
    if _spin:
        del _os.environ["GOMP_SPINCOUNT"]

from . import data, nn, ops, optim, reference, regularizers, training
from ._random import manual_seed
from ._threads import get_num_threads, set_num_threads
from .checkpoint import load, load_checkpoint, save
from .training import evaluate, fit, predict

__all__ = ["nn", "ops", "optim", "data", "training", "reference", "regularizers", "manual_seed",
           "get_num_threads", "set_num_threads", "fit", "evaluate", "predict", "save", "load",
           "load_checkpoint", "__version__"]
