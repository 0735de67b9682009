"""fastnn's file format, below everything that writes or reads it (fastnn.checkpoint's save/load, fastnn.jit's
graphs, the zoo): an uncompressed NumPy .npz archive of the arrays, a JSON manifest (format version,
fastnn version, what the file holds, every array's shape, dtype and SHA-256) and the manifest's
SHA-256; models as their architecture (layer classes and configs) plus weights. Reading never runs
code from the file; every entry is checked against the file size and the manifest before anything
is allocated (see fastnn.checkpoint for the promises)."""
import hashlib
import io
import json
import os
import stat
import tempfile
import threading
import zipfile
from collections import OrderedDict

import numpy as np

from . import nn, regularizers
from ._version import __version__
from .tensor import Tensor, _wrap

_umask_lock = threading.Lock()  # os.umask is process-wide: read it under a lock


FORMAT = "fastnn-checkpoint"


FORMAT_VERSION = 2


_MAX_DEPTH = 64


def _sha(a):
    a = np.array(a, order="C")  # (ascontiguousarray would turn 0-d into 1-d)
    return hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes()).hexdigest()


class _Unencodable(Exception):
    pass


class UnstorableState(TypeError):
    """Something given to save() holds state a checkpoint cannot store (a function, say)."""


# ---- the structure of saved objects, as JSON with arrays by reference ----
def _encode(v, arrays, depth=0):
    if depth > _MAX_DEPTH:
        raise _Unencodable("nesting too deep")
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    if isinstance(v, Tensor):
        k = f"obj/{len(arrays)}"
        arrays[k] = np.array(v._a, order="C")
        return {"__tensor__": k, "requires_grad": bool(v.requires_grad), "parameter": isinstance(v, nn.Parameter)}
    if isinstance(v, np.ndarray):
        if v.dtype.kind not in "fiubc":
            raise _Unencodable(f"an array of dtype {v.dtype}")
        k = f"obj/{len(arrays)}"
        arrays[k] = np.array(v, order="C")
        return {"__ndarray__": k}
    if isinstance(v, np.generic):
        return {"__scalar__": [str(v.dtype), v.item()]}
    if isinstance(v, regularizers.Regularizer):
        return {"__regularizer__": [v.l1, v.l2]}
    if isinstance(v, tuple):
        return {"__tuple__": [_encode(x, arrays, depth + 1) for x in v]}
    if isinstance(v, list):
        return [_encode(x, arrays, depth + 1) for x in v]
    if isinstance(v, dict):
        return {"__dict__": [[_encode(k, arrays, depth + 1), _encode(x, arrays, depth + 1)] for k, x in v.items()],
                "ordered": isinstance(v, OrderedDict)}
    raise _Unencodable(type(v).__name__)


def _decode(v, files, depth=0):
    if depth > _MAX_DEPTH:
        raise ValueError("nesting too deep")
    if isinstance(v, list):
        return [_decode(x, files, depth + 1) for x in v]
    if not isinstance(v, dict):
        return v
    if "__tensor__" in v:
        a = files[v["__tensor__"]]
        if v.get("parameter"):
            return nn.Parameter(a, requires_grad=bool(v.get("requires_grad", True)))
        t = _wrap(a)
        if v.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "__ndarray__" in v:
        return files[v["__ndarray__"]]
    if "__scalar__" in v:
        dt, x = v["__scalar__"]
        return np.dtype(dt).type(x)
    if "__regularizer__" in v:
        l1, l2 = v["__regularizer__"]
        return regularizers.Regularizer(l1, l2)
    if "__tuple__" in v:
        return tuple(_decode(x, files, depth + 1) for x in v["__tuple__"])
    if "__dict__" in v:
        items = [(_hashable(_decode(k, files, depth + 1)), _decode(x, files, depth + 1)) for k, x in v["__dict__"]]
        return OrderedDict(items) if v.get("ordered") else dict(items)
    raise ValueError("unknown entry in the manifest")


def _hashable(k):
    if isinstance(k, list):
        return tuple(k)
    return k


# ---- models: architecture configs ----
def _architecture(model):
    return {"class": type(model).__name__, "config": model.get_config()}


def _layer_class(name):
    cls = getattr(nn, name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"unknown layer class {name!r}")
    return cls


def _expected_state(arch, prefix="", depth=0):
    """The state_dict shapes an architecture will have, computed from its config alone (nothing is
    built): what lets a loader refuse a file whose config asks for more than the file holds."""
    if depth > _MAX_DEPTH or not isinstance(arch, dict) or "class" not in arch:
        raise ValueError("malformed architecture")
    cls = _layer_class(arch["class"])
    cfg = arch.get("config") or {}
    if not isinstance(cfg, dict):
        raise ValueError("malformed layer config")
    if cls is nn.Sequential:
        out = {}
        for layer in cfg.get("layers", []):
            if not isinstance(layer, dict) or not isinstance(layer.get("name"), str):
                raise ValueError("malformed Sequential config")
            out.update(_expected_state(layer, f"{prefix}{layer['name']}.", depth + 1))
        return out
    shapes = getattr(cls, "_state_shapes", None)
    if shapes is None:
        return {}
    return {prefix + k: tuple(v) for k, v in shapes(cfg).items()}


