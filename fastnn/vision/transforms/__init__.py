"""fastnn.vision.transforms: torchvision's per-sample image transforms (use them inside a Dataset), on
fastnn's C resampling and colour kernels; ``fastnn.vision.transforms.v2`` has torchvision's v2 classes
(``ToImage``, ``ToDtype``, several inputs at once) over the same operations.

Images: a fastnn Tensor (C, H, W) -- float in [0, 1] or uint8 --, or before ToTensor a PIL image or a
NumPy array (H, W, C) / (H, W), which is returned in the same form. Random parameters come from the
global generator (``fastnn.manual_seed``; each DataLoader worker is seeded on its own). For batches of
arrays (what ``fit(transform=...)`` takes), see ``fastnn.data``: the same kernels, one call per batch.

Each transform draws its random parameters (``_params``) and then applies them (``_apply``, through
:mod:`.functional`), so v2 can apply one draw to an image and its mask alike.

Differences from torchvision: resizing is bilinear or nearest (BICUBIC and LANCZOS are refused), and PIL
images are transformed numerically (the results agree with the tensor backend of torchvision, not with
PIL's own filters).
"""
import math
import numbers

import numpy as np

from ..._random import default_generator
from ...tensor import Tensor
from . import functional as F
from .functional import InterpolationMode

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "Normalize", "Resize", "CenterCrop", "RandomCrop",
           "Pad", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomAffine",
           "RandomResizedCrop", "ColorJitter", "Grayscale", "RandomGrayscale", "RandomErasing", "GaussianBlur",
           "Lambda", "RandomApply", "RandomChoice", "RandomOrder", "ConvertImageDtype", "InterpolationMode",
           "functional"]

functional = F


def _rng():
    return default_generator.numpy


def _range(v, name, center=0.0):
    if isinstance(v, numbers.Number):
        if F.finite(v, name) < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return (center - float(v), center + float(v))
    v = tuple(F.finite(x, name) for x in v)
    if len(v) != 2 or v[0] > v[1]:
        raise ValueError(f"{name}: expected (min, max), got {v!r}")
    return v


