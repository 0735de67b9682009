"""fastnn.vision.datasets: datasets with torchvision's interface (``dataset[i] -> (image, label)``,
``transform`` / ``target_transform``).

fastnn downloads nothing. ``MNIST``, ``FashionMNIST`` and ``KMNIST`` read torchvision's on-disk layout
(``root/<Name>/raw/*-idx?-ubyte[.gz]``) when the files are there; ``Digits`` is scikit-learn's bundled
8x8 handwritten digits (1,797 images), which needs no files at all.
"""
import gzip
import os

import numpy as np

from ..utils.data import Dataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "Digits"]


def _read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file")
    dtype = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}.get(data[2])
    if dtype is None:
        raise ValueError(f"{path}: unknown IDX element type {data[2]:#x}")
    nd = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    offset = 4 + 4 * nd
    count = int(np.prod(dims)) if dims else 0
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return arr.reshape(dims).astype(np.dtype(dtype).newbyteorder("="))


class _ImageDataset(Dataset):
    def __init__(self, transform=None, target_transform=None):
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        img, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class MNIST(_ImageDataset):
    """MNIST from torchvision's raw files under root/MNIST/raw. Images are (28, 28) uint8 arrays (as
    torchvision's PIL images before ToTensor); labels ints."""

    _files = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
              False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    classes = [str(i) for i in range(10)]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(transform, target_transform)
        self.root, self.train = os.fspath(root), train
        raw = os.path.join(self.root, type(self).__name__, "raw")
        paths = []
        for stem in self._files[bool(train)]:
            found = [os.path.join(raw, stem + ext) for ext in ("", ".gz") if os.path.exists(os.path.join(raw, stem + ext))]
            if not found:
                raise RuntimeError(f"{type(self).__name__}: {stem}[.gz] not found in {raw}. fastnn downloads nothing"
                                   f"{' (download=True cannot fetch it)' if download else ''}: copy torchvision's raw "
                                   "files there, or use fastnn.vision.datasets.Digits (bundled with scikit-learn).")
            paths.append(found[0])
        self.data = _read_idx(paths[0])
        self.targets = _read_idx(paths[1]).astype(np.int64)


class FashionMNIST(MNIST):
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


class KMNIST(MNIST):
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class Digits(_ImageDataset):
    """scikit-learn's handwritten digits: 1,797 images of 8x8 pixels, values 0..16 stored as uint8
    (ToTensor then scales by 1/255: use Lambda or Normalize to rescale), labels 0-9. train/test: a
    fixed 80/20 split (seeded), or train=None for all of them."""

    classes = [str(i) for i in range(10)]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False,
                 split_seed=0):
        super().__init__(transform, target_transform)
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise RuntimeError("Digits needs scikit-learn (pip install scikit-learn)") from None
        d = load_digits()
        X = d.images.astype(np.uint8)
        y = d.target.astype(np.int64)
        if train is not None:
            idx = np.random.default_rng(split_seed).permutation(len(X))
            cut = int(round(0.8 * len(X)))
            idx = idx[:cut] if train else idx[cut:]
            X, y = X[idx], y[idx]
        self.data, self.targets = X, y
