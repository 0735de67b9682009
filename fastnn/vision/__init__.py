"""fastnn.vision: torchvision's names for image work -- ``transforms`` (per-sample augmentation on
fastnn's kernels) and ``datasets`` (datasets that ship with packages or sit on disk)."""
from . import datasets, transforms, tv_tensors, utils

__all__ = ["transforms", "datasets", "tv_tensors", "utils"]
