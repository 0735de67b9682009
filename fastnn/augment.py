"""fastnn.augment: normalization and augmentation of whole batches (what ``fit(transform=...)`` and
``DataLoader(transform=...)`` take).

Their names say Batch (torchvision's per-image transforms are fastnn.vision.transforms): they are called as
``t(batch, rng)`` (rng: a numpy Generator; the DataLoader passes its seeded one, so every epoch draws fresh
parameters and the same seed reproduces them). Image augmentations
take float batches (N, C, H, W); each sample gets its own random parameters, and the pixel work runs
in C with OpenMP over the batch (geometric ops as one per-sample affine resampling, bilinear).

Choose per task: no rotations (or transposes) for digits or wearable-sensor signals, whose meaning
changes with orientation; no flips for medical images, whose left and right differ.
"""
import math

import numpy as np

from ._ext import _augment
from ._random import numpy_rng


def _images(x, who):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{who}: expected an image batch (N, C, H, W), got shape {x.shape}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{who}: expected float32 or float64 images, got {x.dtype}")
    return x


def _number(v, name, lo=None, integer=False):
    """A finite number (>= lo), refused clearly otherwise (NaN would fail later inside NumPy)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {v!r}")
    if lo is not None and v < lo:
        raise ValueError(f"{name}: expected a value >= {lo}, got {v!r}")
    if integer and v != int(v):
        raise ValueError(f"{name}: expected a whole number, got {v!r}")
    return v


def _prob(p, name="p"):
    _number(p, name)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: expected a probability in [0, 1], got {p!r}")
    return float(p)


def _range(v, name, center=None, lo=None):
    """A number v -> (center - v, center + v) (or (-v, v)); a pair is taken as is."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name}: expected (min, max), got {v!r}")
        _number(v[0], name), _number(v[1], name)
        if v[0] > v[1]:
            raise ValueError(f"{name}: expected (min, max) with min <= max, got {v!r}")
        r = (float(v[0]), float(v[1]))
    else:
        _number(v, name)
        if v < 0:
            raise ValueError(f"{name}: expected a value >= 0, got {v!r}")
        c = 0.0 if center is None else center
        r = (c - float(v), c + float(v))
    if lo is not None:
        r = (max(lo, r[0]), r[1])
    return r


class BatchTransform:
    def __call__(self, x, rng=None):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class BatchCompose(BatchTransform):
    """Apply transforms in order. Consecutive geometric transforms (flips, shifts, crops, rotations,
    zooms) are fused: their per-sample maps are composed and the image is resampled once (one bilinear
    interpolation instead of several, and `fill` only outside the original image); the random draws
    are the same as applying them one by one."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"transforms: expected callables, got {type(t).__name__}")

    def __call__(self, x, rng=None):
        rng = numpy_rng(rng)
        ts, i = self.transforms, 0
        while i < len(ts):
            j = i
            while (j < len(ts) and isinstance(ts[j], _Affine) and ts[j].fill == ts[i].fill
                   and ts[j].edge == ts[i].edge):
                j += 1
            if j - i >= 2:
                x = _fused(ts[i:j], x, rng)
                i = j
            else:
                x = ts[i](x, rng)
                i += 1
        return x


def _bshape(x):
    return (1, -1) + (1,) * (x.ndim - 2) if x.ndim > 2 else (1, -1)


class BatchNormalize(BatchTransform):
    """x' = (x - mean) / std, per channel for (N, C, H, W) (as torchvision; e.g. mean = std =
    (0.5, 0.5, 0.5) for CIFAR-10 scaled to [0, 1]) or per feature for (N, F)."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, np.float64).reshape(-1)
        self.std = np.asarray(std, np.float64).reshape(-1)
        if not (np.isfinite(self.mean).all() and np.isfinite(self.std).all()):
            raise ValueError("mean, std: expected finite values")
        if self.mean.shape != self.std.shape:
            raise ValueError(f"mean, std: expected the same length, got {self.mean.size} and {self.std.size}")
        if np.any(self.std <= 0):
            raise ValueError("std: expected values > 0")

    def __call__(self, x, rng=None):
        x = np.asarray(x)
        dt = x.dtype if x.dtype.kind == "f" else np.float32
        k = x.shape[1] if x.ndim >= 2 else x.shape[-1]
        if self.mean.size not in (1, k):
            raise ValueError(f"BatchNormalize: {self.mean.size} means for {k} channels/features")
        bs = _bshape(x) if x.ndim >= 2 else (-1,)
        return ((x - self.mean.astype(dt).reshape(bs)) / self.std.astype(dt).reshape(bs)).astype(dt, copy=False)


