"""A local model zoo: named, versioned pretrained models to reuse (fastnn.transfer).

Nothing can be downloaded, so every built-in entry is a deterministic recipe over data that ships with
a package (scikit-learn's digits, MNIST-1D from the `mnist1d` package): the first `load(name)` builds
it (a progress bar; seconds), later ones read the cached file in milliseconds. The cache lives under
$FASTNN_HOME (default ~/.cache/fastnn, or $XDG_CACHE_HOME/fastnn) in zoo/<name>-v<version>/: the model
(architecture + weights, fastnn's checkpoint format) and manifest.json (architecture, recipe, data,
accuracy reached, SHA-256 of the file). Every load checks the file against that checksum.

    zoo.list()                      # entries, built or not
    model = zoo.load("digits-cnn-0to4")
    zoo.register("my-net", "my_net.pt")   # a checkpoint of your own, then zoo.load("my-net")

Command line: ``fastnn zoo list | build NAME | info NAME | path NAME``.
"""
import builtins
import hashlib
import json
import os
import sys
import tempfile
import time
from collections import OrderedDict

import numpy as np

from . import _digits as _digits_data
from ._version import __version__
from .training.callbacks import Callback

__all__ = ["names", "list", "info", "path", "build", "load", "register", "home"]

MODEL_FILE, MANIFEST = "model.fnn", "manifest.json"


# ---- the built-in recipes ----
def _digits(classes=None):
    return _digits_data.split(0, classes=classes)


def _mlp_digits(progress):
    from . import nn, optim
    from .nn.container import mlp
    from .tensor import manual_seed
    from .training import evaluate, fit

    manual_seed(0)
    Xtr, ytr, Xte, yte = _digits(range(5))
    model = mlp(64, (128, 64), 5, nn.ELU, init="he_normal", batch_norm=True, dropout=0.2, named=True)
    fit(model, Xtr, ytr, loss=nn.CrossEntropyLoss(), optimizer=optim.SGD(model.parameters(), lr=0.05, momentum=0.9,
                                                                         nesterov=True),
        epochs=40, batch_size=32, seed=0, verbose=0, callbacks=[progress])
    return model, {"test_accuracy": evaluate(model, Xte, yte, loss=nn.CrossEntropyLoss())["accuracy"]}


def _cnn_digits(progress):
    from . import nn, optim
    from .tensor import manual_seed
    from .training import evaluate, fit

    manual_seed(0)
    Xtr, ytr, Xte, yte = _digits(range(5))
    Xtr, Xte = Xtr.reshape(-1, 1, 8, 8), Xte.reshape(-1, 1, 8, 8)
    model = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 32, 3, padding=1)), ("bn1", nn.BatchNorm2d(32)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(32, 64, 3, padding=1)), ("bn2", nn.BatchNorm2d(64)), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(64, 64, 3, padding=1)), ("bn3", nn.BatchNorm2d(64)), ("relu3", nn.ReLU()),
        ("pool3", nn.MaxPool2d(2)), ("flatten", nn.Flatten()), ("dropout", nn.Dropout(0.2)),
        ("fc", nn.Linear(64 * 2 * 2, 5))]))
    fit(model, Xtr, ytr, loss=nn.CrossEntropyLoss(), optimizer=optim.Adam(model.parameters(), lr=3e-3), epochs=15,
        batch_size=32, seed=0, verbose=0, callbacks=[progress])
    return model, {"test_accuracy": evaluate(model, Xte, yte, loss=nn.CrossEntropyLoss())["accuracy"]}


def _cnn_mnist1d(progress):
    from . import nn, optim
    from .tensor import manual_seed
    from .training import evaluate, fit

    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise RuntimeError("this zoo entry is built from MNIST-1D: pip install mnist1d") from None
    manual_seed(0)
    d = make_dataset(get_dataset_args())
    Xtr, ytr = d["x"].astype(np.float32), d["y"].astype(np.int64)
    Xte, yte = d["x_test"].astype(np.float32), d["y_test"].astype(np.int64)
    model = nn.Sequential(OrderedDict([
        ("unflatten", nn.Unflatten(1, (1, 40))),
        ("conv1", nn.Conv1d(1, 25, 5, stride=2, padding=1)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv1d(25, 25, 3, stride=2, padding=1)), ("relu2", nn.ReLU()),
        ("conv3", nn.Conv1d(25, 25, 3, stride=2, padding=1)), ("relu3", nn.ReLU()),
        ("flatten", nn.Flatten()), ("linear", nn.Linear(25 * 5, 10))]))
    fit(model, Xtr, ytr, loss=nn.CrossEntropyLoss(), optimizer=optim.Adam(model.parameters(), lr=1e-2), epochs=200,
        batch_size=100, seed=0, verbose=0, callbacks=[progress])
    return model, {"test_accuracy": evaluate(model, Xte, yte, loss=nn.CrossEntropyLoss())["accuracy"]}


