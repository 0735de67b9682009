"""fastnn.vision.transforms: torchvision's per-sample image transforms (use them inside a Dataset),
on fastnn's C resampling and colour kernels.

Images: a fastnn Tensor (C, H, W) -- float in [0, 1] or uint8 --, or before ToTensor a PIL image or a
NumPy array (H, W, C) / (H, W), which is returned in the same form. Random parameters come from the
global generator (``fastnn.manual_seed``; each DataLoader worker is seeded on its own). For batches of
arrays (what ``fit(transform=...)`` takes), see ``fastnn.data``: the same kernels, one call per batch.

Differences from torchvision: resizing is bilinear or nearest without antialiasing (BICUBIC and
LANCZOS are refused), and PIL images are transformed numerically (the results agree with the tensor
backend of torchvision, not with PIL's own filters).
"""
import math
import numbers
from enum import Enum

import numpy as np

from .._ext import _augment
from .._random import default_generator
from ..tensor import Tensor, _wrap

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "Normalize", "Resize", "CenterCrop", "RandomCrop",
           "Pad", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomAffine",
           "RandomResizedCrop", "ColorJitter", "Grayscale", "RandomGrayscale", "RandomErasing", "GaussianBlur",
           "Lambda", "RandomApply", "RandomChoice", "RandomOrder", "ConvertImageDtype", "InterpolationMode"]


class InterpolationMode(Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    LANCZOS = "lanczos"
    BOX = "box"
    HAMMING = "hamming"
    NEAREST_EXACT = "nearest-exact"


def _rng():
    return default_generator.numpy


def _mode(interpolation):
    m = interpolation.value if isinstance(interpolation, InterpolationMode) else {0: "nearest", 2: "bilinear"}.get(
        interpolation, interpolation)
    if m not in ("nearest", "bilinear", "nearest-exact"):
        raise NotImplementedError(f"interpolation {m!r}: fastnn resamples with NEAREST or BILINEAR")
    return m != "bilinear"


# ---- image forms: everything is worked on as a float (C, H, W) array, then put back ----
class _Img:
    """Remembers how an image came in (tensor, PIL, HWC/HW array; dtype) to return the same form."""

    def __init__(self, img):
        self.kind, self.dtype, self.pil_mode = None, None, None
        if isinstance(img, Tensor):
            a = img._a
            self.kind = "tensor"
            if a.ndim == 2:
                a, self.kind = a[None], "tensor2d"
            if a.ndim != 3:
                raise ValueError(f"expected a tensor image of shape (C, H, W), got {tuple(a.shape)}")
            chw = a
        elif type(img).__module__.startswith("PIL"):
            self.kind, self.pil_mode = "pil", img.mode
            a = np.asarray(img)
            chw = a[None] if a.ndim == 2 else np.moveaxis(a, -1, 0)
        elif isinstance(img, np.ndarray):
            if img.ndim == 2:
                self.kind, chw = "hw", img[None]
            elif img.ndim == 3:
                self.kind, chw = "hwc", np.moveaxis(img, -1, 0)
            else:
                raise ValueError(f"expected an image array (H, W) or (H, W, C), got shape {img.shape}")
        else:
            raise TypeError(f"img should be a fastnn Tensor, a PIL Image or a NumPy array, got {type(img).__name__}")
        self.dtype = chw.dtype
        self.int = chw.dtype.kind in "iub"
        self.chw = np.ascontiguousarray(chw, np.float32 if self.int or chw.dtype != np.float64 else np.float64)

    def back(self, chw):
        if self.int:
            top = 255 if self.dtype == np.uint8 else np.iinfo(self.dtype).max if self.dtype.kind in "iu" else 1
            chw = np.clip(np.rint(chw), 0, top).astype(self.dtype)
        elif chw.dtype != self.dtype:
            chw = chw.astype(self.dtype)
        if self.kind == "tensor":
            return _wrap(chw)
        if self.kind == "tensor2d":
            return _wrap(chw[0])
        hwc = chw[0] if chw.shape[0] == 1 and self.kind in ("hw", "pil") else np.moveaxis(chw, 0, -1)
        if self.kind == "pil":
            from PIL import Image
            if hwc.ndim == 3 and hwc.shape[-1] == 1:
                hwc = hwc[..., 0]
            return Image.fromarray(np.ascontiguousarray(hwc))
        if self.kind == "hw":
            return np.ascontiguousarray(chw[0])
        return np.ascontiguousarray(hwc)

    @property
    def fill_scale(self):
        return 1.0


def _sample(chw, A, out_hw, nearest, fill=0.0, edge=False):
    """Resample one (C, H, W) image through the inverse map A (source (row, col) = A (i, j, 1))."""
    y = _augment.affine_sample(chw[None], np.asarray(A, np.float64).reshape(1, 6), out_hw, nearest=nearest,
                               edge=edge, fill=float(fill))
    return y[0]


def _pair(v, name):
    if isinstance(v, numbers.Number):
        v = (v, v)
    v = tuple(v)
    for x in v:
        if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x) or x != int(x) or x < 1:
            raise ValueError(f"{name}: expected positive whole numbers, got {v!r}")
    v = tuple(int(x) for x in v)
    if len(v) == 1:
        return (v[0], v[0])
    if len(v) != 2:
        raise ValueError(f"{name}: expected an int or (h, w), got {v!r}")
    return v


