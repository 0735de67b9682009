"""Reusing pretrained layers (transfer learning), as the course's chapter describes it: find a network
trained on a similar task, reuse its lower layers, resize the inputs to what it expects, train a new top
with the reused layers frozen, then perhaps fine-tune everything with a lower learning rate.

    base = transfer.take("digits-cnn-0to4", upto="flatten")          # a zoo name, a checkpoint or a model
    model = transfer.build(base, head=lambda n: nn.Linear(n, 5), input_shape=(1, 8, 8))
    fit(model, X, y, loss="cross_entropy", optimizer=optim.Adam(model.parameters(), 1e-3), epochs=20)
    transfer.unfreeze(model)                                          # fine-tuning
    opt = optim.Adam(transfer.param_groups(model, lr=1e-3, base_lr=1e-4))

`take` always copies: the source model is never modified. The reused layers are frozen with
`Module.freeze()` (parameters and batch-norm statistics constant; see docs/transfer.md for how that
differs from PyTorch's `requires_grad_(False)`), and frozen layers below the lowest trainable one cost
no backward work. `build` returns a plain `nn.Sequential` (children "adapt", "base", "head"), so the
result trains with `fit` or the PyTorch-style loop and saves and loads like any model.
"""
import copy
import os
from collections import OrderedDict

import numpy as np

from . import nn
from .autograd import no_grad
from .tensor import _wrap
from ._checks import positive_int

__all__ = ["take", "build", "input_adapter", "unfreeze", "freeze_base", "param_groups", "output_shape",
           "layer_names", "features"]


def _resolve(source):
    """A model from a Module, a checkpoint path, or a zoo name."""
    if isinstance(source, nn.Module):
        return source
    if isinstance(source, (str, os.PathLike)):
        if os.path.exists(source):
            from .checkpoint import load

            model = load(source)
            if not isinstance(model, nn.Module):
                raise ValueError(f"source: {source!r} holds a {type(model).__name__}, not a model "
                                 "(save the model itself, not its state_dict, to reuse its layers)")
            return model
        from . import zoo

        if source in zoo.names():
            return zoo.load(source)
        raise ValueError(f"source: {source!r} is neither a file nor a zoo entry (zoo: {', '.join(zoo.names())})")
    raise TypeError(f"source: expected a model, a checkpoint path or a zoo name, got {type(source).__name__}")


def _children(model):
    items = [(n, m) for n, m in model._modules.items() if m is not None]
    if not items:
        raise ValueError(f"source: {type(model).__name__} has no layers to reuse")
    return items


def layer_names(source):
    """The names of the source's top-level layers, bottom to top (what take's upto= and names= accept)."""
    return [n for n, _ in _children(_resolve(source))]


def take(source, count=None, *, upto=None, names=None, freeze=True):
    """An independent copy of the lower layers of a model, a checkpoint or a zoo entry.

    Parameters
    ----------
    source : Module, str or path
        A model, a checkpoint path (``fastnn.save``) or a zoo name; it is never modified.
    count : int, optional
        The first `count` top-level layers.
    upto : str or int, optional
        Every layer up to this name or index, included.
    names : list of str, optional
        These top-level layers, in the source's order. With none of the three: every layer.
    freeze : bool, default True
        Freeze the copy (``Module.freeze()``: parameters and buffers constant).

    Returns
    -------
    nn.Sequential
        The layers, keeping their names. For a user module, its top-level layers in the order they
        were registered.

    Examples
    --------
    >>> base = transfer.take("digits-cnn-0to4", upto="flatten")
    """
    model = _resolve(source)
    items = _children(model)
    keys = [n for n, _ in items]
    given = sum(a is not None for a in (count, upto, names))
    if given > 1:
        raise ValueError("take: give one of count=, upto= or names=")
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not 1 <= count <= len(items):
            raise ValueError(f"count: expected an int in [1, {len(items)}], got {count!r}")
        chosen = items[:int(count)]
    elif upto is not None:
        if isinstance(upto, (int, np.integer)) and not isinstance(upto, bool):
            if not -len(items) <= upto < len(items):
                raise ValueError(f"upto: index {upto} is out of range for {len(items)} layers")
            chosen = items[:int(upto) % len(items) + 1]
        elif upto in keys:
            chosen = items[:keys.index(upto) + 1]
        else:
            raise ValueError(f"upto: no layer named {upto!r}; the layers are {keys}")
    elif names is not None:
        names = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in names if n not in keys]
        if unknown or not names:
            raise ValueError(f"names: unknown layer names {unknown}; the layers are {keys}")
        chosen = [(n, m) for n, m in items if n in names]
    else:
        chosen = items
    base = nn.Sequential(OrderedDict((n, copy.deepcopy(m)) for n, m in chosen))
    if freeze:
        base.freeze()
    base._taken = True  # an independent copy: build() may use it as it is
    return base


