"""torchvision's datasets on fastnn: MNIST-family IDX files and CIFAR batches in torchvision's layout,
download=True from a mirror (a local HTTP server here) with MD5 checks, and files that could run code or
escape the root refused."""
import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import tarfile
import threading

import numpy as np
import pytest

from fastnn.vision import datasets
from fastnn.vision import transforms as T


def _idx(arr):
    return bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape) + arr.tobytes()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def _mnist_files(www):
    rng = np.random.default_rng(0)
    res = []
    for split, n in (("train", 12), ("t10k", 5)):
        for kind, arr in (("images-idx3", rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)),
                          ("labels-idx1", rng.integers(0, 10, n).astype(np.uint8))):
            name = f"{split}-{kind}-ubyte.gz"
            data = gzip.compress(_idx(arr))
            (www / name).write_bytes(data)
            res.append((name, hashlib.md5(data).hexdigest()))
    return res


def test_mnist_download_from_a_mirror(server, tmp_path, monkeypatch):
    www, url = server
    res = _mnist_files(www)
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", ["http://127.0.0.1:9/", url])  # first one refuses
    monkeypatch.setattr(datasets.FashionMNIST, "resources", res)
    d = datasets.FashionMNIST(tmp_path / "data", train=True, download=True, transform=T.ToTensor())
    assert len(d) == 12 and d[0][0].shape == (1, 28, 28) and isinstance(d[0][1], int)
    assert sorted(os.listdir(tmp_path / "data" / "FashionMNIST" / "raw"))[0].endswith(".gz")
    assert len(datasets.FashionMNIST(tmp_path / "data", train=False, download=True)) == 5
    assert len(datasets.FashionMNIST(tmp_path / "data", train=False)) == 5  # no download needed now


def test_download_refuses_a_damaged_file_and_reports_every_mirror(server, tmp_path, monkeypatch):
    www, url = server
    res = [(n, "0" * 32) for n, _ in _mnist_files(www)]
    monkeypatch.setattr(datasets.MNIST, "mirrors", [url])
    monkeypatch.setattr(datasets.MNIST, "resources", res)
    with pytest.raises(RuntimeError, match="MD5 sum mismatch"):
        datasets.MNIST(tmp_path / "d", download=True)
    assert not any(f.endswith(".gz") for f in os.listdir(tmp_path / "d" / "MNIST" / "raw"))  # nothing half-written
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.MNIST(tmp_path / "nothing-here")


def _cifar_tar(www, members=None):
    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        def add(name, obj):
            data = obj if isinstance(obj, bytes) else pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name in ["data_batch_%d" % i for i in range(1, 6)] + ["test_batch"]:
            add("cifar-10-batches-py/" + name, {b"data": rng.integers(0, 256, (4, 3072)).astype(np.uint8),
                                                b"labels": [0, 1, 2, 9]})
        add("cifar-10-batches-py/batches.meta", {b"label_names": [b"airplane"] + [b"x"] * 9})
        for name, data in (members or {}).items():
            add(name, data)
    data = buf.getvalue()
    (www / "cifar-10-python.tar.gz").write_bytes(data)
    return hashlib.md5(data).hexdigest()


def test_cifar10_download_and_read(server, tmp_path, monkeypatch):
    www, url = server
    monkeypatch.setattr(datasets.CIFAR10, "url", url + "cifar-10-python.tar.gz")
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", _cifar_tar(www))
    d = datasets.CIFAR10(tmp_path, train=True, download=True)
    assert len(d) == 20 and d[0][0].shape == (32, 32, 3) and d[0][0].dtype == np.uint8 and d.targets[:4] == [0, 1, 2, 9]
    assert d.classes[0] == "airplane" and len(datasets.CIFAR10(tmp_path, train=False)) == 4
    x = T.ToTensor()(d[3][0])
    assert x.shape == (3, 32, 32)


def test_cifar_refuses_code_in_a_pickle_and_escaping_archives(server, tmp_path, monkeypatch):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in ["data_batch_%d" % i for i in range(1, 6)] + ["batches.meta"]:
        (folder / name).write_bytes(pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": [0],
                                                  "label_names": ["a"] * 10, "x": Evil()}))
    with pytest.raises(ValueError, match="refusing to load"):
        datasets.CIFAR10(tmp_path, train=True)
    assert not (tmp_path / "pwned").exists()
    www, url = server
    monkeypatch.setattr(datasets.CIFAR10, "url", url + "cifar-10-python.tar.gz")
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", _cifar_tar(www, {"../escaped": b"x"}))
    with pytest.raises(RuntimeError, match="refusing archive member"):
        datasets.CIFAR10(tmp_path / "other", train=True, download=True)
    assert not (tmp_path / "escaped").exists()
