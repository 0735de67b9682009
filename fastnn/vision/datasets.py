"""fastnn.vision.datasets: datasets with torchvision's interface (``dataset[i] -> (image, label)``,
``transform`` / ``target_transform``, ``download=True``).

``MNIST``, ``FashionMNIST`` and ``KMNIST`` read torchvision's on-disk layout (``root/<Name>/raw/*-idx?-ubyte
[.gz]``), ``CIFAR10`` / ``CIFAR100`` theirs (``root/cifar-10-batches-py``); with ``download=True`` missing
files are fetched from torchvision's sources and checked against their MD5 sums. CIFAR's pickled batches
are read by an unpickler that accepts only arrays, numbers, strings and containers (a file naming any other
Python object is refused: loading never runs code). ``Digits`` is scikit-learn's bundled 8x8 handwritten
digits (1,797 images), which needs no files at all. Images come as uint8 arrays (H, W) or (H, W, 3), where
torchvision gives PIL images: every transform takes both.
"""
import gzip
import hashlib
import io
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.request

import numpy as np

from ..utils.data import Dataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "Digits"]

_MAX_DOWNLOAD = 1 << 30  # 1 GiB: more than any of these archives


def _md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(urls, dest, md5, timeout=60):
    """Fetch the first URL that answers into dest (a temporary file renamed into place once its MD5 sum
    matches). Raises RuntimeError naming every URL tried."""
    errors = []
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".download-")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
                got = 0
                for block in iter(lambda: r.read(1 << 20), b""):
                    got += len(block)
                    if got > _MAX_DOWNLOAD:
                        raise RuntimeError(f"more than {_MAX_DOWNLOAD >> 20} MiB")
                    out.write(block)
            if md5 is not None and _md5(tmp) != md5:
                raise RuntimeError(f"MD5 sum mismatch (expected {md5}): the file is damaged or not the dataset")
            os.replace(tmp, dest)
            return dest
        except Exception as e:  # try the next mirror
            errors.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise RuntimeError("download failed:\n  " + "\n  ".join(errors))


def _extract_tar(path, root):
    """Extract a .tar.gz under root, refusing members that would land outside it or are not plain files
    and directories."""
    root_abs = os.path.realpath(root)
    with tarfile.open(path, "r:gz") as tar:
        members = tar.getmembers()
        for m in members:
            target = os.path.realpath(os.path.join(root, m.name))
            if not (m.isfile() or m.isdir()) or os.path.commonpath([root_abs, target]) != root_abs:
                raise RuntimeError(f"{path}: refusing archive member {m.name!r} (outside {root} or not a file)")
        for m in members:
            target = os.path.join(root, m.name)
            if m.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with tar.extractfile(m) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)


class _ArraysOnly(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and NumPy arrays, nothing else (no code runs on load)."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only arrays, numbers, strings and "
                                     "containers are read from a dataset file")


def _load_pickle(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        return _ArraysOnly(io.BytesIO(data), encoding="latin1").load()
    except pickle.UnpicklingError as e:
        raise ValueError(f"{path}: {e}") from None
    except Exception as e:
        raise ValueError(f"{path}: not a readable CIFAR batch ({type(e).__name__}: {e})") from None


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


def _str_keys(d):
    if not isinstance(d, dict):
        raise ValueError("not a CIFAR file (a dict expected)")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in d.items()}


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
    """MNIST from torchvision's raw files under root/MNIST/raw (``download=True`` fetches missing ones).
    Images are (28, 28) uint8 arrays (torchvision's PIL images before ToTensor / ToImage); labels ints."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    _files = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
              False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    classes = [str(i) for i in range(10)]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(transform, target_transform)
        self.root, self.train = os.fspath(root), train
        raw = self.raw_folder
        paths = []
        for stem in self._files[bool(train)]:
            found = [os.path.join(raw, stem + ext) for ext in ("", ".gz")
                     if os.path.exists(os.path.join(raw, stem + ext))]
            if not found and download:
                md5 = dict(self.resources)[stem + ".gz"]
                found = [_download([m + stem + ".gz" for m in self.mirrors], os.path.join(raw, stem + ".gz"), md5)]
            if not found:
                raise RuntimeError(f"{type(self).__name__}: {stem}[.gz] not found in {raw}. You can use download=True "
                                   "to download it (or copy torchvision's raw files there)")
            paths.append(found[0])
        self.data = _read_idx(paths[0])
        self.targets = _read_idx(paths[1]).astype(np.int64)

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}


class FashionMNIST(MNIST):
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


class KMNIST(MNIST):
    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
                 ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
                 ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
                 ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134")]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class CIFAR10(_ImageDataset):
    """CIFAR-10 from torchvision's layout (root/cifar-10-batches-py; ``download=True`` fetches and checks
    the archive). Images are (32, 32, 3) uint8 arrays (HWC, as torchvision's PIL images); labels ints."""

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"]
    test_list = ["test_batch"]
    meta = {"filename": "batches.meta", "key": "label_names"}
    _label_key = "labels"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(transform, target_transform)
        self.root, self.train = os.fspath(root), train
        folder = os.path.join(self.root, self.base_folder)
        names = (self.train_list if train else self.test_list) + [self.meta["filename"]]
        if download and not all(os.path.exists(os.path.join(folder, n)) for n in names):
            archive = _download([self.url], os.path.join(self.root, self.filename), self.tgz_md5)
            _extract_tar(archive, self.root)
        missing = [n for n in names if not os.path.exists(os.path.join(folder, n))]
        if missing:
            raise RuntimeError(f"{type(self).__name__}: {missing} not found in {folder}. You can use download=True "
                               "to download it")
        data, targets = [], []
        for n in names[:-1]:
            entry = self._entry(os.path.join(folder, n))
            data.append(np.asarray(entry["data"], np.uint8).reshape(-1, 3, 32, 32))
            targets.extend(int(v) for v in entry[self._label_key])
        self.data = np.ascontiguousarray(np.concatenate(data).transpose(0, 2, 3, 1))
        self.targets = targets
        meta = _str_keys(_load_pickle(os.path.join(folder, self.meta["filename"])))
        if self.meta["key"] not in meta:
            raise ValueError(f"{folder}: {self.meta['filename']} has no {self.meta['key']!r}")
        self.classes = [c.decode("latin1") if isinstance(c, bytes) else str(c) for c in meta[self.meta["key"]]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        if len(self.data) != len(self.targets):
            raise ValueError(f"{folder}: {len(self.data)} images but {len(self.targets)} labels")

    def _entry(self, path):
        entry = _load_pickle(path)
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: not a CIFAR batch (a dict of data and labels expected)")
        entry = _str_keys(entry)
        for k in ("data", self._label_key):
            if k not in entry:
                raise ValueError(f"{path}: not a CIFAR batch (no {k!r} entry)")
        if np.asarray(entry["data"]).size != 3072 * len(entry[self._label_key]):
            raise ValueError(f"{path}: expected {len(entry[self._label_key])} images of 3x32x32")
        return entry

    def __getitem__(self, index):
        img, target = self.data[index], self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class CIFAR100(CIFAR10):
    """CIFAR-100 (fine labels), torchvision's layout (root/cifar-100-python)."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = ["train"]
    test_list = ["test"]
    meta = {"filename": "meta", "key": "fine_label_names"}
    _label_key = "fine_labels"


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
