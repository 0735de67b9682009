"""fastnn: train small and medium neural networks fast on a multicore CPU.

Hot loops are C with OpenMP (csrc/), bound with Cython (fastnn._ext); the API above them is PyTorch's:
``fastnn.Tensor`` with autograd, ``fastnn.nn``, ``fastnn.optim``, ``fastnn.utils.data``,
``fastnn.vision.transforms``, so course code ports by changing its imports. ``fastnn.ops`` is the
array-level kernel layer, ``fastnn.reference`` its NumPy twin; ``fastnn.fit`` the Keras-style loop.
"""
from ._version import __version__

import os as _os

# How long an OpenMP worker spins after a kernel before it sleeps: a training step alternates parallel
# kernels with a few hundred microseconds of serial work (small layers, Python), and a worker woken
# from sleep costs ~45 us each time (measured on 2 cores: 30000 spins, ~0.3-1 ms, instead of 3000
# took the 784-256-128-10 MLP from 124k to 150k samples/s); libgomp's own default (300000, ~3 ms)
# spins longer than training needs. A spinning worker would starve fit's background loader thread,
# so fit leaves that thread a core when one runs (see fit's prefetch). libgomp reads the value
# once, when it loads (with our first extension module); the variable is removed again afterwards
# so other libraries' OpenMP runtimes (torch's own libgomp) keep their defaults. A user's own
# setting wins.
_spin = "GOMP_SPINCOUNT" not in _os.environ and "OMP_WAIT_POLICY" not in _os.environ
if _spin:
    _os.environ["GOMP_SPINCOUNT"] = "30000"
try:
    from ._ext import _runtime as _rt  # noqa: F401  (loads libgomp)
except ImportError as _e:  # an unbuilt source tree
    raise ImportError(f"fastnn's compiled kernels are missing ({_e}). Build and install fastnn first: "
                      "`pip install .` (or `pip install -e .` for a development checkout), and run Python "
                      "from outside the source tree.") from None
finally:
    if _spin:
        del _os.environ["GOMP_SPINCOUNT"]

from ._namespace import *  # noqa: E402,F401,F403  (tensors, functions, grad modes, dtypes: torch's top level)
from ._namespace import __all__ as _names  # noqa: E402
from . import autograd, nn, ops, optim  # noqa: E402,F401

# Loaded on first use (``fastnn.fit``, ``fastnn.vision``, ...): ``import fastnn`` stays a small multiple
# of ``import numpy``.
_SUBMODULES = ("amp", "augment", "checkpoint", "data", "diagnostics", "distributed", "experiments", "jit", "metrics",
               "onnx", "pretrain", "reference", "regularizers", "sklearn", "training", "transfer", "utils", "vision",
               "zoo")
_FROM = {"fit": "training", "evaluate": "training", "predict": "training", "lr_find": "training",
         "save": "checkpoint", "load": "checkpoint", "load_checkpoint": "checkpoint",
         "adaptive_avg_pool1d": "nn.functional", "adaptive_max_pool1d": "nn.functional",
         "avg_pool1d": "nn.functional", "conv1d": "nn.functional", "conv2d": "nn.functional",
         "max_pool1d": "nn.functional", "max_pool2d": "nn.functional"}


def __getattr__(name):
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "bfloat16":  # ml_dtypes' dtype, imported on first use
        from ._autocast import bfloat16_dtype

        globals()[name] = bfloat16_dtype()
        return globals()[name]
    if name in _FROM:
        value = getattr(importlib.import_module(f"{__name__}.{_FROM[name]}"), name)
        globals()[name] = value
        return value
    from . import _missing  # PyTorch's names fastnn lacks: a NotImplementedError naming them

    return _missing.lookup(_missing.TORCH, "fastnn", name)


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | set(_FROM) | {"bfloat16"})


__all__ = list(_names) + ["nn", "optim", "utils", "vision", "ops", "data", "training", "autograd", "reference",
                          "regularizers", "fit", "evaluate", "bfloat16", "predict", "save", "load", "load_checkpoint",
                          "__version__"]
