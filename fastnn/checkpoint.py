"""Saving and loading: ``fastnn.save(obj, f)`` / ``fastnn.load(f)`` take what torch's do.

What can be saved:

* a model built from fastnn layers -- its architecture and weights (plus, optionally, the optimizer
  and scheduler state, the epoch and extra JSON metadata): ``fastnn.load(path)`` rebuilds it from the
  file alone (a local model zoo);
* a ``state_dict`` or any dict / list / tuple of tensors, arrays, numbers, strings and None
  (``optimizer.state_dict()`` included);
* anything else (a whole model of a custom class, an object of your own) is pickled, as torch.save does,
  and -- as in torch >= 2.6 -- loads only with ``weights_only=False``.

Files ending in ``.safetensors`` are written in that format (a flat dict of named tensors: a state dict;
readable by the ``safetensors`` package), data saved to ``.pt`` / ``.pth`` in PyTorch's own zip format
(``torch.load(f, weights_only=True)`` reads it; a model itself stays in fastnn's format, which keeps its
architecture); ``format=`` chooses explicitly. ``fastnn.load`` recognises all three by their content, and
reads what ``torch.save`` wrote through a restricted unpickler that runs nothing from the file.

fastnn's own format: an uncompressed NumPy .npz archive holding the arrays, a JSON manifest (format version, fastnn
version, what the file holds, the shape and dtype and SHA-256 of every array) and the SHA-256 of the
manifest. Reading never executes code from the file unless weights_only=False is given for a pickled
object. Before anything is allocated, the archive's entries are checked against the file size (no
compressed entries), the manifest and the .npy headers, and a model's architecture against the arrays
it must receive: a truncated, tampered, foreign or oversized file is refused with ValueError in
milliseconds. Writes go to a temporary file in the same directory that is renamed into place (with
the user's umask), so a crash never leaves half a file.
"""
import io
import os
import pickle
from collections import OrderedDict

import numpy as np

from . import _safetensors, _torchfile, nn
from ._archive import (  # noqa: F401
    FORMAT,
    FORMAT_VERSION,
    UnstorableState,
    _decode,
    _decode_v1,
    _encode,
    _guard,
    _model_from,
    _model_manifest,
    _optimizer_state,
    _read_bytes,
    _serializable,
    _Unencodable,
    _verify,
    _write,
    write_atomic,
)
from ._version import __version__
from .tensor import Tensor, _wrap

FORMATS = ("fastnn", "torch", "safetensors")


def save(obj, f, *, optimizer=None, scheduler=None, epoch=None, extra=None, format=None, pickle_module=None,
         pickle_protocol=4, _use_new_zipfile_serialization=True):
    """Write obj to f atomically (a temporary file renamed into place; a crash leaves the old file).

    Parameters
    ----------
    obj : Module, state_dict, or data
        A model of fastnn layers is stored as its architecture and weights -- loadable with no code
        run. A state_dict, dict, list or tuple of tensors, arrays, numbers and strings is stored as
        data. Anything else is pickled (torch.save's behaviour); such a file loads only with
        ``weights_only=False``.
    f : str, path or writable binary file
    optimizer, scheduler : optional
        Their state is stored beside a model (to resume training exactly).
    epoch : int, optional
    extra : dict, optional
        JSON-able metadata.
    format : {"fastnn", "torch", "safetensors"}, optional
        The file format; by default from f's name: ``.safetensors`` -> safetensors (a dict of named
        tensors; a model gives its state_dict), ``.pt`` / ``.pth`` -> PyTorch's zip format for data of
        tensors, numbers, strings, lists, tuples and dicts (a model, or data holding anything else --
        NumPy values included, which torch's format would give back as tensors -- is written in
        fastnn's format), anything else -> fastnn's format.
    pickle_module, pickle_protocol, _use_new_zipfile_serialization
        Accepted for torch.save's signature.

    Examples
    --------
    >>> fastnn.save(model, "model.npz", optimizer=opt, epoch=10)
    >>> fastnn.save(model.state_dict(), "weights.pt")           # PyTorch's format: torch.load reads it
    >>> fastnn.save(model.state_dict(), "weights.safetensors")  # safetensors
    """
    fmt = _format_of(f, format)
    if fmt != "fastnn":
        done = _save_foreign(obj, f, fmt, explicit=format is not None,
                             extras=(optimizer, scheduler, epoch, extra))
        if done is not None:
            return done
    arrays = {}
    if isinstance(obj, nn.Module) and _serializable(obj):
        manifest = _model_manifest(obj, arrays, optimizer, scheduler, epoch, extra)
        return _write(f, arrays, manifest)
    if optimizer is not None or scheduler is not None:
        raise TypeError("optimizer=, scheduler=: only with a model of fastnn layers (save their state_dict() "
                        "inside a dict otherwise)")
    base = {"format": FORMAT, "format_version": FORMAT_VERSION, "fastnn_version": __version__}
    try:
        base.update(kind="object", object=_encode(obj, arrays))
    except _Unencodable:
        blob = _pickled(obj, pickle_protocol)
        arrays = {"pickle": np.frombuffer(blob, np.uint8)}
        base.update(kind="pickle", type=f"{type(obj).__module__}.{type(obj).__qualname__}")
    return _write(f, arrays, base)


