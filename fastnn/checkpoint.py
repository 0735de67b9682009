"""Saving and loading: ``fastnn.save(obj, f)`` / ``fastnn.load(f)`` take what torch's do.

What can be saved:

* a model built from fastnn layers -- its architecture and weights (plus, optionally, the optimizer
  and scheduler state, the epoch and extra JSON metadata): ``fastnn.load(path)`` rebuilds it from the
  file alone (a local model zoo);
* a ``state_dict`` or any dict / list / tuple of tensors, arrays, numbers, strings and None
  (``optimizer.state_dict()`` included);
* anything else (a whole model of a custom class, an object of your own) is pickled, as torch.save does,
  and -- as in torch >= 2.6 -- loads only with ``weights_only=False``.

Format: an uncompressed NumPy .npz archive holding the arrays, a JSON manifest (format version, fastnn
version, what the file holds, the shape and dtype and SHA-256 of every array) and the SHA-256 of the
manifest. Reading never executes code from the file unless weights_only=False is given for a pickled
object. Before anything is allocated, the archive's entries are checked against the file size (no
compressed entries), the manifest and the .npy headers, and a model's architecture against the arrays
it must receive: a truncated, tampered, foreign or oversized file is refused with ValueError in
milliseconds. Writes go to a temporary file in the same directory that is renamed into place (with
the user's umask), so a crash never leaves half a file.
"""
import io
import pickle

import numpy as np

from . import nn
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
)
from ._version import __version__


def save(obj, f, *, optimizer=None, scheduler=None, epoch=None, extra=None, pickle_module=None,
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
    pickle_module, pickle_protocol, _use_new_zipfile_serialization
        Accepted for torch.save's signature.

    Examples
    --------
    >>> fastnn.save(model, "model.npz", optimizer=opt, epoch=10)
    >>> fastnn.save(model.state_dict(), "weights.pt")
    """
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
    """Read what fastnn.save wrote.

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
        (tensors, arrays, dicts, ...). A corrupt, truncated or tampered file raises ValueError.
    """
    raw, name = _read_bytes(f)
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
