"""Checkpoint files: a model's arrays and its architecture, optionally the optimizer and scheduler
state, the epoch and extra JSON metadata, in one file.

Format: an uncompressed NumPy .npz archive (read with allow_pickle=False: loading never executes code
from the file) holding the arrays, a JSON manifest (format version, fastnn version, architecture
config, dtype, frozen parameters, regularizers, optimizer hyperparameters, scheduler state, epoch,
extra, and the SHA-256 of every array) and the SHA-256 of the manifest. A truncated or altered file
is refused with ValueError before anything is built. Writes go to a temporary file in the same
directory that is renamed into place, so a crash never leaves half a checkpoint.

``fastnn.load(path)`` rebuilds the model from the file alone -- a local model zoo.
"""
import hashlib
import io
import json
import os
import tempfile
import zipfile

import numpy as np

from . import __version__, nn, regularizers

FORMAT = "fastnn-checkpoint"
FORMAT_VERSION = 1


def _sha(a):
    a = np.array(a, order="C")  # (ascontiguousarray would turn 0-d into 1-d)
    return hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes()).hexdigest()


def _jsonable(v):
    if isinstance(v, regularizers.Regularizer):
        return {"__regularizer__": [v.l1, v.l2]}
    if isinstance(v, tuple):
        return {"__tuple__": [_jsonable(x) for x in v]}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def _from_json(v):
    if isinstance(v, dict):
        if "__regularizer__" in v:
            l1, l2 = v["__regularizer__"]
            return regularizers.Regularizer(l1, l2)
        if "__tuple__" in v:
            return tuple(_from_json(x) for x in v["__tuple__"])
        return {k: _from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    return v


def _architecture(model):
    try:
        return {"class": type(model).__name__, "config": model.get_config()}
    except TypeError as e:
        raise TypeError(f"model: cannot save its architecture ({e})") from None


def save(model, path, *, optimizer=None, scheduler=None, epoch=None, extra=None):
    """Write model (and optionally optimizer, scheduler, epoch, extra) to `path` atomically."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a fastnn Module, got {type(model).__name__}")
    arrays = {}
    for k, v in model.state_dict().items():
        arrays[f"model/{k}"] = np.array(v, order="C")
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "fastnn_version": __version__,
        "architecture": _architecture(model), "dtype": str(model.dtype) if model.dtype else None,
        "frozen": [n for n, p in model.named_parameters() if not p.requires_grad],
        "regularizers": {n: [p.regularizer.l1, p.regularizer.l2] for n, p in model.named_parameters()
                         if p.regularizer is not None},
        "epoch": epoch, "extra": _jsonable(extra) if extra is not None else None,
        "optimizer": None, "scheduler": None,
    }
    if optimizer is not None:
        sd = optimizer.state_dict()
        for i, st in sd["state"].items():
            for name, v in st.items():
                if isinstance(v, np.ndarray):
                    arrays[f"optim/{i}/{name}"] = np.array(v, order="C")
        manifest["optimizer"] = {
            "class": type(optimizer).__name__,
            "param_groups": _jsonable(sd["param_groups"]),
            "scalars": {str(i): {k: _jsonable(v) for k, v in st.items() if not isinstance(v, np.ndarray)}
                        for i, st in sd["state"].items()},
        }
    if scheduler is not None:
        manifest["scheduler"] = {"class": type(scheduler).__name__, "state": _jsonable(scheduler.state_dict())}
    manifest["arrays"] = {k: _sha(v) for k, v in arrays.items()}
    blob = json.dumps(manifest, allow_nan=True).encode()
    arrays["__manifest__"] = np.frombuffer(blob, np.uint8)
    arrays["__digest__"] = np.frombuffer(hashlib.sha256(blob).hexdigest().encode(), np.uint8)
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fastnn-", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


class Checkpoint:
    """What a checkpoint file holds: model, optimizer_state, scheduler_state, epoch, extra, manifest."""

    def __init__(self, model, optimizer_state, scheduler_state, epoch, extra, manifest):
        self.model, self.optimizer_state, self.scheduler_state = model, optimizer_state, scheduler_state
        self.epoch, self.extra, self.manifest = epoch, extra, manifest

    def restore_optimizer(self, optimizer):
        if self.optimizer_state is None:
            raise ValueError("checkpoint: it holds no optimizer state")
        optimizer.load_state_dict(self.optimizer_state)
        return optimizer

    def restore_scheduler(self, scheduler):
        if self.scheduler_state is None:
            raise ValueError("checkpoint: it holds no scheduler state")
        scheduler.load_state_dict(self.scheduler_state)
        return scheduler


def _build(arch):
    if not isinstance(arch, dict) or "class" not in arch:
        raise ValueError("checkpoint: malformed architecture")
    name, cfg = arch["class"], dict(arch.get("config") or {})
    cls = getattr(nn, name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"checkpoint: unknown layer class {name!r}")
    if cls is nn.Sequential:
        from collections import OrderedDict

        return nn.Sequential(OrderedDict((l["name"], _build(l)) for l in cfg.get("layers", [])))
    if "dtype" in cfg:
        cfg["dtype"] = np.dtype(cfg["dtype"])
    return cls(**cfg)


def load_checkpoint(path):
    """Read and verify a checkpoint file; rebuild its model. ValueError for a truncated, altered or
    foreign file (nothing is built from it)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            files = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise ValueError(f"checkpoint {path!r}: not a readable fastnn checkpoint (truncated or corrupted: {e})") from None
    if "__manifest__" not in files or "__digest__" not in files:
        raise ValueError(f"checkpoint {path!r}: no fastnn manifest (not a fastnn checkpoint)")
    blob = files.pop("__manifest__").tobytes()
    digest = files.pop("__digest__").tobytes().decode(errors="replace")
    if hashlib.sha256(blob).hexdigest() != digest:
        raise ValueError(f"checkpoint {path!r}: the manifest does not match its digest (altered file)")
    try:
        man = json.loads(blob)
    except ValueError:
        raise ValueError(f"checkpoint {path!r}: unreadable manifest") from None
    if man.get("format") != FORMAT:
        raise ValueError(f"checkpoint {path!r}: not a fastnn checkpoint")
    if man.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"checkpoint {path!r}: format version {man.get('format_version')} is not supported "
                         f"(this fastnn reads version {FORMAT_VERSION})")
    want = man.get("arrays", {})
    if set(want) != set(files):
        raise ValueError(f"checkpoint {path!r}: its arrays do not match the manifest (altered file)")
    for k, v in files.items():
        if _sha(v) != want[k]:
            raise ValueError(f"checkpoint {path!r}: array {k!r} fails its checksum (altered or corrupted)")
    model = _build(man["architecture"])
    if man.get("dtype"):
        model.to(np.dtype(man["dtype"]))
    sd = {k[len("model/"):]: v for k, v in files.items() if k.startswith("model/")}
    model.load_state_dict(sd, strict=True)
    params = dict(model.named_parameters())
    for n in man.get("frozen", []):
        params[n].requires_grad = False
    for n, (l1, l2) in man.get("regularizers", {}).items():
        params[n].regularizer = regularizers.Regularizer(l1, l2)
    opt_state = None
    if man.get("optimizer"):
        o = man["optimizer"]
        state = {}
        for i, sc in o["scalars"].items():
            state[int(i)] = _from_json(sc)
        for k, v in files.items():
            if k.startswith("optim/"):
                _, i, name = k.split("/", 2)
                state.setdefault(int(i), {})[name] = v
        opt_state = {"state": state, "param_groups": _from_json(o["param_groups"])}
    sched = _from_json(man["scheduler"]["state"]) if man.get("scheduler") else None
    return Checkpoint(model, opt_state, sched, man.get("epoch"), _from_json(man.get("extra")), man)


def load(path):
    """The model of a checkpoint file, rebuilt from the file alone (architecture and weights)."""
    return load_checkpoint(path).model