def _fill_value(fill):
    if fill is None:
        return 0.0
    if isinstance(fill, (tuple, list)):
        if len(set(fill)) > 1:
            raise NotImplementedError("a per-channel fill: fastnn fills every channel with one value")
        fill = fill[0]
    return _finite(fill, "fill")


class Compose:
    """Apply the transforms in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t}\n" for t in self.transforms) + ")"


class _T:
    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class ToTensor(_T):
    """PIL image or (H, W, C) / (H, W) array -> float32 tensor (C, H, W); uint8 values are scaled to
    [0, 1], other dtypes kept (torchvision's rule)."""

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            return pic
        a = np.asarray(pic)
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3:
            raise ValueError(f"pic should be 2/3 dimensional, got {a.ndim} dimensions")
        chw = np.ascontiguousarray(np.moveaxis(a, -1, 0))
        if chw.dtype == np.uint8:
            return _wrap(chw.astype(np.float32) / np.float32(255))
        if chw.dtype == np.bool_:
            return _wrap(chw.astype(np.float32))
        return _wrap(chw.astype(np.float32) if chw.dtype.kind in "iu" else chw)


class PILToTensor(_T):
    """PIL image -> uint8 tensor (C, H, W), unscaled."""

    def __call__(self, pic):
        a = np.asarray(pic)
        a = a[:, :, None] if a.ndim == 2 else a
        return _wrap(np.ascontiguousarray(np.moveaxis(a, -1, 0)))


class ToPILImage(_T):
    """Tensor (C, H, W) (floats in [0, 1] scaled to 0..255) or array -> PIL image."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        from PIL import Image
        a = pic._a if isinstance(pic, Tensor) else np.asarray(pic)
        if isinstance(pic, Tensor):
            a = np.moveaxis(a, 0, -1) if a.ndim == 3 else a
        if a.dtype.kind == "f":
            a = np.clip(np.rint(a * 255), 0, 255).astype(np.uint8)
        if a.ndim == 3 and a.shape[-1] == 1:
            a = a[..., 0]
        return Image.fromarray(np.ascontiguousarray(a), mode=self.mode)


class ConvertImageDtype(_T):
    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def __call__(self, img):
        a = img._a
        if a.dtype == np.uint8 and self.dtype.kind == "f":
            return _wrap((a / 255.0).astype(self.dtype))
        if a.dtype.kind == "f" and self.dtype == np.uint8:
            return _wrap(np.clip(np.rint(a * 255), 0, 255).astype(np.uint8))
        return _wrap(a.astype(self.dtype))


class Normalize(_T):
    """(x - mean[c]) / std[c] per channel of a tensor image (e.g. mean = std = (0.5, 0.5, 0.5) for
    CIFAR-10 in [0, 1])."""

    def __init__(self, mean, std, inplace=False):
        self.mean = tuple(_finite(float(m), "mean") for m in np.atleast_1d(mean))
        self.std = tuple(_finite(float(s), "std") for s in np.atleast_1d(std))
        if len(self.mean) != len(self.std):
            raise ValueError(f"mean, std: expected the same length, got {len(self.mean)} and {len(self.std)}")
        if any(s == 0 for s in self.std):
            raise ValueError("std evaluated to zero after conversion to float, leading to division by zero.")
        self.inplace = inplace

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: expected a tensor image (use ToTensor first), got {type(tensor).__name__}")
        a = tensor._a
        if a.dtype.kind != "f":
            raise TypeError(f"Normalize: input tensor should be a float tensor. Got {a.dtype}.")
        c = a.shape[-3] if a.ndim >= 3 else 1
        if len(self.mean) not in (1, c):
            raise ValueError(f"Normalize: {len(self.mean)} means for {c} channels")
        shp = (-1, 1, 1) if a.ndim >= 3 else (-1,)
        m = np.asarray(self.mean, a.dtype).reshape(shp)
        s = np.asarray(self.std, a.dtype).reshape(shp)
        return tensor.sub(_wrap(m)).div(_wrap(s)) if tensor.requires_grad else _wrap((a - m) / s)


def _resize_chw(chw, oh, ow, nearest):
    H, W = chw.shape[1:]
    sy, sx = H / oh, W / ow
    if nearest:  # the kernel rounds (floor(s + 0.5)): -0.5 gives PyTorch's floor(dst * scale)
        return _sample(chw, [sy, 0.0, -0.5, 0.0, sx, -0.5], (oh, ow), True, edge=True)
    return _sample(chw, [sy, 0.0, 0.5 * sy - 0.5, 0.0, sx, 0.5 * sx - 0.5], (oh, ow), False, edge=True)


class Resize(_T):
    """Resize to size (h, w), or the smaller edge to size keeping the aspect ratio (max_size caps the
    longer edge). Bilinear (half-pixel centres, no antialiasing) or nearest."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        self.size = size if isinstance(size, numbers.Number) else tuple(size)
        self.interpolation, self.max_size = interpolation, max_size
        self._nearest = _mode(interpolation)

    def __call__(self, img):
        im = _Img(img)
        H, W = im.chw.shape[1:]
        if isinstance(self.size, tuple) and len(self.size) == 2:
            oh, ow = self.size
        else:
            s = self.size[0] if isinstance(self.size, tuple) else self.size
            short, long = (W, H) if W <= H else (H, W)
            ns, nl = int(s), int(s * long / short)
            if self.max_size is not None and nl > self.max_size:
                ns, nl = int(self.max_size * ns / nl), int(self.max_size)
            ow, oh = (ns, nl) if W <= H else (nl, ns)
        if (oh, ow) == (H, W):
            return img
        return im.back(_resize_chw(im.chw, int(oh), int(ow), self._nearest))


class CenterCrop(_T):
    """The central size crop (padded with zeros when the image is smaller)."""

    def __init__(self, size):
        self.size = _pair(size, "size")

    def __call__(self, img):
        im = _Img(img)
        H, W = im.chw.shape[1:]
        oh, ow = self.size
        top, left = int(round((H - oh) / 2.0)), int(round((W - ow) / 2.0))
        return im.back(_sample(im.chw, [1, 0, top, 0, 1, left], (oh, ow), True))


def _pad_chw(chw, pad, fill, mode):
    l, t, r, b = pad
    if mode == "constant":
        return np.pad(chw, ((0, 0), (t, b), (l, r)), constant_values=fill)
    np_mode = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}.get(mode)
    if np_mode is None:
        raise ValueError(f"padding_mode: expected 'constant', 'edge', 'reflect' or 'symmetric', got {mode!r}")
    return np.pad(chw, ((0, 0), (t, b), (l, r)), mode=np_mode)


