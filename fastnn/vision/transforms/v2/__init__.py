"""fastnn.vision.transforms.v2: torchvision's v2 transforms (``import torchvision.transforms.v2 as T``
ports by changing the import to ``import fastnn.vision.transforms.v2 as T``).

What v2 adds to the classic transforms:

- ``ToImage()`` (PIL image / HWC array / tensor -> ``tv_tensors.Image``, dtype kept) and
  ``ToDtype(dtype, scale=True)`` (uint8 -> float in [0, 1]), the pair the textbook uses in place of
  ``ToTensor``; ``ToPureTensor``, ``Identity``;
- any sample: ``transform(img, label)``, tuples, lists and dicts are walked; images (``tv_tensors.Image``,
  PIL images, NumPy arrays, else the first plain tensor) are transformed, masks (``tv_tensors.Mask``) are
  moved along by geometric transforms with the *same* random draw, everything else passes through.

The operations are those of :mod:`fastnn.vision.transforms` (one implementation, in
:mod:`.functional`); their random parameters are drawn from fastnn's global generator. Differences from
torchvision: NumPy arrays are transformed as (H, W, C) images (torchvision passes them through untouched
except in ToImage), bounding boxes and videos are not supported, and BICUBIC / LANCZOS are refused.
"""
import numpy as np

from .... import _missing
from ....tensor import Tensor
from ... import tv_tensors
from ... import transforms as v1
from .. import functional as _F
from . import functional
from .functional import InterpolationMode

__all__ = ["Transform", "Compose", "ToImage", "ToDtype", "ToPureTensor", "Identity", "ToTensor", "PILToTensor",
           "ToPILImage", "ConvertImageDtype", "Normalize", "Resize", "CenterCrop", "RandomCrop", "Pad",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomAffine", "RandomResizedCrop",
           "ColorJitter", "Grayscale", "RandomGrayscale", "RandomErasing", "GaussianBlur", "RandomInvert",
           "GaussianNoise", "Lambda", "RandomApply", "RandomChoice", "RandomOrder", "InterpolationMode", "functional"]


# ---- walking a sample (torch.utils._pytree's containers: tuple, list, dict) ----
def _flatten(x, out):
    if isinstance(x, tuple) and not hasattr(x, "_fields") or isinstance(x, list):
        return (type(x), [_flatten(v, out) for v in x])
    if isinstance(x, tuple):  # a namedtuple
        return (type(x), [_flatten(v, out) for v in x], "nt")
    if isinstance(x, dict):
        return (type(x), {k: _flatten(v, out) for k, v in x.items()})
    out.append(x)
    return None


def _unflatten(spec, it):
    if spec is None:
        return next(it)
    kind, inner = spec[0], spec[1]
    if isinstance(inner, dict):
        return kind((k, _unflatten(v, it)) for k, v in inner.items())
    vals = [_unflatten(s, it) for s in inner]
    return kind(*vals) if len(spec) == 3 else kind(vals)


def _is_pure(x):
    return isinstance(x, Tensor) and not isinstance(x, tv_tensors.TVTensor)


def _is_image(x):
    """An explicit image: tv_tensors.Image, a PIL image, a NumPy array."""
    return isinstance(x, (tv_tensors.Image, np.ndarray)) or _F.is_pil(x)


class Transform:
    """Base of v2 transforms: ``make_params(flat_inputs)`` draws the random parameters once per call,
    ``transform(inpt, params)`` applies them to each input that needs it. Write your own by overriding
    these two (torchvision's contract)."""

    def _accepts(self, x):
        return isinstance(x, Tensor) or _is_image(x)

    def make_params(self, flat_inputs):
        return {}

    def transform(self, inpt, params):
        raise NotImplementedError

    def _needs(self, flat):
        pure_ok = not any(_is_image(x) for x in flat)
        out = []
        for x in flat:
            need = self._accepts(x)
            if need and _is_pure(x):
                need, pure_ok = pure_ok, False
            out.append(need)
        return out

    def forward(self, *inputs):
        if not inputs:
            raise TypeError(f"{type(self).__name__}: expected at least one input")
        flat = []
        spec = _flatten(inputs if len(inputs) > 1 else inputs[0], flat)
        needs = self._needs(flat)
        params = self.make_params([x for x, n in zip(flat, needs) if n])
        out = [self.transform(x, params) if n else x for x, n in zip(flat, needs)]
        return _unflatten(spec, iter(out))

    def __call__(self, *inputs):
        return self.forward(*inputs)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class _FromV1(Transform):
    """A v2 transform over its classic one: one draw of _params from the first image, _apply to each input.
    Geometric transforms move masks too (nearest sampling); the others leave masks alone."""

    _geometric = False
    _nearest_masks = False  # _apply takes nearest= (resampling transforms)

    def _accepts(self, x):
        if isinstance(x, tv_tensors.Mask):
            return self._geometric
        return Transform._accepts(self, x)

    def make_params(self, flat_inputs):
        imgs = [x for x in flat_inputs if not isinstance(x, tv_tensors.Mask)] or flat_inputs
        if not imgs:
            return None
        return self._params(imgs[0])

    def transform(self, inpt, params):
        if params is None:
            return inpt
        if self._nearest_masks and isinstance(inpt, tv_tensors.Mask):
            return self._apply(inpt, params, nearest=True)
        return self._apply(inpt, params)