def output_shape(module, input_shape, dtype=np.float32):
    """The shape of one sample's output of `module` for one sample of `input_shape` (a dry run on two
    zero samples in eval mode; nothing is changed)."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with no_grad():
            y = module(_wrap(np.zeros((2,) + tuple(input_shape), dtype)))
    finally:
        for m, t in modes:
            m.__dict__["training"] = t
    return tuple(y.shape[1:])


def _channel_layer(c_in, c_out):
    """A frozen 1x1 convolution: grey -> c_out channels repeats the plane; RGB -> grey takes ITU-R 601
    luma; c -> 1 the mean."""
    conv = nn.Conv2d(c_in, c_out, 1, bias=False)
    w = conv.weight._a
    if c_in == 1:
        w[...] = 1.0
    elif c_out == 1:
        w[...] = np.array([0.299, 0.587, 0.114], w.dtype).reshape(1, 3, 1, 1) if c_in == 3 else 1.0 / c_in
    else:
        raise ValueError(f"channels: can adapt 1 -> C or C -> 1 channels, not {c_in} -> {c_out}")
    return conv.freeze()


def input_adapter(from_shape, to_shape, *, flat=False):
    """Layers that turn the new task's images into what the reused layers expect: a bilinear resize (as
    the course says, resize the inputs to the size the original model expects) and channel adaptation
    (grey -> RGB by repetition, RGB -> grey by luma). Shapes are one image's (C, H, W); flat=True when
    both the new inputs and the base's inputs are flattened images (an MLP on pixels)."""
    fs, ts = tuple(int(a) for a in from_shape), tuple(int(a) for a in to_shape)
    if len(fs) != 3 or len(ts) != 3 or min(fs + ts) < 1:
        raise ValueError(f"from_shape, to_shape: expected (C, H, W) of one image, got {from_shape!r}, {to_shape!r}")
    layers = OrderedDict()
    if flat:
        layers["unflatten"] = nn.Unflatten(1, fs)
    if fs[0] != ts[0]:
        layers["channels"] = _channel_layer(fs[0], ts[0])
    if fs[1:] != ts[1:]:
        layers["resize"] = nn.Upsample(size=ts[1:], mode="bilinear", align_corners=False)
    if flat:
        layers["flatten"] = nn.Flatten()
    return nn.Sequential(layers)