def _pad4(padding):
    vals = (padding,) if isinstance(padding, numbers.Number) else tuple(padding)
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v != int(v) or v < 0:
            raise ValueError(f"padding: expected non-negative whole numbers, got {padding!r}")
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return (p, p, p, p)
    p = tuple(int(v) for v in padding)
    if len(p) == 2:
        return (p[0], p[1], p[0], p[1])
    if len(p) == 4:
        return p
    raise ValueError(f"padding: expected an int or a 2- or 4-tuple, got {padding!r}")


class Pad(_T):
    """Pad the borders (left, top, right, bottom), filling with fill or the edge / a reflection."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        self.padding, self.fill, self.padding_mode = _pad4(padding), fill, padding_mode

    def __call__(self, img):
        im = _Img(img)
        return im.back(_pad_chw(im.chw, self.padding, _fill_value(self.fill), self.padding_mode))


class RandomCrop(_T):
    """A random size crop, after optional padding (torchvision's RandomCrop)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _pair(size, "size")
        self.padding = None if padding is None else _pad4(padding)
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode
        _fill_value(fill)

    def __call__(self, img):
        im = _Img(img)
        chw = im.chw
        fill = _fill_value(self.fill)
        if self.padding is not None:
            chw = _pad_chw(chw, self.padding, fill, self.padding_mode)
        oh, ow = self.size
        H, W = chw.shape[1:]
        if self.pad_if_needed and (H < oh or W < ow):
            ph, pw = max(0, oh - H), max(0, ow - W)
            chw = _pad_chw(chw, (pw, ph, pw, ph), fill, self.padding_mode)
            H, W = chw.shape[1:]
        if H < oh or W < ow:
            raise ValueError(f"Required crop size {(oh, ow)} is larger than input image size {(H, W)}")
        g = _rng()
        top, left = int(g.integers(0, H - oh + 1)), int(g.integers(0, W - ow + 1))
        return im.back(np.ascontiguousarray(chw[:, top:top + oh, left:left + ow]))


class RandomHorizontalFlip(_T):
    """Mirror left-right with probability p."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if _rng().random() >= self.p:
            return img
        im = _Img(img)
        return im.back(np.ascontiguousarray(im.chw[:, :, ::-1]))


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability p."""

    def __call__(self, img):
        if _rng().random() >= self.p:
            return img
        im = _Img(img)
        return im.back(np.ascontiguousarray(im.chw[:, ::-1, :]))


def _finite(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {v!r}")
    return float(v)


def _range(v, name, center=0.0):
    if isinstance(v, numbers.Number):
        if _finite(v, name) < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return (center - float(v), center + float(v))
    v = tuple(_finite(x, name) for x in v)
    if len(v) != 2 or v[0] > v[1]:
        raise ValueError(f"{name}: expected (min, max), got {v!r}")
    return v


def _affine_matrix(H, W, angle, translate, scale, shear, center=None):
    """Inverse map (output -> source) of torchvision's affine: rotation `angle` (degrees,
    counter-clockwise), translate (tx, ty) pixels, scale, shear (sx, sy) degrees, about the centre.
    Returns our (row, col) form."""
    cx, cy = ((W - 1) / 2.0, (H - 1) / 2.0) if center is None else (float(center[0]), float(center[1]))
    rot = math.radians(-angle)  # image y axis points down: counter-clockwise on screen
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]  # (x, y) -> (x, y), inverse RSS
    tx, ty = translate
    m[2] = m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] = m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    # source (x, y) = M (x, y, 1) -> source (row, col) = (m3 j' ...) with x = col, y = row
    return [m[4], m[3], m[5], m[1], m[0], m[2]]