def _autoencoder_digits(progress):
    from . import nn, optim
    from .tensor import manual_seed
    from .training import evaluate, fit

    manual_seed(0)
    Xtr, _, Xte, _ = _digits()
    model = nn.Sequential(OrderedDict([
        ("enc1", nn.Linear(64, 128)), ("enc_act1", nn.ELU()), ("enc2", nn.Linear(128, 32)), ("enc_act2", nn.ELU()),
        ("dec1", nn.Linear(32, 128)), ("dec_act1", nn.ELU()), ("dec2", nn.Linear(128, 64)), ("dec_out", nn.Sigmoid())]))
    fit(model, Xtr, Xtr, loss=nn.MSELoss(), optimizer=optim.Adam(model.parameters(), lr=1e-3), epochs=60,
        batch_size=32, seed=0, verbose=0, metrics=(), callbacks=[progress])
    mse = evaluate(model, Xte, Xte, loss=nn.MSELoss(), metrics=())["loss"]
    return model, {"test_reconstruction_mse": mse, "baseline_mse_of_the_mean_image": float(
        np.mean((Xte - Xtr.mean(axis=0)) ** 2))}


_DIGITS_DATA = ("scikit-learn's handwritten digits (1797 8x8 images), pixels / 16; the first 20 % of a "
                "permutation with seed 0 held out for testing")
_ENTRIES = OrderedDict([
    ("digits-mlp-0to4", dict(
        version=1, build=_mlp_digits,
        description="The course's default network (He init, batch norm, ELU, dropout, Nesterov) trained on "
                    "digits 0-4: a model trained on other categories, to reuse for 5-9.",
        data=_DIGITS_DATA + "; classes 0-4 only.", input="64 pixel values in [0, 1] (an 8x8 image flattened)",
        recipe={"loss": "cross-entropy", "optimizer": "SGD(lr=0.05, momentum=0.9, nesterov=True)", "epochs": 40,
                "batch_size": 32, "seed": 0})),
    ("digits-cnn-0to4", dict(
        version=1, build=_cnn_digits,
        description="A small CNN (three 3x3 conv blocks with batch norm, ReLU and max-pooling) trained on digits "
                    "0-4; reuse its layers up to 'flatten' as image features.",
        data=_DIGITS_DATA + "; classes 0-4 only.", input="1x8x8 images, pixels in [0, 1]",
        recipe={"loss": "cross-entropy", "optimizer": "Adam(lr=3e-3)", "epochs": 15, "batch_size": 32, "seed": 0})),
    ("mnist1d-cnn", dict(
        version=1, build=_cnn_mnist1d,
        description="The MNIST-1D paper's ConvBase: three Conv1d layers of 25 channels and a linear head.",
        data="MNIST-1D generated by the mnist1d package with its default arguments (4000 training / 1000 test "
             "sequences of length 40)", input="40 values (the sequence; unflattened to 1x40 inside)",
        recipe={"loss": "cross-entropy", "optimizer": "Adam(lr=1e-2)", "epochs": 200, "batch_size": 100,
                "steps": 8000, "seed": 0})),
    ("digits-autoencoder", dict(
        version=1, build=_autoencoder_digits,
        description="An autoencoder 64-128-32-128-64 (ELU, sigmoid output) on all ten digits; its encoder is the "
                    "layers up to 'enc_act2'.",
        data=_DIGITS_DATA + "; all classes.", input="64 pixel values in [0, 1]",
        recipe={"loss": "MSE (reconstruction)", "optimizer": "Adam(lr=1e-3)", "epochs": 60, "batch_size": 32,
                "seed": 0})),
])