def _v2(cls, geometric=False, nearest_masks=False, doc=None):
    out = type(cls.__name__, (_FromV1, cls), {"_geometric": geometric, "_nearest_masks": nearest_masks,
                                               "__doc__": doc or cls.__doc__, "__module__": __name__})
    return out


Resize = _v2(v1.Resize, True, True)
CenterCrop = _v2(v1.CenterCrop, True)
RandomCrop = _v2(v1.RandomCrop, True)
Pad = _v2(v1.Pad, True)
RandomHorizontalFlip = _v2(v1.RandomHorizontalFlip, True)
RandomVerticalFlip = _v2(v1.RandomVerticalFlip, True)
RandomRotation = _v2(v1.RandomRotation, True, True)
RandomAffine = _v2(v1.RandomAffine, True, True)
RandomResizedCrop = _v2(v1.RandomResizedCrop, True, True)
ColorJitter = _v2(v1.ColorJitter)
Grayscale = _v2(v1.Grayscale)
RandomGrayscale = _v2(v1.RandomGrayscale)
GaussianBlur = _v2(v1.GaussianBlur)
RandomErasing = _v2(v1.RandomErasing)


class Normalize(_FromV1, v1.Normalize):
    """(x - mean[c]) / std[c] per channel of float image tensors (PIL images are refused: ToImage and
    ToDtype first); masks and labels pass through."""

    def _accepts(self, x):
        return isinstance(x, Tensor) and not isinstance(x, tv_tensors.Mask) or _F.is_pil(x) or \
            isinstance(x, np.ndarray)

    def _apply(self, img, params):
        if not isinstance(img, Tensor):
            raise TypeError(f"Normalize: expected a tensor image, got {type(img).__name__} (use ToImage() and "
                            "ToDtype(fastnn.float32, scale=True) first)")
        return v1.Normalize._apply(self, img, params)


class ToImage(Transform):
    """PIL image, (H, W, C) / (H, W) array or tensor -> tv_tensors.Image (C, H, W), dtype kept."""

    def transform(self, inpt, params):
        return functional.to_image(inpt)


class ToDtype(Transform):
    """Convert images (and plain tensors) to dtype; ``scale=True`` rescales values (uint8 0..255 <-> float
    0..1). dtype may be a dict {tv_tensors type or "others": dtype or None}."""

    def __init__(self, dtype, scale=False):
        if isinstance(dtype, dict):
            self.dtype = {k: (None if v is None else np.dtype(v)) for k, v in dtype.items()}
        else:
            try:
                self.dtype = np.dtype(dtype)
            except TypeError:
                raise ValueError(f"dtype must be a dict or a dtype, got {type(dtype).__name__} instead") from None
        self.scale = bool(scale)

    def _accepts(self, x):
        return isinstance(x, Tensor)

    def transform(self, inpt, params):
        if not isinstance(self.dtype, dict):
            if not (_is_pure(inpt) or isinstance(inpt, tv_tensors.Image)):
                return inpt
            dtype = self.dtype
        elif type(inpt) in self.dtype:
            dtype = self.dtype[type(inpt)]
        elif _is_pure(inpt) and Tensor in self.dtype:
            dtype = self.dtype[Tensor]
        elif "others" in self.dtype:
            dtype = self.dtype["others"]
        else:
            raise ValueError(f"No dtype was specified for type {type(inpt).__name__}; pass e.g. "
                             "dtype={tv_tensors.Image: fastnn.float32, 'others': None}")
        if dtype is None:
            return inpt
        return functional.to_dtype(inpt, dtype, self.scale and (_is_pure(inpt) or isinstance(inpt, tv_tensors.Image)))


class ConvertImageDtype(ToDtype):
    """[deprecated in torchvision] ToDtype(dtype, scale=True)."""

    def __init__(self, dtype=np.float32):
        super().__init__(dtype, scale=True)


class ToPureTensor(Transform):
    """tv_tensors -> plain tensors."""

    def _accepts(self, x):
        return isinstance(x, tv_tensors.TVTensor)

    def transform(self, inpt, params):
        return functional.to_pure_tensor(inpt)


class Identity(Transform):
    def _accepts(self, x):
        return False


class ToTensor(Transform):
    """[deprecated in torchvision v2] PIL image / array -> float tensor in [0, 1]; use ToImage() +
    ToDtype(float32, scale=True)."""

    def _accepts(self, x):
        return _F.is_pil(x) or isinstance(x, np.ndarray)

    def transform(self, inpt, params):
        return _F.to_tensor(inpt)