class RandomRotation(_T):
    """Rotate by an angle uniform in [-degrees, degrees] (or a (min, max) pair), counter-clockwise
    positive, about the centre (or `center`), filling with `fill`; nearest by default (torchvision's)."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        self.degrees = _range(degrees, "degrees")
        if expand:
            raise NotImplementedError("RandomRotation(expand=True)")
        self.interpolation, self.center, self.fill = interpolation, center, fill
        self._nearest = _mode(interpolation)

    def __call__(self, img):
        im = _Img(img)
        H, W = im.chw.shape[1:]
        angle = float(_rng().uniform(*self.degrees))
        A = _affine_matrix(H, W, angle, (0.0, 0.0), 1.0, (0.0, 0.0), self.center)
        return im.back(_sample(im.chw, A, (H, W), self._nearest, _fill_value(self.fill)))


class RandomAffine(_T):
    """Random rotation, translation (fractions of width/height), scale and shear, torchvision's
    parameterisation; nearest by default."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None):
        self.degrees = _range(degrees, "degrees")
        if translate is not None and not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError("translation values should be between 0 and 1")
        if scale is not None and not all(s > 0 for s in scale):
            raise ValueError("scale values should be positive")
        self.translate, self.scale, self.fill, self.center = translate, scale, fill, center
        if shear is None:
            self.shear = None
        elif isinstance(shear, numbers.Number):
            self.shear = (-float(shear), float(shear))
        else:
            self.shear = tuple(float(s) for s in shear)
        self.interpolation = interpolation
        self._nearest = _mode(interpolation)

    def __call__(self, img):
        im = _Img(img)
        H, W = im.chw.shape[1:]
        g = _rng()
        angle = float(g.uniform(*self.degrees))
        if self.translate is not None:
            tx = float(round(g.uniform(-self.translate[0] * W, self.translate[0] * W)))
            ty = float(round(g.uniform(-self.translate[1] * H, self.translate[1] * H)))
        else:
            tx = ty = 0.0
        sc = float(g.uniform(*self.scale)) if self.scale is not None else 1.0
        shx = shy = 0.0
        if self.shear is not None:
            shx = float(g.uniform(self.shear[0], self.shear[1]))
            if len(self.shear) == 4:
                shy = float(g.uniform(self.shear[2], self.shear[3]))
        A = _affine_matrix(H, W, angle, (tx, ty), sc, (shx, shy), self.center)
        return im.back(_sample(im.chw, A, (H, W), self._nearest, _fill_value(self.fill)))


