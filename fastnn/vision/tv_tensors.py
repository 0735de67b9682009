"""torchvision.tv_tensors' ``Image`` and ``Mask``: tensors that say what they hold, so ``transforms.v2``
knows how to treat them (an image is resampled bilinearly and colour-jittered, a mask only moved, with
nearest sampling). They are fastnn Tensors; arithmetic on them gives plain tensors, as in torchvision."""
import numpy as np

from ..tensor import Tensor, _init_slots

__all__ = ["TVTensor", "Image", "Mask", "wrap"]


class TVTensor(Tensor):
    """Base of the typed tensors."""

    __slots__ = ()

    @classmethod
    def _from(cls, a):
        t = object.__new__(cls)
        t._a, t._node, t.requires_grad, t._grad, t._hooks = np.asarray(a), None, False, None, None
        _init_slots(t)
        return t

    def __init__(self, *args, **kwargs):  # built by __new__
        pass

    def __repr__(self):
        return type(self).__name__ + Tensor.__repr__(self)[len("tensor"):]

    __str__ = __repr__


def _data(data, dtype):
    if type(data).__module__.startswith("PIL"):
        a = np.asarray(data)
        a = a[:, :, None] if a.ndim == 2 else a
        a = np.ascontiguousarray(np.moveaxis(a, -1, 0))
    elif isinstance(data, Tensor):
        a = data._a
    else:
        a = np.asarray(data)
    return a.astype(np.dtype(dtype)) if dtype is not None else a


class Image(TVTensor):
    """An image tensor (C, H, W) (a 2-d input gets one channel), from a tensor, an array or a PIL image."""

    __slots__ = ()

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        a = _data(data, dtype)
        if a.ndim < 2:
            raise ValueError(f"Image: expected at least 2 dimensions, got {a.ndim}")
        return cls._from(a[None] if a.ndim == 2 else a)


class Mask(TVTensor):
    """A segmentation mask (H, W) or (N, H, W): moved with the image by geometric transforms, never
    interpolated (nearest) nor colour-adjusted."""

    __slots__ = ()

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        a = _data(data, dtype)
        if type(data).__module__.startswith("PIL"):
            a = a[0]
        return cls._from(a)


def wrap(wrappee, *, like):
    """wrappee as a tensor of like's type (tv_tensors.wrap)."""
    a = wrappee._a if isinstance(wrappee, Tensor) else np.asarray(wrappee)
    return type(like)._from(a)
