"""fastnn.data: the DataLoader, normalization and batch augmentation."""
from .loader import DataLoader
from .transforms import (ColorJitter, Compose, Normalize, RandomCrop, RandomHorizontalFlip, RandomResizedCrop,
                         RandomRotation, RandomShift, RandomTranspose, RandomVerticalFlip, RandomZoom,
                         Resize, Standardize, Transform)

__all__ = ["DataLoader", "Transform", "Compose", "Normalize", "Standardize", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomTranspose", "RandomShift", "RandomCrop", "RandomRotation",
           "RandomResizedCrop", "RandomZoom", "ColorJitter", "Resize"]