# ---- the cache ----
def home():
    """The root of fastnn's cache: $FASTNN_HOME, else $XDG_CACHE_HOME/fastnn, else ~/.cache/fastnn."""
    h = os.environ.get("FASTNN_HOME")
    if h:
        return os.path.abspath(os.path.expanduser(h))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fastnn")


def _plain(name):
    """A name that stays one directory level inside the zoo (no separators, no dot files, no '..')."""
    return (isinstance(name, str) and bool(name) and name == os.path.basename(name) and "/" not in name
            and "\\" not in name and not name.startswith(".") and name != "registered.json" and "\0" not in name)


def _user_index():
    """The registry of user checkpoints; entries whose names could leave the zoo directory are ignored."""
    p = os.path.join(home(), "zoo", "registered.json")
    try:
        with open(p) as f:
            data = json.load(f)
        return {k: v for k, v in data.items() if _plain(k)} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def names():
    """Every entry: the built-in recipes, then the checkpoints registered by the user."""
    return builtins.list(_ENTRIES) + [n for n in _user_index() if n not in _ENTRIES]


def _check_name(name):
    if not isinstance(name, str) or name not in names():
        raise KeyError(f"no zoo entry named {name!r}; entries: {', '.join(names())}")
    return name


def _entry_dir(name):
    if name in _ENTRIES:
        return os.path.join(home(), "zoo", f"{name}-v{_ENTRIES[name]['version']}")
    return os.path.join(home(), "zoo", "user", name)


def _writable_dir(name):
    """The entry's directory, created, refused when it (or a link inside the path) leads out of the zoo: a
    symlinked entry must not make the zoo write elsewhere."""
    d = _entry_dir(name)
    os.makedirs(d, exist_ok=True)
    root = os.path.realpath(os.path.join(home(), "zoo"))
    real = os.path.realpath(d)
    if os.path.commonpath([root, real]) != root or os.path.islink(d):
        raise ValueError(f"zoo entry {name!r}: its directory {d} leads outside the zoo ({real}); remove the link")
    return d


def path(name):
    """Where the entry's model file is (or will be, once built)."""
    return _file(_check_name(name))


def _file(name):
    return os.path.join(_entry_dir(name), MODEL_FILE)


