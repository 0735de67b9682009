"""torchvision.transforms.functional's image operations, the one implementation behind fastnn's
``transforms`` (v1) and ``transforms.v2`` classes.

An image is a fastnn Tensor (C, H, W) or (H, W) -- float in [0, 1] or an integer dtype --, a PIL image, or
a NumPy array (H, W, C) / (H, W); each function returns the same form it was given. Work is done on a float
(C, H, W) array through fastnn's C resampling and colour kernels.

Resizing: bilinear with half-pixel centres (``align_corners=False``) or nearest; with ``antialias=True``
(torchvision's default) a downscale averages over the source pixels as PIL and torch's antialiased
interpolate do. BICUBIC and LANCZOS are refused. Integer images are computed in float and rounded, so
they may differ by one level from torchvision's fixed-point uint8 kernels.
"""
import math
import numbers
from enum import Enum

import numpy as np

from ..._ext import _augment
from ...tensor import Tensor, _wrap

__all__ = ["InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels", "get_size",
           "to_tensor", "pil_to_tensor", "to_pil_image", "convert_image_dtype", "normalize", "resize", "crop",
           "center_crop", "resized_crop", "pad", "hflip", "vflip", "horizontal_flip", "vertical_flip", "rotate",
           "affine", "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
           "rgb_to_grayscale", "to_grayscale", "erase", "gaussian_blur", "invert"]