class Standardize(BatchTransform):
    """x' = (x - mu) / sigma with mu, sigma fitted on the training data only (per feature for (N, F),
    per channel for (N, C, ...)). Features with sigma = 0 are only centred."""

    def __init__(self):
        self.mean_ = None
        self.std_ = None

    def fit(self, X):
        X = np.asarray(X, np.float64)
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(f"X: expected a non-empty (N, ...) array, got shape {X.shape}")
        axes = (0,) + tuple(range(2, X.ndim))
        self.mean_ = X.mean(axis=axes)
        std = X.std(axis=axes)
        self.std_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X):
        if self.mean_ is None:
            raise RuntimeError("Standardize: call fit(X_train) before transform")
        X = np.asarray(X)
        dt = X.dtype if X.dtype.kind == "f" else np.float32
        if X.ndim < 2 or X.shape[1] != self.mean_.size:
            raise ValueError(f"X: expected {self.mean_.size} features/channels on axis 1, got shape {X.shape}")
        bs = _bshape(X)
        return ((X - self.mean_.reshape(bs)) / self.std_.reshape(bs)).astype(dt, copy=False)

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def __call__(self, x, rng=None):
        return self.transform(x)

    def state_dict(self):
        return {"mean": None if self.mean_ is None else self.mean_.copy(),
                "std": None if self.std_ is None else self.std_.copy()}

    def load_state_dict(self, sd):
        self.mean_ = None if sd["mean"] is None else np.asarray(sd["mean"], np.float64)
        self.std_ = None if sd["std"] is None else np.asarray(sd["std"], np.float64)
        return self


# ---- geometric augmentation: one inverse affine map per sample (output pixel -> source pixel) ----
_IDENTITY = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])


class _Affine(BatchTransform):
    fill = 0.0
    edge = False  # replicate the border instead of filling (resizing transforms)

    def _matrices(self, n, H, W, rng):
        raise NotImplementedError

    def _out_hw(self, H, W):
        return H, W

    def __call__(self, x, rng=None):
        x = _images(x, type(self).__name__)
        n, _, H, W = x.shape
        A = self._matrices(n, H, W, numpy_rng(rng))
        return _augment.affine_sample(x, A, self._out_hw(H, W), fill=self.fill, edge=self.edge)


def _fused(group, x, rng):
    """Resample once through the composition of several geometric transforms' maps."""
    x = _images(x, "Compose")
    n, _, H, W = x.shape
    total = np.tile(np.eye(3), (n, 1, 1))
    h, w = H, W
    for t in group:  # output -> source maps compose left to right: source = M1 M2 ... (out)
        A = t._matrices(n, h, w, rng)
        M = np.zeros((n, 3, 3))
        M[:, 0, :], M[:, 1, :], M[:, 2, 2] = A[:, 0:3], A[:, 3:6], 1.0
        total = total @ M
        h, w = t._out_hw(h, w)
    A = np.concatenate([total[:, 0, :], total[:, 1, :]], axis=1)
    return _augment.affine_sample(x, A, (h, w), fill=group[0].fill, edge=group[0].edge)


class BatchRandomHorizontalFlip(_Affine):
    """Mirror left-right with probability p. Not for images whose sides differ (medical scans, text)."""

    def __init__(self, p=0.5):
        self.p = _prob(p)

    def _matrices(self, n, H, W, rng):
        A = np.tile(_IDENTITY, (n, 1))
        flip = rng.random(n) < self.p
        A[flip, 4], A[flip, 5] = -1.0, W - 1.0
        return A


class BatchRandomVerticalFlip(_Affine):
    """Mirror top-bottom with probability p. Not for natural scenes with a sky, nor medical images."""

    def __init__(self, p=0.5):
        self.p = _prob(p)

    def _matrices(self, n, H, W, rng):
        A = np.tile(_IDENTITY, (n, 1))
        flip = rng.random(n) < self.p
        A[flip, 0], A[flip, 2] = -1.0, H - 1.0
        return A


