"""torchvision.utils' ``make_grid`` and ``save_image``: a batch of images tiled into one picture."""
import math

import numpy as np

from ..tensor import Tensor, _wrap
from .._checks import positive_int

__all__ = ["make_grid", "save_image"]


def _batch(tensor):
    if isinstance(tensor, (list, tuple)):
        a = np.stack([t._a if isinstance(t, Tensor) else np.asarray(t) for t in tensor])
    else:
        a = tensor._a if isinstance(tensor, Tensor) else np.asarray(tensor)
    if a.ndim == 2:  # one image (H, W)
        a = a[None]
    if a.ndim == 3:  # one image (C, H, W)
        a = a[None] if a.shape[0] != 1 else a[None]
    if a.ndim != 4:
        raise ValueError(f"make_grid: expected images (B, C, H, W), (C, H, W) or (H, W), got shape {a.shape}")
    if a.shape[1] == 1:  # single-channel images become RGB, as torchvision
        a = np.concatenate([a, a, a], 1)
    return a


def _normalize(a, value_range):
    lo, hi = (float(a.min()), float(a.max())) if value_range is None else value_range
    a = np.clip(a, lo, hi)
    return (a - lo) / max(hi - lo, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile a batch of images (B, C, H, W) into one (C, H', W') image, nrow images per row, separated by
    `padding` pixels of `pad_value`; normalize=True maps value_range (default: the batch's min and max; per
    image with scale_each) to [0, 1]."""
    positive_int(nrow, "nrow")
    a = _batch(tensor)
    if a.dtype.kind != "f" and normalize:
        a = a.astype(np.float32)
    if normalize:
        if value_range is not None and (not isinstance(value_range, tuple) or len(value_range) != 2):
            raise ValueError("value_range: expected a tuple (min, max)")
        a = np.stack([_normalize(x, value_range) for x in a]) if scale_each else _normalize(a, value_range)
        a = a.astype(np.float32, copy=False)
    n, c, h, w = a.shape
    if n == 1:
        return _wrap(np.ascontiguousarray(a[0]))
    xmaps = min(nrow, n)
    ymaps = int(math.ceil(n / xmaps))
    H, W = h + padding, w + padding
    grid = np.full((c, H * ymaps + padding, W * xmaps + padding), pad_value, a.dtype)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= n:
                break
            grid[:, y * H + padding:y * H + padding + h, x * W + padding:x * W + padding + w] = a[k]
            k += 1
    return _wrap(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Write ``make_grid(tensor, **kwargs)`` as an image file (PIL): values in [0, 1] scaled to 0..255."""
    from PIL import Image

    g = make_grid(tensor, **kwargs)._a
    arr = np.clip(g * 255 + 0.5, 0, 255).astype(np.uint8) if g.dtype.kind == "f" else g.astype(np.uint8)
    arr = np.moveaxis(arr, 0, -1)
    Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(fp, format=format)