def _format_of(f, fmt):
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
        return fmt
    name = getattr(f, "name", "") if hasattr(f, "write") else f
    name = os.fspath(name).lower() if isinstance(name, (str, os.PathLike)) else ""
    return "safetensors" if name.endswith(".safetensors") else "torch" if name.endswith((".pt", ".pth")) else "fastnn"


def _arrays(v, depth=0):
    """obj with its tensors as NumPy arrays (containers kept)."""
    if depth > 100:
        return v
    if isinstance(v, Tensor):
        return np.array(v._a, order="C")
    if isinstance(v, dict):
        return type(v)((k, _arrays(x, depth + 1)) for k, x in v.items()) if type(v) in (dict, OrderedDict) else v
    if isinstance(v, (list, tuple)) and type(v) in (list, tuple):
        return type(v)(_arrays(x, depth + 1) for x in v)
    return v


def _numpy_inside(v, depth=0):
    if isinstance(v, (np.ndarray, np.generic)):
        return True
    if depth > 100:
        return False
    if isinstance(v, dict):
        return any(_numpy_inside(x, depth + 1) for x in v.values())
    if isinstance(v, (list, tuple)):
        return any(_numpy_inside(x, depth + 1) for x in v)
    return False


def _tensors(v):
    """The inverse: arrays read from a foreign file as fastnn tensors."""
    if isinstance(v, np.ndarray):
        return _wrap(v)
    if isinstance(v, dict):
        return type(v)((k, _tensors(x)) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return type(v)(_tensors(x) for x in v)
    return v


def _save_foreign(obj, f, fmt, explicit, extras):
    """Write obj as safetensors or a torch.save archive; None when a .pt name's data must fall back to
    fastnn's format (a model, or something torch's format cannot hold without pickling a class)."""
    if any(x is not None for x in extras):
        if explicit or fmt == "safetensors":
            raise TypeError(f"optimizer=, scheduler=, epoch=, extra=: only in fastnn's format, not {fmt}")
        return None
    if fmt == "safetensors":
        sd = obj.state_dict() if isinstance(obj, nn.Module) else obj
        try:
            blob = _safetensors.dumps(_arrays(sd), metadata={"format": "pt"})
        except TypeError as e:
            raise TypeError(f"obj: {e}") from None
        return write_atomic(f, lambda fh: fh.write(blob))
    if isinstance(obj, nn.Module):
        if explicit:
            raise TypeError("obj: PyTorch's format holds a model only as a pickle of its class; save "
                            "model.state_dict() in it (or the model in fastnn's format)")
        return None
    if not explicit and _numpy_inside(obj):
        return None  # torch's format would give NumPy values back as tensors: fastnn's keeps them
    try:
        blob = _torchfile.dumps(_arrays(obj))
    except TypeError as e:
        if explicit:
            raise TypeError(f"obj: PyTorch's format (without pickling classes) cannot hold {e}") from None
        return None
    return write_atomic(f, lambda fh: fh.write(blob))


def _foreign(raw, name):
    """What a torch.save or safetensors file holds (tensors as fastnn tensors), or None for another file."""
    if _torchfile.is_torch_file(raw):
        return _tensors(_torchfile.read(raw, name))
    if _safetensors.is_safetensors(raw):
        return OrderedDict((k, _wrap(a)) for k, a in _safetensors.read(raw, name)[0].items())
    return None


def _pickled(obj, protocol):
    try:
        return pickle.dumps(obj, protocol=protocol)
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        what = "model" if isinstance(obj, nn.Module) else "object"
        raise TypeError(f"cannot save its architecture: the {what} holds a custom class and cannot be pickled either "
                        f"({e}); save model.state_dict() instead (it always loads safely), or define the "
                        "class at module level") from None


# ---- reading ----
class Checkpoint:
    """What a model checkpoint holds: model, optimizer_state, scheduler_state, epoch, extra, manifest;
    for a ``ModelCheckpoint`` file also ``seed`` and ``next_epoch``, what ``fit`` needs to resume exactly."""

    def __init__(self, model, optimizer_state, scheduler_state, epoch, extra, manifest):
        self.model, self.optimizer_state, self.scheduler_state = model, optimizer_state, scheduler_state
        self.epoch, self.extra, self.manifest = epoch, extra, manifest

    @property
    def seed(self):
        return (self.extra or {}).get("seed") if isinstance(self.extra, dict) else None

    @property
    def next_epoch(self):
        e = (self.extra or {}).get("next_epoch") if isinstance(self.extra, dict) else None
        return e if e is not None else (self.epoch + 1 if self.epoch is not None else 0)

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


# Classes that moved between fastnn's modules: a pickle written by an earlier version names the old place.
_MOVED = {("fastnn.nn.module", n): "fastnn.nn.container" for n in
          ("Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict")}
_MOVED.update({("fastnn.nn.module", "Flatten"): "fastnn.nn.flatten",
               ("fastnn.nn.module", "Unflatten"): "fastnn.nn.flatten",
               ("fastnn.nn.module", "Identity"): "fastnn.nn.linear"})


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        return super().find_class(_MOVED.get((module, name), module), name)


def load_checkpoint(f):
    """Read and verify a model checkpoint; rebuild its model. ValueError for a truncated, altered,
    foreign or oversized file (nothing is built from it)."""
    raw, name = _read_bytes(f)
    if _torchfile.is_torch_file(raw) or _safetensors.is_safetensors(raw):
        raise ValueError(f"{name}: a state dict in {'PyTorch' if raw[:2] == b'PK' else 'safetensors'} format, not "
                         "a model checkpoint: build the model and call model.load_state_dict(fastnn.load(f))")
    man, files = _guard(lambda: _verify(raw, name), name)
    kind = man.get("kind", "model")
    if kind != "model":
        raise ValueError(f"{name}: it holds a {'pickled object' if kind == 'pickle' else 'saved object'}, "
                         "not a model checkpoint (read it with fastnn.load)")

    def build():
        model = _model_from(man, files, name)
        sched = man.get("scheduler")
        sched_state = None
        if sched:
            v2 = man.get("format_version", 1) >= 2
            sched_state = _decode(sched["state"], files) if v2 else _decode_v1(sched["state"])
        extra = man.get("extra")
        extra = _decode(extra, files) if man.get("format_version", 1) >= 2 else _decode_v1(extra)
        return Checkpoint(model, _optimizer_state(man, files), sched_state, man.get("epoch"), extra, man)
    return _guard(build, name)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Read what fastnn.save wrote -- or what torch.save wrote (a state dict or data of tensors, through
    a restricted unpickler: a file naming any other Python global is refused with ValueError and runs
    nothing), or a safetensors file.

    Parameters
    ----------
    f : str, path or readable binary file
    map_location : optional
        Accepted for torch.load's signature ("cpu" is the only device).
    weights_only : bool, optional
        A pickled object (a custom-class model) loads only with ``weights_only=False``, because
        unpickling can run code from the file (torch >= 2.6's rule); everything else loads without.
    pickle_module, mmap, **pickle_load_args
        Accepted for torch.load's signature.

    Returns
    -------
    Module or data
        A model checkpoint gives the model, rebuilt from the file alone; saved data gives the data
        (tensors, arrays, dicts, ...); a PyTorch file its data with fastnn tensors (bfloat16 read as
        float32); a safetensors file an OrderedDict of tensors. A corrupt, truncated or tampered file
        raises ValueError.
    """
    raw, name = _read_bytes(f)
    foreign = _foreign(raw, name)
    if foreign is not None:
        return foreign
    man, files = _guard(lambda: _verify(raw, name), name)
    kind = man.get("kind", "model")
    if kind == "model":
        return _guard(lambda: _model_from(man, files, name), name)
    if kind == "object":
        return _guard(lambda: _decode(man["object"], files), name)
    if kind == "graph":  # what fastnn.jit.save wrote
        from . import jit
        return _guard(lambda: jit._graph_from(man, files, name), name)
    if kind == "pickle":
        if weights_only is None or weights_only:
            raise ValueError(f"{name}: it holds a pickled {man.get('type', 'object')} (a whole model of a custom "
                             "class, or another Python object); unpickling can execute code from the file. Load it "
                             "with fastnn.load(f, weights_only=False) only if you trust its source -- or save "
                             "model.state_dict() instead, which loads safely.")
        return _Unpickler(io.BytesIO(files["pickle"].tobytes())).load()
    raise ValueError(f"{name}: unknown content kind {kind!r}")