def _sha256(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _manifest(name):
    try:
        with open(os.path.join(_entry_dir(name), MANIFEST)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_json(p, obj):
    os.makedirs(os.path.dirname(p), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(p), prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=1)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def info(name):
    """The entry's description, recipe and data; once built, also its manifest (accuracy reached,
    checksum, build time)."""
    _check_name(name)
    if name in _ENTRIES:
        e = _ENTRIES[name]
        out = {"name": name, "version": e["version"], "description": e["description"], "data": e["data"],
               "input": e["input"], "recipe": e["recipe"], "source": "recipe"}
    else:
        out = dict(_user_index()[name])
    man = _manifest(name)
    out["built"] = man is not None and os.path.exists(path(name))
    if man:
        out.update({k: man[k] for k in ("metrics", "sha256", "architecture", "fastnn_version", "built_at",
                                       "build_seconds") if k in man})
    out["path"] = path(name)
    return out


def list():  # noqa: A001  (the zoo's own verb)
    """Every entry with whether it is built."""
    return [info(n) for n in names()]


class _Progress(Callback):
    """A one-line progress bar over fit's epochs (on `stream`; nothing when it is None)."""

    def __init__(self, name, stream=None):
        if stream is not None and not (hasattr(stream, "isatty") and stream.isatty()):
            stream = None  # a log, not a terminal: only the closing line
        self.name, self.stream, self.t0, self.last = name, stream, time.perf_counter(), 0.0

    def on_epoch_end(self, epoch, logs):
        if self.stream is None:
            return
        total = getattr(self.trainer, "epochs", None) or epoch + 1
        now = time.perf_counter()
        if now - self.last < 0.1 and epoch + 1 < total:
            return
        self.last = now
        done = int(30 * (epoch + 1) / total)
        self.stream.write(f"\rbuilding zoo entry {self.name}: [{'=' * done}{' ' * (30 - done)}] epoch {epoch + 1}/"
                          f"{total}  {time.perf_counter() - self.t0:.1f} s")
        self.stream.flush()

    def on_train_end(self, logs):
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


def build(name, *, force=False, verbose=1):
    """Build a built-in entry from its recipe into the cache (again with force=True) and return the model.
    The same recipe on the same machine gives bitwise the same weights (fixed seeds, thread-count
    invariant kernels)."""
    from .checkpoint import save

    _check_name(name)
    if name not in _ENTRIES:
        raise ValueError(f"{name!r} is a registered checkpoint, not a recipe: nothing to build")
    if not force and _manifest(name) and os.path.exists(path(name)):
        return load(name)
    e = _ENTRIES[name]
    t0 = time.perf_counter()
    from ._random import default_generator

    state = default_generator.get_state()  # a recipe seeds the global generator: the caller's stream resumes
    try:
        model, metrics = e["build"](_Progress(name, sys.stderr if verbose else None))
    finally:
        default_generator.set_state(state)
    model.eval()
    d = _writable_dir(name)
    save(model, os.path.join(d, MODEL_FILE), extra={"zoo": name, "version": e["version"]})
    man = {"name": name, "version": e["version"], "description": e["description"], "data": e["data"],
           "input": e["input"], "recipe": e["recipe"], "metrics": metrics, "architecture": repr(model),
           "file": MODEL_FILE, "sha256": _sha256(path(name)), "fastnn_version": __version__,
           "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "build_seconds": round(time.perf_counter() - t0, 2), "source": "recipe"}
    _write_json(os.path.join(d, MANIFEST), man)
    if verbose:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        print(f"zoo entry {name} built in {man['build_seconds']:.1f} s ({shown}): {path(name)}", file=sys.stderr)
    return model


def load(name, *, verbose=1):
    """The entry's model (in eval mode), built first if it is a recipe not yet in the cache. The file is
    checked against the SHA-256 its manifest recorded: an altered entry is refused (ValueError)."""
    from .checkpoint import load as load_file

    _check_name(name)
    man = _manifest(name)
    p = path(name)
    if man is None or not os.path.exists(p):
        if name in _ENTRIES:
            return build(name, verbose=verbose)
        raise FileNotFoundError(f"zoo entry {name!r}: its file {p} is missing (register it again)")
    if _sha256(p) != man.get("sha256"):
        fix = f"zoo.build({name!r}, force=True)" if name in _ENTRIES else f"zoo.register({name!r}, ..., overwrite=True)"
        raise ValueError(f"zoo entry {name!r}: {p} does not match the SHA-256 recorded when it was stored "
                         f"(altered or corrupted); rebuild it with {fix}")
    model = load_file(p)
    model.eval()
    return model


def register(name, file, *, description="", metrics=None, overwrite=False):
    """Add a checkpoint of your own (a model saved with fastnn.save(model, file)) under `name`: it is
    copied into the zoo with a manifest and its SHA-256, and loads with zoo.load(name)."""
    import shutil

    from .checkpoint import load as load_file
    from .nn import Module

    if not _plain(name):
        raise ValueError(f"name: expected a plain non-empty name, got {name!r}")
    if name in _ENTRIES:
        raise ValueError(f"name: {name!r} is a built-in entry")
    if name in _user_index() and not overwrite:
        raise ValueError(f"name: {name!r} is already registered (overwrite=True replaces it)")
    model = load_file(file)  # refuses anything that is not a valid checkpoint
    if not isinstance(model, Module):
        raise ValueError(f"file: {file!r} holds a {type(model).__name__}, not a model saved with fastnn.save(model)")
    d = _writable_dir(name)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    os.close(fd)
    try:
        shutil.copyfile(file, tmp)
        os.replace(tmp, os.path.join(d, MODEL_FILE))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    man = {"name": name, "version": 1, "description": str(description), "metrics": dict(metrics or {}),
           "architecture": repr(model), "file": MODEL_FILE, "sha256": _sha256(_file(name)),
           "fastnn_version": __version__, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "source": os.path.abspath(os.fspath(file))}
    _write_json(os.path.join(d, MANIFEST), man)
    index = _user_index()
    index[name] = {"name": name, "version": 1, "description": str(description), "source": man["source"]}
    _write_json(os.path.join(home(), "zoo", "registered.json"), index)
    return man

