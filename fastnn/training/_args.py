"""fit's, evaluate's and lr_find's arguments, checked before anything changes: each bad one raises naming
itself (a dry forward in eval mode checks the input width and the targets against the outputs)."""
import numpy as np

from .. import _mpi, nn, optim
from .._checks import positive_int
from ..autograd import no_grad
from ..nn.loss import _Loss
from ..tensor import Tensor, _arr, _wrap
from .callbacks import Callback, ModelCheckpoint

_LOSSES = {"cross_entropy": nn.CrossEntropyLoss, "crossentropy": nn.CrossEntropyLoss, "mse": nn.MSELoss,
           "l1": nn.L1Loss, "bce_with_logits": nn.BCEWithLogitsLoss, "bce": nn.BCELoss, "nll": nn.NLLLoss,
           "huber": nn.HuberLoss, "smooth_l1": nn.SmoothL1Loss}
_METRICS = {"accuracy": "accuracy", "acc": "accuracy"}


def loss_fn_arg(loss):
    """A loss module from a module, its class, a name or a callable loss(outputs, targets) -> tensor."""
    if isinstance(loss, str):
        if loss.lower() not in _LOSSES:
            raise ValueError(f"loss: unknown name {loss!r}; expected one of {sorted(_LOSSES)} or a loss module")
        return _LOSSES[loss.lower()]()
    if isinstance(loss, type) and issubclass(loss, nn.Module):
        return loss()  # the class itself (nn.CrossEntropyLoss): its default instance
    if not callable(loss):
        raise TypeError(f"loss: expected a fastnn loss (e.g. nn.CrossEntropyLoss()), its name, or a callable "
                        f"loss(outputs, targets) -> tensor, got {type(loss).__name__}")
    return loss


def metrics_arg(metrics):
    out = []
    for m in metrics or ():
        if callable(m):
            out.append(m)
        elif isinstance(m, str) and m.lower() in _METRICS:
            out.append(_METRICS[m.lower()])
        else:
            raise ValueError(f"metrics: unknown metric {m!r}; expected 'accuracy' (or 'acc') or a callable "
                             "f(outputs, targets) -> value")
    return out


def optimizer_arg(optimizer, model):
    """An optimizer from an optimizer or a name (with its defaults), driving some of the model's parameters."""
    if isinstance(optimizer, str):
        if optimizer.lower() not in optim.BY_NAME:
            raise ValueError(f"optimizer: unknown name {optimizer!r}; expected one of {sorted(optim.BY_NAME)}")
        optimizer = optim.BY_NAME[optimizer.lower()](model)
    if not isinstance(optimizer, optim.Optimizer):
        raise TypeError(f"optimizer: expected a fastnn optimizer, got {type(optimizer).__name__}")
    own = {id(p) for p in optimizer._params}
    if not any(id(p) in own for p in model.parameters()):
        raise ValueError("optimizer: it drives none of the model's parameters")
    return optimizer


def classification(loss_fn):
    return isinstance(loss_fn, (nn.CrossEntropyLoss, nn.NLLLoss))


def task_of(loss_fn):
    """What "accuracy" means: argmax for class labels, sign of the logit for BCE, nothing for regression."""
    if loss_fn is None or classification(loss_fn):
        return "multiclass"
    if isinstance(loss_fn, nn.BCEWithLogitsLoss):
        return "binary"
    if isinstance(loss_fn, nn.BCELoss):
        return "binary_prob"
    return "regression"


def _first_bad_sample(a):
    return int(np.argwhere(~np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1))[0, 0])


def arrays_arg(X, y, name="X", yname="y"):
    """(X, y) as arrays of the same number of samples; floats must be finite."""
    X = np.asarray(_arr(X))
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError(f"{name}: empty dataset (shape {X.shape})")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected a numeric array, got dtype {X.dtype}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise ValueError(f"{name}: contains NaN or Inf (first at sample {_first_bad_sample(X)})")
    if y is not None:
        y = np.asarray(_arr(y))
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise ValueError(f"{name}, {yname}: different numbers of samples ({X.shape[0]} and "
                             f"{y.shape[0] if y.ndim else 'a scalar'})")
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError(f"{yname}: contains NaN or Inf (first at sample {_first_bad_sample(y)}); the targets "
                             "must be finite")
    return X, y


def modes(model):
    return [(m, m.training) for m in model.modules()]


def set_modes(saved):
    for m, t in saved:
        m.__dict__["training"] = t


def forward_eval(model, xb):
    """Outputs of one batch without recording anything (eval mode set by the caller)."""
    with no_grad():
        out = model(_wrap(np.asarray(xb)))
    return out._a if isinstance(out, Tensor) else np.asarray(out)


def dry_run(model, X, who="X"):
    """A forward on two samples in eval mode (no state changes): the layer raises on a wrong width,
    with a hint for the common mistake of passing one sample."""
    saved = modes(model)
    model.eval()
    try:
        return forward_eval(model, X[:2])
    except (ValueError, RuntimeError) as e:
        hint = ""
        if X.ndim == 1:
            hint = (f" ({who} has shape {X.shape}: a batch of samples is expected; for one sample of "
                    f"{X.shape[0]} features pass {who}[None] or {who}.reshape(1, -1))")
        raise type(e)(f"{e}{hint}") from None
    finally:
        set_modes(saved)