class RandomResizedCrop(_T):
    """A crop of random area (scale) and aspect ratio (log-uniform in ratio) resized to size
    (torchvision's sampling, ten tries then a central crop)."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
        self.size = _pair(size, "size")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        if self.scale[0] > self.scale[1] or self.ratio[0] > self.ratio[1]:
            raise ValueError("Scale and ratio should be of kind (min, max)")
        self.interpolation = interpolation
        self._nearest = _mode(interpolation)

    def _params(self, H, W):
        g = _rng()
        area = H * W
        lr = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            ta = area * g.uniform(*self.scale)
            ar = math.exp(g.uniform(*lr))
            w, h = int(round(math.sqrt(ta * ar))), int(round(math.sqrt(ta / ar)))
            if 0 < w <= W and 0 < h <= H:
                return int(g.integers(0, H - h + 1)), int(g.integers(0, W - w + 1)), h, w
        in_ratio = W / H
        if in_ratio < min(self.ratio):
            w, h = W, int(round(W / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            h, w = H, int(round(H * max(self.ratio)))
        else:
            w, h = W, H
        return (H - h) // 2, (W - w) // 2, h, w

    def __call__(self, img):
        im = _Img(img)
        H, W = im.chw.shape[1:]
        top, left, h, w = self._params(H, W)
        oh, ow = self.size
        sy, sx = h / oh, w / ow
        if self._nearest:
            A = [sy, 0.0, top - 0.5, 0.0, sx, left - 0.5]
        else:
            A = [sy, 0.0, top + 0.5 * sy - 0.5, 0.0, sx, left + 0.5 * sx - 0.5]
        return im.back(_sample(im.chw, A, (oh, ow), self._nearest, edge=True))


class ColorJitter(_T):
    """Random brightness, contrast, saturation and hue, in a random order (torchvision's definitions,
    on images in [0, 1]; uint8 images are scaled and back)."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        def rng_(v, name, center, lo):
            r = _range(v, name, center)
            return (max(lo, r[0]), r[1]) if lo is not None else r
        self.brightness = rng_(brightness, "brightness", 1.0, 0.0)
        self.contrast = rng_(contrast, "contrast", 1.0, 0.0)
        self.saturation = rng_(saturation, "saturation", 1.0, 0.0)
        self.hue = rng_(hue, "hue", 0.0, None)
        if not (-0.5 <= self.hue[0] <= self.hue[1] <= 0.5):
            raise ValueError(f"hue values should be between (-0.5, 0.5), got {hue!r}")

    def __call__(self, img):
        im = _Img(img)
        chw = im.chw / 255.0 if im.int else im.chw
        g = _rng()
        F = np.array([[g.uniform(*self.brightness), g.uniform(*self.contrast), g.uniform(*self.saturation),
                       g.uniform(*self.hue)]])
        order = np.argsort(g.random((1, 4)), axis=1).astype(np.int32)
        y = _augment.color_jitter(np.ascontiguousarray(chw[None], chw.dtype), F, order)[0]
        return im.back(y * 255.0 if im.int else y)