def _build(arch, depth=0):
    if depth > _MAX_DEPTH or not isinstance(arch, dict) or "class" not in arch:
        raise ValueError("malformed architecture")
    cls = _layer_class(arch["class"])
    cfg = dict(arch.get("config") or {})
    if cls is nn.Sequential:
        return nn.Sequential(OrderedDict((layer["name"], _build(layer, depth + 1)) for layer in cfg.get("layers", [])))
    if "dtype" in cfg:
        cfg["dtype"] = np.dtype(cfg["dtype"])
    for k, v in list(cfg.items()):
        if isinstance(v, list):
            cfg[k] = tuple(v)
    return cls(**cfg)


def _serializable(model):
    try:
        _architecture(model)
        return True
    except (TypeError, AttributeError):
        return False


# ---- writing ----
def _umask():
    with _umask_lock:
        m = os.umask(0)
        os.umask(m)
    return m


def _write(f, arrays, manifest):
    manifest["arrays"] = {k: {"sha256": _sha(v), "shape": list(np.shape(v)), "dtype": str(np.asarray(v).dtype)}
                          for k, v in arrays.items()}
    blob = json.dumps(manifest, allow_nan=True).encode()
    arrays["__manifest__"] = np.frombuffer(blob, np.uint8)
    arrays["__digest__"] = np.frombuffer(hashlib.sha256(blob).hexdigest().encode(), np.uint8)
    return write_atomic(f, lambda fh: np.savez(fh, **arrays))


def write_atomic(f, write):
    """write(fh) into f: a file object directly, a path through a temporary file in the same directory
    renamed into place (with the user's umask), so a crash never leaves half a file."""
    if hasattr(f, "write"):
        write(f)
        return f
    path = os.fspath(f)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fastnn-", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _model_manifest(model, arrays, optimizer, scheduler, epoch, extra):
    for k, v in model.state_dict().items():
        arrays[f"model/{k}"] = np.array(v._a, order="C")
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "fastnn_version": __version__, "kind": "model",
        "architecture": _architecture(model), "dtype": str(model.dtype) if model.dtype else None,
        "frozen": [n for n, p in model.named_parameters() if not p.requires_grad],
        "frozen_modules": [n for n, m in model.named_modules() if m.frozen],
        "regularizers": {n: [p.regularizer.l1, p.regularizer.l2] for n, p in model.named_parameters()
                         if p.regularizer is not None},
        "epoch": epoch, "extra": None, "optimizer": None, "scheduler": None,
        # where each random layer's stream stands (dropout masks), so training resumes exactly
        "streams": {n: [m._base, m._calls] for n, m in model.named_modules() if hasattr(m, "_calls")},
        "training": bool(model.training),
    }
    if extra is not None:
        manifest["extra"] = _encode(extra, arrays)
    if optimizer is not None:
        sd = optimizer.state_dict()
        manifest["optimizer"] = {"class": type(optimizer).__name__, "state": _encode(sd, arrays)}
    if scheduler is not None:
        try:
            manifest["scheduler"] = {"class": type(scheduler).__name__,
                                     "state": _encode(scheduler.state_dict(), arrays)}
        except _Unencodable as e:
            raise UnstorableState(f"scheduler=: the state of {type(scheduler).__name__} holds a {e}, which a "
                                  "checkpoint cannot store (save without it and recreate the scheduler)") from None
    return manifest


def _read_bytes(f):
    """The file's bytes. A path must name a regular file (a FIFO, a device such as /dev/zero or a
    directory is refused at once instead of blocking or reading without end)."""
    if hasattr(f, "read"):
        return f.read(), getattr(f, "name", "<file>")
    path = os.fspath(f)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path}: not a regular file (a fastnn checkpoint is a file)")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(st.st_size + 1)
        if len(data) != st.st_size:
            raise ValueError(f"{path}: the file changed while it was read")
        return data, path
    finally:
        os.close(fd)