def build(base, head, *, input_shape=None, adapter=None, freeze=True):
    """The transfer model: ``nn.Sequential(adapt=adapter, base=base, head=head)``.

    Parameters
    ----------
    base : Module, str or path
        Reused layers, from ``take()`` (used as they are), or a source ``take()`` accepts: a model, a
        checkpoint or a zoo name, of which an independent copy of all layers is taken (the caller's model
        is never frozen nor shared).
    head : Module or callable
        The new top, or a callable given the number of features the base puts out (a Flatten is
        inserted when the base's output is not flat); a callable needs `input_shape`.
    input_shape : tuple, optional
        One sample's shape as the base receives it.
    adapter : Module, optional
        An input stage, e.g. ``input_adapter((1, 16, 16), (1, 8, 8))`` (bilinear resize, grey/RGB).
    freeze : bool, default True
        Freeze the base (``take()`` already does by default).

    Returns
    -------
    nn.Sequential

    Examples
    --------
    >>> model = transfer.build(transfer.take("digits-cnn-0to4", upto="flatten"),
    ...                        head=lambda n: nn.Linear(n, 5), input_shape=(1, 8, 8))
    """
    if not isinstance(base, nn.Module) or not getattr(base, "_taken", False):
        base = take(base, freeze=freeze)  # the caller's model is copied, never frozen nor shared
    elif freeze:
        base.freeze()
    layers = OrderedDict()
    if adapter is not None:
        if not isinstance(adapter, nn.Module):
            raise TypeError(f"adapter: expected a module (see transfer.input_adapter), got {type(adapter).__name__}")
        layers["adapt"] = adapter
    layers["base"] = base
    if not isinstance(head, nn.Module):
        if not callable(head):
            raise TypeError(f"head: expected a module or a callable(n_features) -> module, got {type(head).__name__}")
        if input_shape is None:
            raise ValueError("input_shape: needed to size a head given as a callable (one sample's shape as the "
                             "base receives it)")
        out = output_shape(base, input_shape)
        if len(out) > 1:
            layers["flatten"] = nn.Flatten()
        head = head(int(np.prod(out)))
        if not isinstance(head, nn.Module):
            raise TypeError(f"head: the callable returned a {type(head).__name__}, not a module")
    layers["head"] = head
    return nn.Sequential(layers)


def _base(model):
    mods = dict(model.named_children())
    if "base" not in mods:
        raise ValueError("model: expected a model made by transfer.build (children 'adapt', 'base', 'head')")
    return mods["base"]


def unfreeze(model, last=None):
    """Fine-tuning: unfreeze the reused layers of a transfer.build model -- all of them, or the top `last`
    of them (the most task-specific ones). The input adapter stays frozen."""
    base = _base(model)
    layers = [m for m in base._modules.values() if m is not None]
    if last is not None:
        if isinstance(last, bool) or not isinstance(last, (int, np.integer)) or not 0 <= last <= len(layers):
            raise ValueError(f"last: expected an int in [0, {len(layers)}], got {last!r}")
        layers = layers[len(layers) - int(last):]
    for m in layers:
        m.unfreeze()
    if last is None:
        base.__dict__["_frozen"] = False
    return model


def freeze_base(model):
    """Freeze the reused layers again (after unfreeze)."""
    _base(model).freeze()
    return model


def param_groups(model, lr, base_lr=None, base_lr_factor=0.1):
    """Optimizer parameter groups for fine-tuning: the head (and anything not reused) at `lr`, the
    trainable reused layers at base_lr (default lr * base_lr_factor). Frozen parameters are left out."""
    if not lr > 0:
        raise ValueError(f"lr: expected a positive learning rate, got {lr!r}")
    base_lr = lr * base_lr_factor if base_lr is None else base_lr
    if not base_lr > 0:
        raise ValueError(f"base_lr: expected a positive learning rate, got {base_lr!r}")
    base_ids = {id(p) for p in _base(model).parameters()}
    groups = [{"params": [p for p in model.parameters() if p.requires_grad and id(p) in base_ids], "lr": base_lr},
              {"params": [p for p in model.parameters() if p.requires_grad and id(p) not in base_ids], "lr": lr}]
    groups = [g for g in groups if g["params"]]
    if not groups:
        raise ValueError("model: no trainable parameters")
    return groups


def features(module, X, batch_size=256):
    """module(X) in eval mode, batch by batch, as a NumPy array: the reused layers' features computed once,
    so that a head trained alone on them (Keras' "feature extraction") costs no base forward per epoch.
    Only for bases without random layers in training mode (Dropout, RReLU), where that is exact."""
    positive_int(batch_size, "batch_size")
    X = np.asarray(X.numpy() if hasattr(X, "numpy") and not isinstance(X, np.ndarray) else X)
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with no_grad():
            parts = [module(_wrap(np.ascontiguousarray(X[i:i + batch_size]))).numpy().copy()
                     for i in range(0, len(X), batch_size)]
    finally:
        for m, t in modes:
            m.__dict__["training"] = t
    return np.concatenate(parts) if parts else np.zeros((0,) + output_shape(module, X.shape[1:]), np.float32)