class Grayscale(_T):
    """ITU-R 601-2 luma (0.299 R + 0.587 G + 0.114 B), with 1 or 3 output channels."""

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise ValueError("num_output_channels should be either 1 or 3")
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        im = _Img(img)
        chw = im.chw
        if chw.shape[0] == 3:
            grey = (0.299 * chw[0] + 0.587 * chw[1] + 0.114 * chw[2])[None].astype(chw.dtype)
        else:
            grey = chw[:1]
        return im.back(np.repeat(grey, self.num_output_channels, axis=0))


class RandomGrayscale(Grayscale):
    def __init__(self, p=0.1):
        super().__init__(1)
        self.p = p

    def __call__(self, img):
        if _rng().random() >= self.p:
            return img
        im = _Img(img)
        self.num_output_channels = im.chw.shape[0]
        return Grayscale.__call__(self, img)


class RandomErasing(_T):
    """Erase a random rectangle of a tensor image with probability p (Zhong et al. 2017)."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        self.p, self.scale, self.ratio, self.value, self.inplace = p, tuple(scale), tuple(ratio), value, inplace

    def __call__(self, img):
        if not isinstance(img, Tensor):
            raise TypeError("RandomErasing: expected a tensor image")
        g = _rng()
        if g.random() >= self.p:
            return img
        a = img._a.copy()
        C, H, W = a.shape[-3:]
        area = H * W
        lr = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            ea = area * g.uniform(*self.scale)
            ar = math.exp(g.uniform(*lr))
            h, w = int(round(math.sqrt(ea * ar))), int(round(math.sqrt(ea / ar)))
            if h < H and w < W:
                i, j = int(g.integers(0, H - h + 1)), int(g.integers(0, W - w + 1))
                if self.value == "random":
                    a[..., i:i + h, j:j + w] = g.standard_normal((C, h, w)).astype(a.dtype)
                else:
                    a[..., i:i + h, j:j + w] = np.asarray(self.value, a.dtype).reshape(-1, 1, 1) \
                        if not isinstance(self.value, numbers.Number) else self.value
                return _wrap(a)
        return img


class GaussianBlur(_T):
    """Blur with a Gaussian kernel of kernel_size and sigma uniform in the sigma range (reflect borders)."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        self.kernel_size = _pair(kernel_size, "kernel_size")
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError("Kernel size value should be an odd and positive number.")
        self.sigma = (float(sigma), float(sigma)) if isinstance(sigma, numbers.Number) else tuple(sigma)

    def __call__(self, img):
        im = _Img(img)
        s = float(_rng().uniform(*self.sigma))
        out = im.chw
        for axis, k in ((2, self.kernel_size[1]), (1, self.kernel_size[0])):
            r = k // 2
            x = np.arange(-r, r + 1)
            w = np.exp(-0.5 * (x / s) ** 2)
            w /= w.sum()
            pad = [(0, 0)] * 3
            pad[axis] = (r, r)
            p = np.pad(out, pad, mode="reflect")
            out = sum(w[i] * np.take(p, np.arange(i, i + out.shape[axis]), axis=axis) for i in range(k))
        return im.back(out.astype(im.chw.dtype))


class Lambda(_T):
    """A user function as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


class RandomApply(_T):
    def __init__(self, transforms, p=0.5):
        self.transforms, self.p = list(transforms), p

    def __call__(self, img):
        if _rng().random() >= self.p:
            return img
        for t in self.transforms:
            img = t(img)
        return img


class RandomChoice(_T):
    def __init__(self, transforms, p=None):
        self.transforms, self.p = list(transforms), p

    def __call__(self, img):
        p = None if self.p is None else np.asarray(self.p, float) / np.sum(self.p)
        return self.transforms[int(_rng().choice(len(self.transforms), p=p))](img)


class RandomOrder(_T):
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for i in _rng().permutation(len(self.transforms)):
            img = self.transforms[int(i)](img)
        return img