def _entries(raw, name):
    """The archive's arrays, read only after their headers were checked against the file size."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as e:
        raise ValueError(f"{name}: not a readable fastnn file (truncated or corrupted: {e})") from None
    infos = zf.infolist()
    if len(infos) > 100_000:
        raise ValueError(f"{name}: too many entries ({len(infos)})")
    files = {}
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            raise ValueError(f"{name}: entry {info.filename!r} is compressed; fastnn files are never compressed")
        if info.file_size > len(raw):
            raise ValueError(f"{name}: entry {info.filename!r} claims {info.file_size} bytes in a "
                             f"{len(raw)}-byte file")
        if not info.filename.endswith(".npy"):
            raise ValueError(f"{name}: unexpected entry {info.filename!r}")
        with zf.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=10000)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=10000)
            else:
                raise ValueError(f"{name}: entry {info.filename!r} has an unsupported .npy version {version}")
            if dtype.hasobject:
                raise ValueError(f"{name}: entry {info.filename!r} holds Python objects (refused)")
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize if shape else dtype.itemsize
            if nbytes > info.file_size:
                raise ValueError(f"{name}: entry {info.filename!r} declares {shape} {dtype} ({nbytes} bytes) "
                                 f"but holds {info.file_size} (truncated or altered)")
            data = fh.read(nbytes)
            if len(data) != nbytes:
                raise ValueError(f"{name}: entry {info.filename!r} is truncated")
            arr = np.frombuffer(data, dtype=dtype)
            arr = arr.reshape(shape, order="F" if fortran else "C").copy()
        files[info.filename[:-4]] = arr
    return files


def _verify(raw, name):
    files = _entries(raw, name)
    if "__manifest__" not in files or "__digest__" not in files:
        raise ValueError(f"{name}: no fastnn manifest (not a fastnn checkpoint)")
    blob = files.pop("__manifest__").tobytes()
    digest = files.pop("__digest__").tobytes().decode(errors="replace")
    if hashlib.sha256(blob).hexdigest() != digest:
        raise ValueError(f"{name}: the manifest does not match its digest (altered file)")
    try:
        man = json.loads(blob)
    except (ValueError, RecursionError):
        raise ValueError(f"{name}: unreadable manifest") from None
    if not isinstance(man, dict) or man.get("format") != FORMAT:
        raise ValueError(f"{name}: not a fastnn checkpoint")
    if man.get("format_version") not in (1, FORMAT_VERSION):
        raise ValueError(f"{name}: format version {man.get('format_version')} is not supported "
                         f"(this fastnn reads versions 1 and {FORMAT_VERSION})")
    want = man.get("arrays", {})
    if not isinstance(want, dict) or set(want) != set(files):
        raise ValueError(f"{name}: its arrays do not match the manifest (altered file)")
    for k, v in files.items():
        w = want[k]
        sha = w if isinstance(w, str) else w.get("sha256") if isinstance(w, dict) else None
        if isinstance(w, dict) and (list(v.shape) != w.get("shape") or str(v.dtype) != w.get("dtype")):
            raise ValueError(f"{name}: array {k!r} is {v.shape} {v.dtype}, the manifest says {w.get('shape')} "
                             f"{w.get('dtype')} (altered file)")
        if _sha(v) != sha:
            raise ValueError(f"{name}: array {k!r} fails its checksum (altered or corrupted)")
    return man, files


def _model_from(man, files, name):
    sd = {k[len("model/"):]: v for k, v in files.items() if k.startswith("model/")}
    expected = _expected_state(man["architecture"])
    for k, shape in expected.items():
        if k not in sd or tuple(sd[k].shape) != shape:
            got = tuple(sd[k].shape) if k in sd else "nothing"
            raise ValueError(f"{name}: its architecture needs {k} of shape {shape}, the file holds {got} "
                             "(altered file)")
    model = _build(man["architecture"])
    if man.get("dtype"):
        model.to(np.dtype(man["dtype"]))
    model.load_state_dict(sd, strict=True)
    params = dict(model.named_parameters())
    for n in man.get("frozen", []):
        params[n].requires_grad = False
    mods = dict(model.named_modules())
    for n in man.get("frozen_modules", []):
        if isinstance(n, str) and n in mods:
            mods[n].__dict__["_frozen"] = True
    for n, (l1, l2) in man.get("regularizers", {}).items():
        params[n].regularizer = regularizers.Regularizer(l1, l2)
    for n, (base, calls) in man.get("streams", {}).items():
        m = mods.get(n)
        if m is not None and hasattr(m, "_calls"):
            m._base, m._calls = int(base) & ((1 << 64) - 1), max(0, int(calls))
    if "training" in man:  # the mode it was saved in (a model saved in eval mode loads in eval mode)
        model.train(bool(man["training"]))
    return model


def _optimizer_state(man, files):
    o = man.get("optimizer")
    if not o:
        return None
    if "state" in o:
        return _decode(o["state"], files)
    state = {}  # format version 1
    for i, sc in o["scalars"].items():
        state[int(i)] = _decode_v1(sc)
    for k, v in files.items():
        if k.startswith("optim/"):
            _, i, nm = k.split("/", 2)
            state.setdefault(int(i), {})[nm] = v
    return {"state": state, "param_groups": _decode_v1(o["param_groups"])}


def _decode_v1(v):
    if isinstance(v, dict):
        if "__regularizer__" in v:
            return regularizers.Regularizer(*v["__regularizer__"])
        if "__tuple__" in v:
            return tuple(_decode_v1(x) for x in v["__tuple__"])
        return {k: _decode_v1(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_decode_v1(x) for x in v]
    return v


def _guard(fn, name):
    """Run a reader step; every failure caused by the file's content becomes ValueError."""
    try:
        return fn()
    except ValueError:
        raise
    except (KeyError, TypeError, IndexError, AttributeError, RuntimeError, RecursionError, NotImplementedError,
            OverflowError, UnicodeDecodeError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{name}: not a readable fastnn file ({type(e).__name__}: {e})") from None