class PILToTensor(Transform):
    def _accepts(self, x):
        return _F.is_pil(x)

    def transform(self, inpt, params):
        return _F.pil_to_tensor(inpt)


class ToPILImage(Transform):
    def __init__(self, mode=None):
        self.mode = mode

    def _accepts(self, x):
        return isinstance(x, (Tensor, np.ndarray))

    def transform(self, inpt, params):
        return _F.to_pil_image(inpt, self.mode)


class RandomInvert(Transform):
    """Invert the colours (max - x) with probability p."""

    def __init__(self, p=0.5):
        self.p = v1._prob(p)

    def _accepts(self, x):
        return Transform._accepts(self, x) and not isinstance(x, tv_tensors.Mask)

    def make_params(self, flat_inputs):
        return {"apply": v1._rng().random() < self.p}

    def transform(self, inpt, params):
        return _F.invert(inpt) if params["apply"] else inpt


class GaussianNoise(Transform):
    """x + N(mean, sigma^2) on float image tensors, clipped to [0, 1] (clip=True)."""

    def __init__(self, mean=0.0, sigma=0.1, clip=True):
        self.mean, self.sigma, self.clip = _F.finite(mean, "mean"), _F.finite(sigma, "sigma"), bool(clip)
        if self.sigma < 0:
            raise ValueError(f"sigma shouldn't be negative. Got {sigma}")

    def _accepts(self, x):
        return isinstance(x, Tensor) and not isinstance(x, tv_tensors.Mask)

    def transform(self, inpt, params):
        a = inpt._a
        if a.dtype.kind != "f":
            raise ValueError(f"Input tensor is expected to be in float dtype, got dtype={a.dtype}")
        y = a + (self.mean + self.sigma * v1._rng().standard_normal(a.shape)).astype(a.dtype)
        return _F.like(type(inpt), np.clip(y, 0, 1) if self.clip else y)


class Lambda(Transform):
    """lambd applied to every input of the given types (all inputs when no type is given)."""

    def __init__(self, lambd, *types):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd, self.types = lambd, types or (object,)

    def _needs(self, flat):
        return [isinstance(x, self.types) for x in flat]

    def transform(self, inpt, params):
        return self.lambd(inpt)


class _Container:
    def __repr__(self):
        return f"{type(self).__name__}(\n" + "".join(f"    {t}\n" for t in self.transforms) + ")"


class Compose(_Container):
    """Apply the transforms in order (several inputs travel together)."""

    def __init__(self, transforms):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError("Argument transforms should be a sequence of callables")
        if not transforms:
            raise ValueError("Pass at least one transform")
        self.transforms = list(transforms)

    def __call__(self, *inputs):
        several = len(inputs) > 1
        out = inputs if several else inputs[0]
        for t in self.transforms:
            out = t(*out) if several else t(out)
        return out


class RandomApply(_Container):
    """Apply the transforms (in order) with probability p."""

    def __init__(self, transforms, p=0.5):
        self.transforms, self.p = list(transforms), v1._prob(p)

    def __call__(self, *inputs):
        several = len(inputs) > 1
        out = inputs if several else inputs[0]
        if v1._rng().random() >= self.p:
            return out
        for t in self.transforms:
            out = t(*out) if several else t(out)
        return out


class RandomChoice(_Container):
    """Apply one of the transforms, picked with probabilities p (uniform by default)."""

    def __init__(self, transforms, p=None):
        self.transforms = list(transforms)
        if p is not None and len(p) != len(self.transforms):
            raise ValueError(f"p: expected {len(self.transforms)} probabilities, got {len(p)}")
        self.p = p

    def __call__(self, *inputs):
        p = None if self.p is None else np.asarray(self.p, float) / np.sum(self.p)
        return self.transforms[int(v1._rng().choice(len(self.transforms), p=p))](*inputs)


class RandomOrder(_Container):
    """Apply the transforms in a random order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, *inputs):
        several = len(inputs) > 1
        out = inputs if several else inputs[0]
        for i in v1._rng().permutation(len(self.transforms)):
            t = self.transforms[int(i)]
            out = t(*out) if several else t(out)
        return out


_TORCHVISION_V2 = frozenset("""
    AugMix AutoAugment AutoAugmentPolicy ClampBoundingBoxes ClampKeyPoints ConvertBoundingBoxFormat
    CutMix ElasticTransform FiveCrop JPEG LinearTransformation MixUp RandAugment RandomAdjustSharpness
    RandomAutocontrast RandomChannelPermutation RandomEqualize RandomIoUCrop RandomPerspective
    RandomPhotometricDistort RandomPosterize RandomResize RandomShortestSize RandomSolarize RandomZoomOut
    SanitizeBoundingBoxes SanitizeKeyPoints ScaleJitter TenCrop TrivialAugmentWide UniformTemporalSubsample
    RGB
""".split())


def __getattr__(name):
    return _missing.lookup(_TORCHVISION_V2, "fastnn.vision.transforms.v2", name)