class BatchRandomTranspose(_Affine):
    """Swap the two image axes with probability p (square images). Not for digits or text."""

    def __init__(self, p=0.5):
        self.p = _prob(p)

    def _matrices(self, n, H, W, rng):
        if H != W:
            raise ValueError(f"BatchRandomTranspose: needs square images, got {H}x{W}")
        A = np.tile(_IDENTITY, (n, 1))
        t = rng.random(n) < self.p
        A[t] = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0]
        return A


class BatchRandomShift(_Affine):
    """Translate by a whole number of pixels, uniformly in [-max_dx, max_dx] x [-max_dy, max_dy]
    (a float below 1 is a fraction of the width/height), filling with `fill`."""

    def __init__(self, max_dx=2, max_dy=2, fill=0.0):
        _number(max_dx, "max_dx", 0), _number(max_dy, "max_dy", 0), _number(fill, "fill")
        self.max_dx, self.max_dy, self.fill = max_dx, max_dy, float(fill)

    def _matrices(self, n, H, W, rng):
        mx = int(round(self.max_dx * W)) if 0 < self.max_dx < 1 else int(self.max_dx)
        my = int(round(self.max_dy * H)) if 0 < self.max_dy < 1 else int(self.max_dy)
        A = np.tile(_IDENTITY, (n, 1))
        A[:, 2] = -rng.integers(-my, my + 1, n)
        A[:, 5] = -rng.integers(-mx, mx + 1, n)
        return A


class BatchRandomCrop(_Affine):
    """A random size x size window of the image padded by `padding` pixels (torchvision's
    BatchRandomCrop(size, padding)). size = the image size with padding = 0 is the identity."""

    def __init__(self, size, padding=0, fill=0.0):
        sizes = (size, size) if np.isscalar(size) else tuple(size)
        for v in sizes:
            _number(v, "size", 1, integer=True)
        _number(padding, "padding", 0, integer=True), _number(fill, "fill")
        self.size = tuple(int(v) for v in sizes)
        self.padding, self.fill = int(padding), float(fill)

    def _out_hw(self, H, W):
        return self.size

    def _matrices(self, n, H, W, rng):
        oh, ow = self.size
        p = self.padding
        if oh > H + 2 * p or ow > W + 2 * p:
            raise ValueError(f"BatchRandomCrop: crop {oh}x{ow} larger than the padded image {H + 2 * p}x{W + 2 * p}")
        A = np.tile(_IDENTITY, (n, 1))
        A[:, 2] = rng.integers(0, H + 2 * p - oh + 1, n) - p
        A[:, 5] = rng.integers(0, W + 2 * p - ow + 1, n) - p
        return A


class BatchRandomRotation(_Affine):
    """Rotate about the centre by an angle uniform in [-degrees, degrees] (or a (min, max) pair),
    counter-clockwise positive, bilinear, filling with `fill`. Not for digits (6 vs 9) or
    wearable-sensor signals."""

    def __init__(self, degrees, fill=0.0):
        self.degrees = _range(degrees, "degrees")
        self.fill = float(_number(fill, "fill"))

    def _matrices(self, n, H, W, rng):
        th = np.deg2rad(rng.uniform(self.degrees[0], self.degrees[1], n))
        c, s = np.cos(th), np.sin(th)
        cy, cx = (H - 1) / 2.0, (W - 1) / 2.0
        # source (sy, sx) = R (i - cy, j - cx) + (cy, cx) with the inverse rotation (y axis down)
        return np.stack([c, s, cy - c * cy - s * cx, -s, c, cx + s * cy - c * cx], axis=1)