def _prob(p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
    return float(p)


class Compose:
    """Apply the transforms in order.

    Parameters
    ----------
    transforms : list of transforms
        The transforms.
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t}\n" for t in self.transforms) + ")"


class _T:
    """A transform: ``_params(img)`` draws its random parameters (None: leave the image as it is),
    ``_apply(img, params)`` applies them."""

    def _params(self, img):
        return {}

    def _apply(self, img, params):
        raise NotImplementedError

    def __call__(self, img):
        p = self._params(img)
        return img if p is None else self._apply(img, p)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class ToTensor(_T):
    """PIL image or (H, W, C) / (H, W) array -> float32 tensor (C, H, W); uint8 values are scaled to
    [0, 1], other dtypes kept (torchvision's rule)."""

    def _apply(self, pic, params):
        return F.to_tensor(pic)


class PILToTensor(_T):
    """PIL image -> uint8 tensor (C, H, W), unscaled."""

    def _apply(self, pic, params):
        return F.pil_to_tensor(pic)


class ToPILImage(_T):
    """Tensor (C, H, W) (floats in [0, 1] scaled to 0..255) or array -> PIL image.

    Parameters
    ----------
    mode : str, optional
        The PIL image mode.
    """

    def __init__(self, mode=None):
        self.mode = mode

    def _apply(self, pic, params):
        return F.to_pil_image(pic, self.mode)


class ConvertImageDtype(_T):
    """A tensor image to dtype, rescaling between integer ranges and [0, 1].

    Parameters
    ----------
    dtype : dtype
        The output dtype (values rescaled).
    """

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def _apply(self, img, params):
        return F.convert_image_dtype(img, self.dtype)


class Normalize(_T):
    """(x - mean[c]) / std[c] per channel of a tensor image (e.g. mean = std = (0.5, 0.5, 0.5) for
    CIFAR-10 in [0, 1]).

    Parameters
    ----------
    mean : sequence of float
        Mean of each channel.
    std : sequence of float
        Standard deviation of each channel.
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """

    def __init__(self, mean, std, inplace=False):
        self.mean = tuple(F.finite(float(m), "mean") for m in np.atleast_1d(mean))
        self.std = tuple(F.finite(float(s), "std") for s in np.atleast_1d(std))
        if len(self.mean) != len(self.std):
            raise ValueError(f"mean, std: expected the same length, got {len(self.mean)} and {len(self.std)}")
        if any(s == 0 for s in self.std):
            raise ValueError("std evaluated to zero after conversion to float, leading to division by zero.")
        self.inplace = inplace

    def _apply(self, tensor, params):
        return F.normalize(tensor, self.mean, self.std, self.inplace)


class Resize(_T):
    """Resize to size (h, w), or the smaller edge to size keeping the aspect ratio (max_size caps the
    longer edge). Bilinear (half-pixel centres; antialiased when shrinking) or nearest.

    Parameters
    ----------
    size : int or tuple
        Output size (an int: the smaller edge, or a square for crops).
    interpolation : InterpolationMode, default <InterpolationMode.BILINEAR: 'bilinear'>
        The resampling (bilinear, nearest, ...).
    max_size : int, optional
        Bound on the longer edge.
    antialias : bool, default True
        Low-pass filter when downsampling (torchvision's default True).
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        if size is not None and not isinstance(size, numbers.Number):
            size = tuple(size)
            if len(size) not in (1, 2):
                raise ValueError(f"size: expected an int or (h, w), got {size!r}")
        self.size, self.interpolation, self.max_size, self.antialias = size, interpolation, max_size, antialias
        self._nearest = F.nearest_mode(interpolation)

    def _apply(self, img, params, nearest=None):
        return F.resize(img, self.size, InterpolationMode.NEAREST if (nearest or self._nearest) else
                        InterpolationMode.BILINEAR, self.max_size, bool(self.antialias))


class CenterCrop(_T):
    """The central size crop (padded with zeros when the image is smaller).

    Parameters
    ----------
    size : int or tuple
        Output size (an int: the smaller edge, or a square for crops).
    """

    def __init__(self, size):
        self.size = F.pair(size, "size")

    def _apply(self, img, params):
        return F.center_crop(img, self.size)


class Pad(_T):
    """Pad the borders (left, top, right, bottom), filling with fill or the edge / a reflection.

    Parameters
    ----------
    padding : int or sequence
        Pixels added on each border (left, top, right, bottom).
    fill : number or tuple, default 0
        Value of the pixels outside the image.
    padding_mode : str, default 'constant'
        "zeros", "reflect", "replicate" or "circular".
    """

    def __init__(self, padding, fill=0, padding_mode="constant"):
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"padding_mode: expected 'constant', 'edge', 'reflect' or 'symmetric', got "
                             f"{padding_mode!r}")
        self.padding, self.fill, self.padding_mode = F.pad4(padding), fill, padding_mode
        F.fill_value(fill)

    def _apply(self, img, params):
        return F.pad(img, self.padding, self.fill, self.padding_mode)


class RandomCrop(_T):
    """A random size crop, after optional padding (torchvision's RandomCrop).

    Parameters
    ----------
    size : int or tuple
        Output size (an int: the smaller edge, or a square for crops).
    padding : int or sequence, optional
        Padding added before the crop.
    pad_if_needed : bool, default False
        Pad an image smaller than size.
    fill : number or tuple, default 0
        Value of the pixels outside the image.
    padding_mode : str, default 'constant'
        "zeros", "reflect", "replicate" or "circular".
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = F.pair(size, "size")
        self.padding = None if padding is None else F.pad4(padding)
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode
        F.fill_value(fill)

    def _params(self, img):
        H, W = F.Img(img).hw
        pad = list(self.padding or (0, 0, 0, 0))
        H, W = H + pad[1] + pad[3], W + pad[0] + pad[2]
        oh, ow = self.size
        if self.pad_if_needed and (H < oh or W < ow):
            ph, pw = max(0, oh - H), max(0, ow - W)
            pad = [pad[0] + pw, pad[1] + ph, pad[2] + pw, pad[3] + ph]
            H, W = H + 2 * ph, W + 2 * pw
        if H < oh or W < ow:
            raise ValueError(f"Required crop size {(oh, ow)} is larger than input image size {(H, W)}")
        g = _rng()
        return {"pad": tuple(pad), "top": int(g.integers(0, H - oh + 1)), "left": int(g.integers(0, W - ow + 1))}

    def _apply(self, img, params):
        if any(params["pad"]):
            img = F.pad(img, params["pad"], self.fill, self.padding_mode)
        return F.crop(img, params["top"], params["left"], *self.size)


class RandomHorizontalFlip(_T):
    """Mirror left-right with probability p.

    Parameters
    ----------
    p : float, default 0.5
        Probability of the flip.
    """

    def __init__(self, p=0.5):
        self.p = _prob(p)

    def _params(self, img):
        return None if _rng().random() >= self.p else {}

    def _apply(self, img, params):
        return F.hflip(img)


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability p.

    Parameters
    ----------
    p : float, default 0.5
        Probability of the flip.
    """

    def _apply(self, img, params):
        return F.vflip(img)


class RandomRotation(_T):
    """Rotate by an angle uniform in [-degrees, degrees] (or a (min, max) pair), counter-clockwise
    positive, about the centre (or `center`), filling with `fill`; nearest by default (torchvision's).

    Parameters
    ----------
    degrees : float or tuple
        Range of rotation angles in degrees (a number d: (-d, d)).
    interpolation : InterpolationMode, default <InterpolationMode.NEAREST: 'nearest'>
        The resampling (bilinear, nearest, ...).
    expand : bool, default False
        Enlarge the output to hold the whole rotated image.
    center : tuple, optional
        The rotation center (default: the image's).
    fill : number or tuple, default 0
        Value of the pixels outside the image.
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        self.degrees = _range(degrees, "degrees")
        if expand:
            raise NotImplementedError("RandomRotation(expand=True)")
        self.interpolation, self.center, self.fill = interpolation, center, fill
        self._nearest = F.nearest_mode(interpolation)
        F.fill_value(fill)

    def _params(self, img):
        return {"angle": float(_rng().uniform(*self.degrees))}

    def _apply(self, img, params, nearest=None):
        return F.rotate(img, params["angle"], InterpolationMode.NEAREST if (nearest or self._nearest) else
                        InterpolationMode.BILINEAR, False, self.center, self.fill)


class RandomAffine(_T):
    """Random rotation, translation (fractions of width/height), scale and shear, torchvision's
    parameterisation; nearest by default.

    Parameters
    ----------
    degrees : float or tuple
        Range of rotation angles in degrees (a number d: (-d, d)).
    translate : tuple of float, optional
        Largest shifts as fractions of the width and height.
    scale : tuple of float, optional
        Range of scale factors.
    shear : float or tuple, optional
        Range of shear angles in degrees.
    interpolation : InterpolationMode, default <InterpolationMode.NEAREST: 'nearest'>
        The resampling (bilinear, nearest, ...).
    fill : number or tuple, default 0
        Value of the pixels outside the image.
    center : tuple, optional
        The rotation center (default: the image's).
    """

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
        self._nearest = F.nearest_mode(interpolation)
        F.fill_value(fill)

    def _params(self, img):
        H, W = F.Img(img).hw
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
        return {"angle": angle, "translate": (tx, ty), "scale": sc, "shear": (shx, shy)}

    def _apply(self, img, params, nearest=None):
        return F.affine(img, params["angle"], params["translate"], params["scale"], params["shear"],
                        InterpolationMode.NEAREST if (nearest or self._nearest) else InterpolationMode.BILINEAR,
                        self.fill, self.center)


class RandomResizedCrop(_T):
    """A crop of random area (scale) and aspect ratio (log-uniform in ratio) resized to size
    (torchvision's sampling, ten tries then a central crop).

    Parameters
    ----------
    size : int or tuple
        Output size (an int: the smaller edge, or a square for crops).
    scale : tuple of float, default (0.08, 1.0)
        Range of scales (areas).
    ratio : tuple of float, default (0.75, 1.3333333333333333)
        Range of aspect ratios.
    interpolation : InterpolationMode, default <InterpolationMode.BILINEAR: 'bilinear'>
        The resampling (bilinear, nearest, ...).
    antialias : bool, default True
        Low-pass filter when downsampling (torchvision's default True).
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
        self.size = F.pair(size, "size")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        if self.scale[0] > self.scale[1] or self.ratio[0] > self.ratio[1]:
            raise ValueError("Scale and ratio should be of kind (min, max)")
        self.interpolation, self.antialias = interpolation, antialias
        self._nearest = F.nearest_mode(interpolation)

    def _params(self, img):
        H, W = F.Img(img).hw
        g = _rng()
        area = H * W
        lr = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            ta = area * g.uniform(*self.scale)
            ar = math.exp(g.uniform(*lr))
            w, h = int(round(math.sqrt(ta * ar))), int(round(math.sqrt(ta / ar)))
            if 0 < w <= W and 0 < h <= H:
                return {"box": (int(g.integers(0, H - h + 1)), int(g.integers(0, W - w + 1)), h, w)}
        in_ratio = W / H
        if in_ratio < min(self.ratio):
            w, h = W, int(round(W / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            h, w = H, int(round(H * max(self.ratio)))
        else:
            w, h = W, H
        return {"box": ((H - h) // 2, (W - w) // 2, h, w)}

    def _apply(self, img, params, nearest=None):
        return F.resized_crop(img, *params["box"], self.size, InterpolationMode.NEAREST if (nearest or self._nearest)
                              else InterpolationMode.BILINEAR, bool(self.antialias))


class ColorJitter(_T):
    """Random brightness, contrast, saturation and hue, in a random order (torchvision's definitions,
    on images in [0, 1]; uint8 images are scaled and back).

    Parameters
    ----------
    brightness : float or tuple, default 0
        How much to jitter brightness.
    contrast : float or tuple, default 0
        How much to jitter contrast.
    saturation : float or tuple, default 0
        How much to jitter saturation.
    hue : float or tuple, default 0
        How much to jitter hue, in [-0.5, 0.5].
    """

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

    def _params(self, img):
        g = _rng()
        f = [g.uniform(*self.brightness), g.uniform(*self.contrast), g.uniform(*self.saturation),
             g.uniform(*self.hue)]
        return {"factors": f, "order": [int(i) for i in np.argsort(g.random(4))]}

    def _apply(self, img, params):
        return F._jitter(img, params["factors"], params["order"])


class Grayscale(_T):
    """ITU-R 601-2 luma (0.299 R + 0.587 G + 0.114 B), with 1 or 3 output channels.

    Parameters
    ----------
    num_output_channels : int, default 1
        1 or 3.
    """

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise ValueError("num_output_channels should be either 1 or 3")
        self.num_output_channels = num_output_channels

    def _apply(self, img, params):
        return F.rgb_to_grayscale(img, self.num_output_channels)


class RandomGrayscale(_T):
    """Grayscale with probability p, keeping the number of channels.

    Parameters
    ----------
    p : float, default 0.1
        Probability of the conversion.
    """

    def __init__(self, p=0.1):
        self.p = _prob(p)

    def _params(self, img):
        return None if _rng().random() >= self.p else {}

    def _apply(self, img, params):
        return F.rgb_to_grayscale(img, F.Img(img).chw.shape[0])


class RandomErasing(_T):
    """Erase a random rectangle of a tensor image with probability p (Zhong et al. 2017).

    Parameters
    ----------
    p : float, default 0.5
        Probability of erasing.
    scale : tuple of float, default (0.02, 0.33)
        Range of the erased area's share of the image.
    ratio : tuple of float, default (0.3, 3.3)
        Range of the erased area's aspect ratio.
    value : number, tuple or "random", default 0
        The erased pixels' value.
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        self.p, self.scale, self.ratio, self.value, self.inplace = _prob(p), tuple(scale), tuple(ratio), value, inplace
        if self.scale[0] > self.scale[1] or self.ratio[0] > self.ratio[1]:
            raise ValueError("Scale and ratio should be of kind (min, max)")
        if not (value == "random" or isinstance(value, (numbers.Number, tuple, list))):
            raise ValueError(f"value: expected a number, a sequence or 'random', got {value!r}")

    def _params(self, img):
        if not isinstance(img, Tensor):
            raise TypeError("RandomErasing: expected a tensor image")
        g = _rng()
        if g.random() >= self.p:
            return None
        C, H, W = img._a.shape[-3:]
        area = H * W
        lr = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            ea = area * g.uniform(*self.scale)
            ar = math.exp(g.uniform(*lr))
            h, w = int(round(math.sqrt(ea * ar))), int(round(math.sqrt(ea / ar)))
            if h < H and w < W:
                i, j = int(g.integers(0, H - h + 1)), int(g.integers(0, W - w + 1))
                if self.value == "random":
                    v = g.standard_normal((C, h, w))
                else:
                    v = np.asarray(self.value, np.float64)
                    v = v.reshape(-1, 1, 1) if v.ndim else v
                return {"box": (i, j, h, w), "v": v}
        return None

    def _apply(self, img, params):
        return F.erase(img, *params["box"], params["v"], self.inplace)


class GaussianBlur(_T):
    """Blur with a Gaussian kernel of kernel_size and sigma uniform in the sigma range (reflect borders).

    Parameters
    ----------
    kernel_size : int or tuple
        Size of the Gaussian kernel (odd).
    sigma : float or tuple, default (0.1, 2.0)
        Standard deviation, or the range it is drawn from.
    """

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        self.kernel_size = F.pair(kernel_size, "kernel_size")
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError("Kernel size value should be an odd and positive number.")
        self.sigma = (float(sigma), float(sigma)) if isinstance(sigma, numbers.Number) else tuple(sigma)
        if not 0 < self.sigma[0] <= self.sigma[1]:
            raise ValueError(f"sigma: expected 0 < min <= max, got {sigma!r}")

    def _params(self, img):
        return {"sigma": float(_rng().uniform(*self.sigma))}

    def _apply(self, img, params):
        return F.gaussian_blur(img, self.kernel_size, params["sigma"])


class Lambda(_T):
    """A user function as a transform.

    Parameters
    ----------
    lambd : callable
        The function applied.
    """

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def _apply(self, img, params):
        return self.lambd(img)


class RandomApply(_T):
    """Apply the transforms (in order) with probability p.

    Parameters
    ----------
    transforms : list of transforms
        The transforms.
    p : float, default 0.5
        Probability of applying the transforms.
    """

    def __init__(self, transforms, p=0.5):
        self.transforms, self.p = list(transforms), _prob(p)

    def __call__(self, img):
        if _rng().random() >= self.p:
            return img
        for t in self.transforms:
            img = t(img)
        return img


class RandomChoice(_T):
    """Apply one of the transforms, picked at random (with probabilities p).

    Parameters
    ----------
    transforms : list of transforms
        The transforms.
    p : list of float, optional
        Probabilities of each transform.
    """

    def __init__(self, transforms, p=None):
        self.transforms, self.p = list(transforms), p

    def __call__(self, img):
        p = None if self.p is None else np.asarray(self.p, float) / np.sum(self.p)
        return self.transforms[int(_rng().choice(len(self.transforms), p=p))](img)


class RandomOrder(_T):
    """Apply the transforms in a random order.

    Parameters
    ----------
    transforms : list of transforms
        The transforms.
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for i in _rng().permutation(len(self.transforms)):
            img = self.transforms[int(i)](img)
        return img

