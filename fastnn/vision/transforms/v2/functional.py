"""torchvision.transforms.v2.functional's names over fastnn's image operations (the same implementation
as ``fastnn.vision.transforms.functional``), plus v2's own: ``to_image``, ``to_dtype``, ``to_pure_tensor``."""
import numpy as np

from ....tensor import Tensor, _wrap
from ... import tv_tensors
from ..functional import (InterpolationMode, adjust_brightness, adjust_contrast, adjust_hue,  # noqa: F401
                          adjust_saturation, affine, center_crop, convert_dtype, crop, erase, gaussian_blur,
                          get_dimensions, get_image_num_channels, get_size, hflip, horizontal_flip, invert,
                          is_pil, like, normalize, pad, pil_to_tensor, resize, resized_crop, rgb_to_grayscale,
                          rotate, to_grayscale, to_pil_image, vertical_flip, vflip)

__all__ = ["to_image", "to_dtype", "to_pure_tensor", "normalize", "resize", "crop", "center_crop", "resized_crop",
           "pad", "horizontal_flip", "vertical_flip", "hflip", "vflip", "rotate", "affine", "adjust_brightness",
           "adjust_contrast", "adjust_saturation", "adjust_hue", "rgb_to_grayscale", "to_grayscale", "erase",
           "gaussian_blur", "invert", "get_size", "get_dimensions", "get_num_channels", "to_pil_image",
           "pil_to_tensor", "InterpolationMode"]

get_num_channels = get_image_num_channels


def to_image(inpt):
    """A PIL image, an (H, W, C) / (H, W) array or a tensor as a ``tv_tensors.Image`` (C, H, W), dtype kept
    (uint8 stays uint8: follow with ``to_dtype(..., float32, scale=True)``)."""
    if isinstance(inpt, np.ndarray):
        a = np.atleast_3d(inpt)
        return tv_tensors.Image._from(np.ascontiguousarray(np.moveaxis(a, -1, 0)))
    if is_pil(inpt):
        return tv_tensors.Image._from(pil_to_tensor(inpt)._a)
    if isinstance(inpt, Tensor):
        return tv_tensors.Image(inpt)
    raise TypeError(f"to_image: expected a PIL image, a NumPy array or a tensor, got {type(inpt).__name__}")


def to_dtype(inpt, dtype=np.float32, scale=False):
    """The tensor in dtype; with scale, image values are rescaled between integer ranges and [0, 1]
    (uint8 -> float: x / 255; float -> uint8: x * (255 + 1 - 1e-3), truncated)."""
    if not isinstance(inpt, Tensor):
        raise TypeError(f"to_dtype: expected a tensor, got {type(inpt).__name__}")
    dtype = np.dtype(dtype)
    scale = scale and not isinstance(inpt, tv_tensors.Mask)
    return like(type(inpt), convert_dtype(inpt._a, dtype, scale))


def to_pure_tensor(inpt):
    """A plain fastnn Tensor over the same data (drops the tv_tensors type)."""
    return _wrap(inpt._a) if isinstance(inpt, Tensor) else inpt