class BatchRandomResizedCrop(_Affine):
    """torchvision's BatchRandomResizedCrop: a crop of random area (scale of the image) and aspect ratio
    (log-uniform in ratio), resized (bilinear) to size."""

    edge = True

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
        self.size = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"size: expected a positive int or (height, width), got {size!r}")
        self.scale, self.ratio = _range(scale, "scale"), _range(ratio, "ratio")
        if self.scale[0] <= 0 or self.ratio[0] <= 0:
            raise ValueError("scale, ratio: expected positive ranges")

    def _out_hw(self, H, W):
        return self.size

    def _matrices(self, n, H, W, rng):
        oh, ow = self.size
        A = np.empty((n, 6))
        area = H * W
        lr = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for k in range(n):
            for _ in range(10):
                ta = area * rng.uniform(*self.scale)
                ar = math.exp(rng.uniform(*lr))
                w, h = int(round(math.sqrt(ta * ar))), int(round(math.sqrt(ta / ar)))
                if 0 < w <= W and 0 < h <= H:
                    top, left = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
                    break
            else:  # fall back to a central crop (torchvision's rule)
                in_ratio = W / H
                if in_ratio < self.ratio[0]:
                    w, h = W, int(round(W / self.ratio[0]))
                elif in_ratio > self.ratio[1]:
                    h, w = H, int(round(H * self.ratio[1]))
                else:
                    w, h = W, H
                top, left = (H - h) // 2, (W - w) // 2
            sy, sx = h / oh, w / ow  # half-pixel centres (align_corners=False)
            A[k] = [sy, 0.0, top + 0.5 * sy - 0.5, 0.0, sx, left + 0.5 * sx - 0.5]
        return A


class BatchResize(_Affine):
    """BatchResize every image to size (H, W) with bilinear interpolation (half-pixel centres, as
    torchvision's antialias-free resize): how transfer learning feeds images to a network trained at
    another resolution."""

    edge = True

    def __init__(self, size):
        self.size = (int(size), int(size)) if np.isscalar(size) else tuple(int(v) for v in size)
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"size: expected a positive int or (height, width), got {size!r}")

    def _out_hw(self, H, W):
        return self.size

    def _matrices(self, n, H, W, rng):
        oh, ow = self.size
        sy, sx = H / oh, W / ow
        return np.tile([sy, 0.0, 0.5 * sy - 0.5, 0.0, sx, 0.5 * sx - 0.5], (n, 1))


class BatchRandomZoom(_Affine):
    """Zoom about the centre by a factor uniform in `scale` (> 1 zooms in), same output size."""

    def __init__(self, scale=(0.9, 1.1), fill=0.0):
        self.scale = _range(scale, "scale")
        if self.scale[0] <= 0:
            raise ValueError("scale: expected factors > 0")
        self.fill = float(_number(fill, "fill"))

    def _matrices(self, n, H, W, rng):
        z = rng.uniform(self.scale[0], self.scale[1], n)
        cy, cx = (H - 1) / 2.0, (W - 1) / 2.0
        inv = 1.0 / z
        zero = np.zeros(n)
        return np.stack([inv, zero, cy - inv * cy, zero, inv, cx - inv * cx], axis=1)


class BatchColorJitter(BatchTransform):
    """torchvision's BatchColorJitter on float images in [0, 1], per sample, the four ops in a random order:
    brightness x b, b ~ U[max(0, 1 - brightness), 1 + brightness]; contrast: blend with the mean grey
    level; saturation: blend with the greyscale image (RGB only); hue: rotate the HSV hue by
    h ~ U[-hue, hue] turns (RGB only, hue <= 0.5). Results are clamped to [0, 1]."""

    def __init__(self, brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0):
        self.brightness = _range(brightness, "brightness", center=1.0, lo=0.0)
        self.contrast = _range(contrast, "contrast", center=1.0, lo=0.0)
        self.saturation = _range(saturation, "saturation", center=1.0, lo=0.0)
        self.hue = _range(hue, "hue")
        if not (-0.5 <= self.hue[0] <= self.hue[1] <= 0.5):
            raise ValueError(f"hue: expected values in [-0.5, 0.5], got {hue!r}")

    def __call__(self, x, rng=None):
        x = _images(x, "ColorJitter")
        rng = numpy_rng(rng)
        n = x.shape[0]
        F = np.stack([rng.uniform(*self.brightness, n), rng.uniform(*self.contrast, n),
                      rng.uniform(*self.saturation, n), rng.uniform(*self.hue, n)], axis=1)
        order = np.argsort(rng.random((n, 4)), axis=1).astype(np.int32)
        return _augment.color_jitter(x, F, order)


__all__ = ["BatchTransform", "BatchCompose", "BatchNormalize", "Standardize", "BatchRandomHorizontalFlip",
           "BatchRandomVerticalFlip", "BatchRandomTranspose", "BatchRandomShift", "BatchRandomCrop",
           "BatchRandomRotation", "BatchRandomResizedCrop", "BatchRandomZoom", "BatchColorJitter", "BatchResize"]