class InterpolationMode(Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    LANCZOS = "lanczos"
    BOX = "box"
    HAMMING = "hamming"
    NEAREST_EXACT = "nearest-exact"


def nearest_mode(interpolation):
    """True for NEAREST, False for BILINEAR; other modes are refused."""
    m = interpolation.value if isinstance(interpolation, InterpolationMode) else {0: "nearest", 2: "bilinear"}.get(
        interpolation, interpolation)
    if m not in ("nearest", "bilinear", "nearest-exact"):
        raise NotImplementedError(f"interpolation {m!r}: fastnn resamples with NEAREST or BILINEAR")
    return m != "bilinear"


# ---- image forms: everything is worked on as a float (C, H, W) array, then put back ----
class Img:
    """Remembers how an image came in (tensor subclass, PIL, HWC/HW array; dtype) to return the same form."""

    def __init__(self, img):
        self.kind, self.dtype, self.pil_mode, self.cls = None, None, None, Tensor
        if isinstance(img, Tensor):
            a = img._a
            self.kind, self.cls = "tensor", type(img)
            if a.ndim == 2:
                a, self.kind = a[None], "tensor2d"
            if a.ndim != 3:
                raise ValueError(f"expected a tensor image of shape (C, H, W), got {tuple(a.shape)}")
            chw = a
        elif is_pil(img):
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
        self.raw = chw
        self.chw = np.ascontiguousarray(chw, np.float32 if self.int or chw.dtype != np.float64 else np.float64)

    @property
    def hw(self):
        return self.chw.shape[1:]

    def back(self, chw, exact=False):
        """The result in the input's form; exact: chw is already of the input's dtype (no rounding)."""
        if self.int and not exact:
            top = 255 if self.dtype == np.uint8 else np.iinfo(self.dtype).max if self.dtype.kind in "iu" else 1
            chw = np.clip(np.rint(chw), 0, top).astype(self.dtype)
        elif chw.dtype != self.dtype:
            chw = chw.astype(self.dtype)
        if self.kind in ("tensor", "tensor2d"):
            return like(self.cls, chw if self.kind == "tensor" else chw[0])
        hwc = chw[0] if chw.shape[0] == 1 and self.kind in ("hw", "pil") else np.moveaxis(chw, 0, -1)
        if self.kind == "pil":
            from PIL import Image
            if hwc.ndim == 3 and hwc.shape[-1] == 1:
                hwc = hwc[..., 0]
            return Image.fromarray(np.ascontiguousarray(hwc))
        if self.kind == "hw":
            return np.ascontiguousarray(chw[0])
        return np.ascontiguousarray(hwc)


def like(cls, a):
    """A tensor over array a of class cls when cls keeps its type through transforms (tv_tensors.Image)."""
    f = getattr(cls, "_from", None)
    return f(a) if f is not None else _wrap(a)


def is_pil(img):
    return type(img).__module__.startswith("PIL")


def sample(chw, A, out_hw, nearest, fill=0.0, edge=False):
    """Resample one (C, H, W) image through the inverse map A (source (row, col) = A (i, j, 1))."""
    y = _augment.affine_sample(chw[None], np.asarray(A, np.float64).reshape(1, 6), out_hw, nearest=nearest,
                               edge=edge, fill=float(fill))
    return y[0]


# ---- argument checks shared by the functions and the transform classes ----
def finite(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {v!r}")
    return float(v)


def pair(v, name):
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


def fill_value(fill):
    if fill is None:
        return 0.0
    if isinstance(fill, dict):  # v2: {tv_tensor type: fill}; one value for every type here
        vals = set(fill.values())
        if len(vals) > 1:
            raise NotImplementedError("a per-type fill: fastnn fills every input with one value")
        fill = vals.pop() if vals else 0
    if isinstance(fill, (tuple, list)):
        if len(set(fill)) > 1:
            raise NotImplementedError("a per-channel fill: fastnn fills every channel with one value")
        fill = fill[0]
    return finite(fill, "fill")


def pad4(padding):
    vals = (padding,) if isinstance(padding, numbers.Number) else tuple(padding)
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v != int(v) or v < 0:
            raise ValueError(f"padding: expected non-negative whole numbers, got {padding!r}")
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return (p, p, p, p)
    p = tuple(int(v) for v in padding)
    if len(p) == 1:
        return (p[0],) * 4
    if len(p) == 2:
        return (p[0], p[1], p[0], p[1])
    if len(p) == 4:
        return p
    raise ValueError(f"padding: expected an int or a 2- or 4-tuple, got {padding!r}")


# ---- sizes ----
def get_dimensions(img):
    """[channels, height, width]."""
    im = Img(img)
    return [im.chw.shape[0], *im.hw]


def get_size(img):
    """[height, width] (torchvision v2's get_size)."""
    return list(Img(img).hw)


def get_image_size(img):
    """[width, height] (torchvision v1's get_image_size)."""
    h, w = Img(img).hw
    return [w, h]


def get_image_num_channels(img):
    return Img(img).chw.shape[0]


# ---- conversions ----
def to_tensor(pic):
    """PIL image or (H, W, C) / (H, W) array -> float32 tensor (C, H, W); uint8 values are scaled to
    [0, 1], other dtypes kept (torchvision's rule)."""
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


def pil_to_tensor(pic):
    """PIL image -> tensor (C, H, W) of its own dtype (uint8), unscaled."""
    if not is_pil(pic):
        raise TypeError(f"pic should be a PIL Image, got {type(pic).__name__}")
    a = np.asarray(pic)
    a = a[:, :, None] if a.ndim == 2 else a
    return _wrap(np.ascontiguousarray(np.moveaxis(a, -1, 0)))


def to_pil_image(pic, mode=None):
    """Tensor (C, H, W) (floats in [0, 1] scaled to 0..255) or (H, W, C) array -> PIL image."""
    from PIL import Image
    a = pic._a if isinstance(pic, Tensor) else np.asarray(pic)
    if isinstance(pic, Tensor):
        a = np.moveaxis(a, 0, -1) if a.ndim == 3 else a
    if a.dtype.kind == "f":
        a = (a * 255).astype(np.uint8)  # torchvision's truncation
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    return Image.fromarray(np.ascontiguousarray(a), mode=mode)


def _max_value(dt):
    dt = np.dtype(dt)
    if dt == np.bool_:
        return 1
    if dt.kind in "iu":
        return np.iinfo(dt).max
    return 1.0


def convert_dtype(a, dtype, scale=True):
    """torchvision's to_dtype on an array: with scale, integer <-> float rescales between [0, max] and
    [0, 1] (float -> int multiplies by max + 1 - 1e-3 and truncates; int -> int shifts bits)."""
    dtype = np.dtype(dtype)
    if a.dtype == dtype:
        return a
    if not scale:
        return a.astype(dtype)
    fin, fout = a.dtype.kind == "f", dtype.kind == "f"
    if fin and fout:
        return a.astype(dtype)
    if fin:
        if (a.dtype == np.float32 and dtype in (np.int32, np.int64)) or (a.dtype == np.float64 and dtype == np.int64):
            raise RuntimeError(f"The conversion from {a.dtype} to {dtype} cannot be performed safely.")
        return (a * a.dtype.type(_max_value(dtype) + 1.0 - 1e-3)).astype(dtype)
    if fout:
        return a.astype(dtype) * dtype.type(1.0 / _max_value(a.dtype))
    bits_in = 1 if a.dtype == np.bool_ else np.iinfo(a.dtype).bits - (a.dtype.kind == "i")
    bits_out = 1 if dtype == np.bool_ else np.iinfo(dtype).bits - (dtype.kind == "i")
    if bits_in > bits_out:
        return (a >> (bits_in - bits_out)).astype(dtype)
    return a.astype(dtype) << (bits_out - bits_in)


def convert_image_dtype(image, dtype=np.float32):
    if not isinstance(image, Tensor):
        raise TypeError(f"convert_image_dtype: expected a tensor, got {type(image).__name__}")
    return _wrap(convert_dtype(image._a, dtype, True))


def normalize(tensor, mean, std, inplace=False):
    """(x - mean[c]) / std[c] per channel of a float tensor image (C, H, W) or batch (..., C, H, W)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Normalize: expected a tensor image (use ToTensor first; in v2, ToImage and ToDtype), got "
                        f"{type(tensor).__name__}")
    a = tensor._a
    if a.dtype.kind != "f":
        raise TypeError(f"Normalize: input tensor should be a float tensor. Got {a.dtype}.")
    mean = tuple(finite(float(m), "mean") for m in np.atleast_1d(mean))
    std = tuple(finite(float(s), "std") for s in np.atleast_1d(std))
    if any(s == 0 for s in std):
        raise ValueError("std evaluated to zero after conversion to float, leading to division by zero.")
    c = a.shape[-3] if a.ndim >= 3 else 1
    if len(mean) not in (1, c) or len(std) not in (1, c):
        raise ValueError(f"Normalize: {len(mean)} means and {len(std)} stds for {c} channels")
    shp = (-1, 1, 1) if a.ndim >= 3 else (-1,)
    m, s = np.asarray(mean, a.dtype).reshape(shp), np.asarray(std, a.dtype).reshape(shp)
    if tensor.requires_grad:
        return tensor.sub(_wrap(m)).div(_wrap(s))
    if inplace:
        np.subtract(a, m, out=a)
        np.divide(a, s, out=a)
        return tensor
    return like(type(tensor), (a - m) / s)


# ---- resampling ----
def _aa_weights(in_size, out_size, start, length):
    """(out_size, in_size) weights of PIL's / torch's antialiased bilinear resampling of the source span
    [start, start + length) onto out_size pixels (a triangle filter widened by the downscale factor)."""
    scale = length / out_size
    support = scale if scale >= 1.0 else 1.0
    inv = 1.0 / scale if scale >= 1.0 else 1.0
    Wm = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), length)
        j = np.arange(lo, hi)
        w = np.maximum(0.0, 1.0 - np.abs((j - center + 0.5) * inv))
        tot = w.sum()
        if tot > 0:
            w = w / tot
        idx = j + start
        ok = (idx >= 0) & (idx < in_size)
        np.add.at(Wm[i], np.clip(idx[ok], 0, in_size - 1), w[ok])
    return Wm


def resample(chw, top, left, h, w, oh, ow, nearest, antialias):
    """The box (top, left, h, w) of a (C, H, W) float image (zeros outside it), resized to (oh, ow): the
    crop first, as torchvision does, so the borders clamp at the box's edges."""
    H, W = chw.shape[1:]
    if not (0 <= top and top + h <= H and 0 <= left and left + w <= W):
        chw = sample(chw, [1, 0, top, 0, 1, left], (h, w), True)
    elif (top, left, h, w) != (0, 0, H, W):
        chw = np.ascontiguousarray(chw[:, top:top + h, left:left + w])
    sy, sx = h / oh, w / ow
    if nearest:  # the kernel rounds (floor(s + 0.5)): -0.5 gives PyTorch's floor(dst * scale)
        return sample(chw, [sy, 0.0, -0.5, 0.0, sx, -0.5], (oh, ow), True, edge=True)
    if antialias and (sy > 1.0 or sx > 1.0):
        wy, wx = _aa_weights(h, oh, 0, h).astype(chw.dtype), _aa_weights(w, ow, 0, w).astype(chw.dtype)
        return np.ascontiguousarray(np.matmul(np.matmul(wy, chw), wx.T))
    return sample(chw, [sy, 0.0, 0.5 * sy - 0.5, 0.0, sx, 0.5 * sx - 0.5], (oh, ow), False, edge=True)


def output_size(hw, size, max_size=None):
    """torchvision's resize rule: (h, w) as given, or the smaller edge to size keeping the aspect ratio
    (max_size caps the longer edge); size None with max_size: the longer edge to max_size."""
    H, W = hw
    if isinstance(size, numbers.Number):
        size = [size]
    if size is not None and len(size) == 2:
        return int(size[0]), int(size[1])
    if size is None:
        if max_size is None:
            raise ValueError("resize: size=None needs max_size")
        r = max_size / max(H, W)
        return int(H * r), int(W * r)
    s = int(size[0])
    short, long = (W, H) if W <= H else (H, W)
    ns, nl = s, int(s * long / short)
    if max_size is not None:
        if max_size <= s:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size {s}")
        if nl > max_size:
            ns, nl = int(max_size * ns / nl), int(max_size)
    return (nl, ns) if W <= H else (ns, nl)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    im = Img(img)
    nearest = nearest_mode(interpolation)
    H, W = im.hw
    oh, ow = output_size((H, W), size, max_size)
    if (oh, ow) == (H, W):
        return img
    return im.back(resample(im.chw, 0, 0, H, W, oh, ow, nearest, antialias))


def crop(img, top, left, height, width):
    """The box (top, left, height, width); parts outside the image are zero."""
    for name, v in (("top", top), ("left", left), ("height", height), ("width", width)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"crop: {name} must be an int, got {v!r}")
    if height < 1 or width < 1:
        raise ValueError(f"crop: height and width must be positive, got ({height}, {width})")
    im = Img(img)
    H, W = im.hw
    if 0 <= top and top + height <= H and 0 <= left and left + width <= W:
        return im.back(np.ascontiguousarray(im.raw[:, top:top + height, left:left + width]), exact=True)
    return im.back(sample(im.chw, [1, 0, top, 0, 1, left], (height, width), True))


def center_crop(img, output_size):
    """The central crop; an image smaller than output_size is first padded with zeros (torchvision's
    split of the padding: the extra pixel goes right / bottom)."""
    oh, ow = pair(output_size, "output_size")
    H, W = Img(img).hw
    if oh > H or ow > W:
        pl, pt = (ow - W) // 2 if ow > W else 0, (oh - H) // 2 if oh > H else 0
        pr, pb = (ow - W + 1) // 2 if ow > W else 0, (oh - H + 1) // 2 if oh > H else 0
        img = pad(img, [pl, pt, pr, pb])
        H, W = H + pt + pb, W + pl + pr
        if (oh, ow) == (H, W):
            return img
    return crop(img, int(round((H - oh) / 2.0)), int(round((W - ow) / 2.0)), oh, ow)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    im = Img(img)
    oh, ow = pair(size, "size")
    return im.back(resample(im.chw, top, left, height, width, oh, ow, nearest_mode(interpolation), antialias))


def pad_chw(chw, pad, fill, mode):
    l, t, r, b = pad
    if mode == "constant":
        return np.pad(chw, ((0, 0), (t, b), (l, r)), constant_values=fill)
    np_mode = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}.get(mode)
    if np_mode is None:
        raise ValueError(f"padding_mode: expected 'constant', 'edge', 'reflect' or 'symmetric', got {mode!r}")
    return np.pad(chw, ((0, 0), (t, b), (l, r)), mode=np_mode)


def pad(img, padding, fill=0, padding_mode="constant"):
    im = Img(img)
    out = pad_chw(im.raw, pad4(padding), fill_value(fill), padding_mode)
    return im.back(out, exact=True)


def hflip(img):
    im = Img(img)
    return im.back(np.ascontiguousarray(im.raw[:, :, ::-1]), exact=True)


def vflip(img):
    im = Img(img)
    return im.back(np.ascontiguousarray(im.raw[:, ::-1, :]), exact=True)


horizontal_flip, vertical_flip = hflip, vflip


def inverse_matrix(hw, angle, translate, scale, shear, center=None):
    """torchvision's inverse affine map (output -> source), in coordinates centred on the image: rotation
    by `angle` degrees clockwise (torchvision's affine convention), translate (tx, ty) pixels, scale, shear
    (sx, sy) degrees, about center (x, y) in pixel coordinates (the image centre by default)."""
    H, W = hw
    cx, cy = (0.0, 0.0) if center is None else (float(center[0]) - W * 0.5, float(center[1]) - H * 0.5)
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -(a * math.tan(sx) + math.sin(rot))
    c = math.sin(rot - sy) / math.cos(sy)
    d = math.cos(rot) - c * math.tan(sx)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    m[2] += cx - m[0] * (cx + tx) - m[1] * (cy + ty)
    m[5] += cy - m[3] * (cx + tx) - m[4] * (cy + ty)
    return m


def warp(im, m, nearest, fill):
    """Resample image im (an Img) through the centred inverse map m, as torchvision's grid sampling:
    nearest rounds half to even on the float32 grid torch builds (so ties fall the same way); bilinear
    runs fastnn's kernel."""
    H, W = im.hw
    py, px = (H - 1) / 2.0, (W - 1) / 2.0
    if not nearest:
        A = [m[4], m[3], m[5] + py - m[3] * px - m[4] * py, m[1], m[0], m[2] + px - m[0] * px - m[1] * py]
        return sample(im.chw, A, (H, W), False, fill)
    f32 = np.float32
    t = np.asarray(m, f32).reshape(2, 3).T / np.array([0.5 * W, 0.5 * H], f32)  # torch's rescaled theta
    xs = np.linspace((1.0 - W) * 0.5, (W - 1.0) * 0.5, W).astype(f32)[None, :]
    ys = np.linspace((1.0 - H) * 0.5, (H - 1.0) * 0.5, H).astype(f32)[:, None]
    gx = (xs * t[0, 0] + ys * t[1, 0]) + t[2, 0]
    gy = (xs * t[0, 1] + ys * t[1, 1]) + t[2, 1]
    ix = np.rint(((gx + f32(1)) * f32(W) - f32(1)) / f32(2)).astype(np.int64)
    iy = np.rint(((gy + f32(1)) * f32(H) - f32(1)) / f32(2)).astype(np.int64)
    inside = (ix >= 0) & (ix < W) & (iy >= 0) & (iy < H)
    out = np.full(im.raw.shape, fill, im.raw.dtype)
    out[:, inside] = im.raw[:, iy[inside], ix[inside]]
    return out


def _shear2(shear):
    if isinstance(shear, numbers.Number):
        return (float(shear), 0.0)
    s = tuple(float(v) for v in shear)
    return (s[0], s[0]) if len(s) == 1 else s[:2]


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotate (degrees, clockwise: torchvision's affine convention), translate (pixels), scale and shear
    (degrees) about the centre; nearest by default."""
    if not scale > 0:
        raise ValueError(f"scale: expected > 0, got {scale!r}")
    im = Img(img)
    m = inverse_matrix(im.hw, float(angle), tuple(float(t) for t in translate), float(scale), _shear2(shear), center)
    nearest = nearest_mode(interpolation)
    return im.back(warp(im, m, nearest, fill_value(fill)), exact=nearest)


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate by angle degrees counter-clockwise (torchvision's rotate convention) about the centre."""
    if expand:
        raise NotImplementedError("rotate(expand=True)")
    return affine(img, -float(angle), (0.0, 0.0), 1.0, (0.0, 0.0), interpolation, fill, center)


# ---- colour ----
def _jitter(img, factors, order):
    """Run fastnn's colour kernel (brightness, contrast, saturation, hue factors) in order, in [0, 1]."""
    im = Img(img)
    if im.int and im.dtype != np.uint8:
        raise TypeError(f"colour adjustments: expected a float or uint8 image, got {im.dtype}")
    chw = im.chw / np.float32(255) if im.int else im.chw
    y = _augment.color_jitter(np.ascontiguousarray(chw[None], chw.dtype), np.asarray([factors], np.float64),
                              np.asarray([order], np.int32))[0]
    return im.back(y * 255.0 if im.int else y)


def _factor(v, name):
    v = finite(v, name)
    if v < 0:
        raise ValueError(f"{name} ({v}) is not non-negative.")
    return v


def adjust_brightness(img, brightness_factor):
    return _jitter(img, [_factor(brightness_factor, "brightness_factor"), 1, 1, 0], [0, 1, 2, 3])


def adjust_contrast(img, contrast_factor):
    return _jitter(img, [1, _factor(contrast_factor, "contrast_factor"), 1, 0], [1, 0, 2, 3])


def adjust_saturation(img, saturation_factor):
    return _jitter(img, [1, 1, _factor(saturation_factor, "saturation_factor"), 0], [2, 0, 1, 3])


def adjust_hue(img, hue_factor):
    h = finite(hue_factor, "hue_factor")
    if not -0.5 <= h <= 0.5:
        raise ValueError(f"hue_factor ({h}) is not in [-0.5, 0.5].")
    return _jitter(img, [1, 1, 1, h], [3, 0, 1, 2])


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma 0.2989 R + 0.587 G + 0.114 B (torchvision's weights), with 1 or 3 output channels."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    im = Img(img)
    chw = im.chw
    if chw.shape[0] == 3:
        grey = (chw[0] * chw.dtype.type(0.2989) + chw[1] * chw.dtype.type(0.587)
                + chw[2] * chw.dtype.type(0.114))[None]
    else:
        grey = chw[:1]
    return im.back(np.repeat(grey, num_output_channels, axis=0))


to_grayscale = rgb_to_grayscale


def invert(img):
    im = Img(img)
    top = _max_value(im.dtype)
    return im.back((top - im.raw).astype(im.dtype), exact=True)


def erase(img, i, j, h, w, v, inplace=False):
    """Set the box (i, j, h, w) of a tensor image to v (a number or an array broadcasting to (C, h, w))."""
    if not isinstance(img, Tensor):
        raise TypeError("erase: expected a tensor image")
    a = img._a if inplace else img._a.copy()
    a[..., i:i + h, j:j + w] = _arr_of(v, a.dtype)
    return img if inplace else like(type(img), a)


def _arr_of(v, dtype):
    return np.asarray(v._a if isinstance(v, Tensor) else v, dtype)


def gaussian_kernel1d(k, s):
    r = k // 2
    x = np.arange(-r, r + 1)
    w = np.exp(-0.5 * (x / s) ** 2)
    return w / w.sum()


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel (reflect borders); kernel_size and sigma are (x, y) pairs (or one value);
    sigma defaults to 0.3 ((k - 1) / 2 - 1) + 0.8."""
    ks = pair(kernel_size, "kernel_size")
    if any(k % 2 == 0 for k in ks):
        raise ValueError("Kernel size value should be an odd and positive number.")
    if sigma is None:
        sig = [0.3 * ((k - 1) * 0.5 - 1) + 0.8 for k in ks]
    else:
        sig = [float(sigma)] * 2 if isinstance(sigma, numbers.Number) else [float(s) for s in sigma]
        sig = sig * 2 if len(sig) == 1 else sig
    if any(s <= 0 for s in sig):
        raise ValueError(f"sigma should have positive values, got {sigma!r}")
    im = Img(img)
    out = im.chw
    for axis, k, s in ((2, ks[0], sig[0]), (1, ks[1], sig[1])):  # (kx, ky), (sx, sy): x first
        w = gaussian_kernel1d(k, s).astype(out.dtype)
        r = k // 2
        padw = [(0, 0)] * 3
        padw[axis] = (r, r)
        p = np.pad(out, padw, mode="reflect")
        out = sum(w[i] * np.take(p, np.arange(i, i + out.shape[axis]), axis=axis) for i in range(k))
    return im.back(out.astype(im.chw.dtype))
