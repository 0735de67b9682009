"""Files and memory: checkpoint bombs are refused in milliseconds and megabytes, every corrupt file gets
ValueError, files get the user's umask; dropped models are freed at once (no cyclic garbage), and
Linear's initialization peaks at the size of its weight."""
import hashlib
import io
import json
import os
import zipfile

import numpy as np
import pytest

import fastnn
from fastnn import nn, optim
from _helpers import run_python

MEASURE = r'''
import resource, time, sys, fastnn
def peak_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = peak_mb()
t0 = time.perf_counter()
try:
    fastnn.load(sys.argv[1])
    print("LOADED")
except ValueError as e:
    print("REFUSED", time.perf_counter() - t0, peak_mb() - base, str(e)[:200])
'''


def _refused(path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, timeout=120,
                       cwd=os.path.dirname(path))  # not the source tree: the installed fastnn
    line = r.stdout.strip().splitlines()[-1]
    assert line.startswith("REFUSED"), (line, r.stderr[-1000:])
    _, secs, mb, *_ = line.split(" ", 3)
    return float(secs), float(mb)


def _forge(path, manifest, arrays):
    """A file whose manifest and digests are all consistent (anyone can compute them)."""
    from fastnn._archive import _sha

    manifest = dict(manifest)
    manifest["arrays"] = {k: {"sha256": _sha(v), "shape": list(v.shape), "dtype": str(v.dtype)} for k, v in arrays.items()}
    blob = json.dumps(manifest).encode()
    arrays = dict(arrays)
    arrays["__manifest__"] = np.frombuffer(blob, np.uint8)
    arrays["__digest__"] = np.frombuffer(hashlib.sha256(blob).hexdigest().encode(), np.uint8)
    np.savez(path, **arrays)


def test_architecture_bomb_is_refused_before_building(tmp_path):
    """A 1 KB file whose manifest declares Linear(20000, 20000) (1.6 GB of weights) over tiny arrays."""
    arch = {"class": "Sequential", "config": {"layers": [
        {"name": "0", "class": "Linear", "config": {"in_features": 20000, "out_features": 20000, "bias": True,
                                                    "dtype": "float32"}}]}}
    man = {"format": "fastnn-checkpoint", "format_version": 2, "fastnn_version": fastnn.__version__, "kind": "model",
           "architecture": arch, "dtype": "float32", "frozen": [], "regularizers": {}}
    path = tmp_path / "bomb.npz"
    _forge(path, man, {"model/0.weight": np.zeros((2, 2), np.float32), "model/0.bias": np.zeros(2, np.float32)})
    secs, mb = _refused(path)
    assert secs < 1.0 and mb < 100


def test_compressed_bomb_is_refused_unread(tmp_path):
    """4 MB of compressed zeros that would inflate to ~4 GB."""
    path = tmp_path / "zip.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("model/0.weight.npy", "w", force_zip64=True) as f:
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                           "shape": (1 << 30,)})
            f.write(header.getvalue())
            chunk = bytes(1 << 24)
            for _ in range(256):
                f.write(chunk)
    assert os.path.getsize(path) < 10 * 2 ** 20
    secs, mb = _refused(path)
    assert secs < 1.0 and mb < 100


def test_lying_headers_and_random_corruption_always_give_value_error(tmp_path):
    m = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Linear(8, 3))
    opt = optim.Adam(m.parameters())
    path = tmp_path / "m.npz"
    fastnn.save(m, path, optimizer=opt, extra={"note": [1, 2, {"a": (3, 4)}]})
    raw = path.read_bytes()
    rng = np.random.default_rng(0)
    kinds = set()
    for trial in range(300):
        bad = bytearray(raw)
        if trial % 3 == 0:
            bad = bad[: rng.integers(0, len(bad))]
        else:
            for _ in range(rng.integers(1, 8)):
                bad[rng.integers(0, len(bad))] = rng.integers(0, 256)
        (tmp_path / "bad.npz").write_bytes(bytes(bad))
        try:
            fastnn.load(tmp_path / "bad.npz")
            kinds.add("loaded")  # a flip in zip padding can leave a valid file
        except ValueError:
            kinds.add("ValueError")
    assert kinds <= {"ValueError", "loaded"} and "ValueError" in kinds


def test_saved_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        fastnn.save({"w": fastnn.ones(2)}, tmp_path / "a.pt")
        assert (os.stat(tmp_path / "a.pt").st_mode & 0o777) == 0o644
        os.umask(0o077)
        fastnn.save({"w": fastnn.ones(2)}, tmp_path / "b.pt")
        assert (os.stat(tmp_path / "b.pt").st_mode & 0o777) == 0o600
    finally:
        os.umask(old)


DROP = r'''
import gc, os, fastnn
from fastnn import nn, optim
gc.disable()
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
sizes = []
for i in range(25):
    m = nn.Sequential(nn.Linear(1500, 1500), nn.BatchNorm1d(1500), nn.ReLU(), nn.Linear(1500, 1500), nn.Linear(1500, 10))
    opt = optim.Adam(m.parameters(), lr=1e-3)
    loss = nn.CrossEntropyLoss()(m(fastnn.randn(16, 1500)), fastnn.randint(0, 10, (16,)))
    loss.backward(); opt.step()
    m.eval(); m(fastnn.randn(4, 1500).numpy())
    del m, opt, loss
    sizes.append(rss_mb())
print("GROWTH", sizes[-1] - sizes[2])
'''


def test_dropped_models_are_freed_without_the_cyclic_collector():
    """25 models of 4.5M parameters (with Adam state, ~72 MB each) created and dropped with gc disabled."""
    r = run_python(DROP, timeout=300)
    growth = float(r.stdout.split("GROWTH")[1])
    assert growth < 40, r.stdout  # flat: not 22 x 72 MB


INIT = r'''
import resource, fastnn
from fastnn import nn
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = peak()
l = nn.Linear(6000, 6000, init="{init}")
print("RATIO", (peak() - base) / (6000 * 6000 * 4 / 2**20))
'''


@pytest.mark.parametrize("init", ["default", "he_normal", "xavier_uniform"])
def test_linear_initialization_peaks_at_the_weight_size(init):
    r = run_python(INIT.replace("{init}", init), timeout=120)
    ratio = float(r.stdout.split("RATIO")[1])
    assert ratio <= 1.5, r.stdout