def check_targets(model, X, y, loss_fn, yname="y"):
    """The dry forward checks the input width and, for classification, that the labels fit the model's
    outputs; for other losses, that targets and outputs have one shape per sample."""
    out = dry_run(model, X)
    if classification(loss_fn):
        if y.dtype.kind not in "iu":
            raise TypeError(f"{yname}: expected integer class labels for {type(loss_fn).__name__}, got dtype {y.dtype}")
        c = out.shape[-1] if out.ndim == 2 else out.shape[1]
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= c:
            raise ValueError(f"{yname}: labels must lie in [0, {c}) (the model has {c} outputs), "
                             f"found {lo if lo < 0 else hi}")
    elif isinstance(loss_fn, _Loss) and y is not None and out.shape[1:] != y.shape[1:]:
        raise ValueError(f"{yname}: each target has shape {y.shape[1:]}, the model outputs {out.shape[1:]}")


def validation_arg(X, y, validation_data, validation_split):
    """(X, y, X_val, y_val): validation_data as given, or the last validation_split of (X, y) (Keras')."""
    if validation_data is not None:
        if validation_split:
            raise ValueError("validation_data, validation_split: give one or the other")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data: expected a pair (X_val, y_val)")
        Xv, yv = arrays_arg(*validation_data, name="validation_data[0]", yname="validation_data[1]")
        return X, y, Xv, yv
    if validation_split:
        nv = int(round(X.shape[0] * validation_split))
        if nv < 1 or nv >= X.shape[0]:
            raise ValueError(f"validation_split: {validation_split} of {X.shape[0]} samples leaves an empty split")
        return X[:-nv], y[:-nv], X[-nv:], y[-nv:]
    return X, y, None, None


def callbacks_arg(callbacks, has_val):
    """The callbacks as a list, checked against the validation data."""
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks: expected fastnn.training callbacks, got {type(cb).__name__}")
        mon = getattr(cb, "monitor", None)
        if mon and mon.startswith("val_") and not has_val:
            raise ValueError(f"{type(cb).__name__}: monitors {mon!r} but fit has no validation data")
        if isinstance(cb, ModelCheckpoint) and "{val_" in cb.path and not has_val:
            raise ValueError(f"ModelCheckpoint: its path {cb.path!r} uses a validation value but fit has no "
                             "validation data")
    return callbacks


def has_batchnorm(model):
    from ..nn.normalization import _BatchNorm

    return any(isinstance(m, _BatchNorm) for m in model.modules())


_PRECISIONS = {"32": False, "32-true": False, "float32": False, "fp32": False, "bf16": True, "bf16-mixed": True,
               "mixed_bfloat16": True}


def precision_arg(precision):
    """fit's precision: True for bfloat16 products (autocast), False for float32."""
    key = str(precision) if isinstance(precision, (str, int)) and not isinstance(precision, bool) else None
    if key not in _PRECISIONS:
        raise ValueError(f"precision: expected one of {sorted(_PRECISIONS)}, got {precision!r}")
    return _PRECISIONS[key]


def scalars_arg(epochs, initial_epoch, batch_size, validation_split, clip_grad_norm, model, transform):
    """fit's plain arguments: (epochs, initial_epoch, batch_size)."""
    epochs = positive_int(epochs, "epochs")
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or \
            not 0 <= initial_epoch <= epochs:
        raise ValueError(f"initial_epoch: expected an int in [0, epochs={epochs}], got {initial_epoch!r}")
    batch_size = positive_int(batch_size, "batch_size")
    if not (0.0 <= validation_split < 1.0):
        raise ValueError(f"validation_split: expected a fraction in [0, 1), got {validation_split!r}")
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ValueError(f"clip_grad_norm: expected a positive number, got {clip_grad_norm!r}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a fastnn Module, got {type(model).__name__}")
    if transform is not None and not callable(transform):
        raise TypeError(f"transform: expected a callable, got {type(transform).__name__}")
    return epochs, int(initial_epoch), batch_size


def distributed_arg(distributed, optimizer, model, X, y, Xv, batch_size, epochs, seed, verbose):
    """Whether fit runs data-parallel; then the ranks agree on the model and data, start from rank 0's
    parameters and draw the same batches. Returns (distributed, optimizer, seed, verbose)."""
    from .. import distributed as dist

    if distributed is None:
        distributed = dist.world_size() > 1
    elif distributed and dist.world_size() == 1 and not dist.is_available():
        raise RuntimeError("distributed=True: mpi4py is not installed (pip install 'fastnn-cpu[mpi]')")
    if isinstance(optimizer, dist.DistributedOptimizer):
        optimizer = optimizer.optimizer  # fit averages the gradients itself (before clipping)
    distributed = bool(distributed) and dist.world_size() > 1
    if distributed:
        _mpi.check_same(model=[(n, tuple(p.shape), str(p.dtype)) for n, p in model.named_parameters()],
                        X=(tuple(X.shape), str(X.dtype)), y=None if y is None else (tuple(y.shape), str(y.dtype)),
                        batch_size=batch_size, epochs=epochs,
                        validation=None if Xv is None else tuple(Xv.shape))
        dist.broadcast_parameters(model)
        if seed is None:  # the same batches on every rank
            s0 = np.array([np.random.SeedSequence().entropy % (1 << 62)], np.float64)
            dist._W.comm.Bcast(s0, root=0)
            seed = int(s0[0])
        if dist.rank() != 0:
            verbose = 0
    return distributed, optimizer, seed, verbose


def batchnorm_arg(model, X, batch_size, distributed):
    """Whether the model has batch norm, which needs two samples per step (per rank)."""
    from .. import distributed as dist

    bn = has_batchnorm(model)
    if bn and X.shape[0] < 2:
        raise ValueError(f"X: the model has batch norm, which needs at least 2 training samples, got {X.shape[0]}")
    if bn and distributed and min(batch_size, X.shape[0]) < 2 * dist.world_size():
        raise ValueError(f"batch_size: the model has batch norm and {dist.world_size()} ranks share each batch; "
                         f"expected at least 2 samples per rank ({2 * dist.world_size()}), got "
                         f"{min(batch_size, X.shape[0])}")
    return bn

