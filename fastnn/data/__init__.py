"""fastnn.data is gone: its DataLoader and batch augmentations moved so that no name means two things.

* the DataLoader is torch's, ``fastnn.utils.data.DataLoader``; for arrays:
  ``DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, transform=..., seed=..., prefetch=...)``;
* the batch augmentations are ``fastnn.augment`` with names of their own (``BatchRandomCrop``, ...):
  torchvision's per-image transforms of the same names are ``fastnn.vision.transforms``.

Each old name raises an error naming its new place.
"""
_MOVED = {"DataLoader": "fastnn.utils.data.DataLoader(TensorDataset(X, y), batch_size=..., shuffle=..., "
                        "transform=..., seed=..., prefetch=...)",
          "Standardize": "fastnn.augment.Standardize",
          "Transform": "fastnn.augment.BatchTransform",
          "Compose": "fastnn.augment.BatchCompose",
          "Normalize": "fastnn.augment.BatchNormalize",
          "RandomHorizontalFlip": "fastnn.augment.BatchRandomHorizontalFlip",
          "RandomVerticalFlip": "fastnn.augment.BatchRandomVerticalFlip",
          "RandomTranspose": "fastnn.augment.BatchRandomTranspose",
          "RandomShift": "fastnn.augment.BatchRandomShift",
          "RandomCrop": "fastnn.augment.BatchRandomCrop",
          "RandomRotation": "fastnn.augment.BatchRandomRotation",
          "RandomResizedCrop": "fastnn.augment.BatchRandomResizedCrop",
          "RandomZoom": "fastnn.augment.BatchRandomZoom",
          "ColorJitter": "fastnn.augment.BatchColorJitter",
          "Resize": "fastnn.augment.BatchResize",
          }


def __getattr__(name):
    if name in _MOVED:
        raise AttributeError(f"fastnn.data.{name} moved: use {_MOVED[name]} (fastnn.data is gone; the batch "
                             "augmentations have names of their own, torchvision's per-image transforms are "
                             "fastnn.vision.transforms)")
    raise AttributeError(f"module 'fastnn.data' has no attribute {name!r}")
