"""Record torchvision.transforms.v2's outputs for tests/vision/_v2_cases.py into
tests/vision/data/v2_goldens.npz (the tests compare fastnn.vision.transforms.v2 against them, since CI's
PyTorch build has no torchvision). Run it where torchvision is installed:

    python tools/make_v2_goldens.py
"""
import os
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "vision"))

import _v2_cases as C  # noqa: E402


def main():
    import torch
    import torchvision
    import torchvision.transforms.v2 as T
    import torchvision.transforms.v2.functional as F
    import torchvision.utils as U

    lib = types.SimpleNamespace(torch=torch, T=T, F=F, U=U)
    out = {name: C.run(lib, name) for name in C.CASES}
    out["__versions__"] = np.array([torch.__version__, torchvision.__version__])
    path = os.path.join(HERE, "..", "tests", "vision", "data", "v2_goldens.npz")
    np.savez_compressed(path, **out)
    print(f"{len(C.CASES)} cases from torchvision {torchvision.__version__} -> {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
