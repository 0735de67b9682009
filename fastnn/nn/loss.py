"""Losses with PyTorch's names, arguments and values.

On tensors, ``loss = loss_fn(output, target)`` calls the functional form (``F.cross_entropy(output,
target, weight=self.weight, ...)``, as PyTorch's modules do): a 0-d tensor in the graph
(``loss.backward()``). On arrays (the explicit chain that ``fit`` uses) it returns a Python float -- an
array for reduction='none' -- and ``loss_fn.backward()`` returns d loss / d output (for 'none': of the
sum). Both run the same function of fastnn._losses, which computes the loss and its gradient together
(the common cases in one fused kernel).
"""
import numpy as np

from .. import _losses as L
from .._losses import output_arg, reduction_arg
from ..tensor import Tensor, _arr
from . import functional as F
from .module import Module


class _Loss(Module):
    _rows = False  # reduction='none' gives one value per row (classification losses)
    _fn = None     # the array function (fastnn._losses): (out, target, **kw, need_grad, ws) -> (loss, grad)
    _functional = None  # its tensor form (nn.functional)

    def __init__(self, reduction="mean", size_average=None, reduce=None):
        super().__init__()
        self.reduction = reduction_arg(reduction, size_average, reduce)
        self._g = None

    def _kw(self):
        """The loss's arguments, as both the functional form and the array function take them."""
        return {"reduction": self.reduction}

    def __call__(self, output, target):
        if self._forward_hooks or self._forward_pre_hooks:
            return self._hooked_call((output, target), {})
        return self.forward(output, target)

    def forward(self, output, target):
        if isinstance(output, Tensor):
            return type(self)._functional(output, target, **self._kw())
        out = output_arg(np.asarray(output), type(self).__name__)
        loss, self.__dict__["_g"] = type(self)._fn(out, _arr(target), need_grad=True, ws=self._ws, **self._kw())
        return loss

    def begin_update(self, output, target):
        """``loss, backprop = loss_fn.begin_update(output, target)`` on arrays: the loss and
        ``backprop(grad=1.0) -> d loss / d output`` of this call (any number of calls may precede their
        backprops)."""
        out = output_arg(np.asarray(output), type(self).__name__)
        loss, g = type(self)._fn(out, _arr(target), need_grad=True, ws=self._ws, **self._kw())

        def backprop(grad=1.0):
            return g if grad == 1.0 else np.multiply(g, grad, out=g)
        return loss, backprop

    def backward(self, grad=1.0, need_input_grad=True):
        """d loss / d output of the last array-mode call (scaled by grad)."""
        if self._g is None:
            raise RuntimeError(f"{type(self).__name__}.backward(): call the loss on arrays first (with "
                               "tensors, call loss.backward())")
        if grad != 1.0:
            np.multiply(self._g, grad, out=self._g)
        return self._g

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits (N, C) (or (N, C, d1, ...)) and class indices (N,) (or
    (N, d1, ...)) -- or class probabilities of the logits' shape:
    loss_i = w_{t_i} (logsumexp(x_i) - (1 - eps) x_i[t_i]) - eps/C sum_j w_j x_ij ... as PyTorch,
    eps = label_smoothing, w = weight (per class), targets equal to ignore_index skipped; 'mean' divides
    by the summed weights of the counted targets. Without weight and ignore_index it is one fused,
    stable kernel.

    Parameters
    ----------
    weight : Tensor, optional
        A weight per class (or per element).
    size_average : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    ignore_index : int, default -100
        Targets equal to it are skipped (no loss, no gradient).
    reduce : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduction : str, default 'mean'
        "mean", "sum" or "none" (one value per element or sample).
    label_smoothing : float, default 0.0
        In [0, 1]: the target distribution mixes the one-hot with the uniform.
    """

    _rows = True
    _fn = staticmethod(L.cross_entropy)
    _functional = staticmethod(F.cross_entropy)

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(reduction, size_average, reduce)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing: expected a value in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)
        self.ignore_index = int(ignore_index)
        self.weight = None if weight is None else np.asarray(_arr(weight), np.float64)

    def _kw(self):
        return {"weight": self.weight, "ignore_index": self.ignore_index, "label_smoothing": self.label_smoothing,
                "reduction": self.reduction}

    def extra_repr(self):
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, C) (e.g. a LogSoftmax output):
    loss = -sum_i w_{t_i} x_i[t_i] / sum_i w_{t_i} (mean), targets equal to ignore_index skipped.

    Parameters
    ----------
    weight : Tensor, optional
        A weight per class (or per element).
    size_average : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    ignore_index : int, default -100
        Targets equal to it are skipped (no loss, no gradient).
    reduce : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduction : str, default 'mean'
        "mean", "sum" or "none" (one value per element or sample).
    """

    _rows = True
    _fn = staticmethod(L.nll_loss)
    _functional = staticmethod(F.nll_loss)

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(reduction, size_average, reduce)
        self.ignore_index = int(ignore_index)
        self.weight = None if weight is None else np.asarray(_arr(weight), np.float64)

    def _kw(self):
        return {"weight": self.weight, "ignore_index": self.ignore_index, "reduction": self.reduction}


class MSELoss(_Loss):
    """mean (or sum) of (output - target)^2.

    Parameters
    ----------
    reduction : str, default 'mean'
        "mean", "sum" or "none" (one value per element or sample).
    size_average : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduce : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    """
    _fn = staticmethod(L.mse_loss)
    _functional = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """mean (or sum) of abs(output - target).

    Parameters
    ----------
    reduction : str, default 'mean'
        "mean", "sum" or "none" (one value per element or sample).
    size_average : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduce : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    """
    _fn = staticmethod(L.l1_loss)
    _functional = staticmethod(F.l1_loss)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, stable: mean of log(1 + e^x) - x t; with pos_weight p and
    weight w (PyTorch's): w [p t log(1 + e^-x) + (1 - t) log(1 + e^x)] ... .

    Parameters
    ----------
    weight : Tensor, optional
        A weight per element (broadcast).
    size_average : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduce : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduction : str, default 'mean'
        "mean", "sum" or "none" (one value per element or sample).
    pos_weight : Tensor, optional
        A weight of the positive examples, per class.
    """
    _fn = staticmethod(L.binary_cross_entropy_with_logits)
    _functional = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(reduction, size_average, reduce)
        self.weight = None if weight is None else np.asarray(_arr(weight))
        self.pos_weight = None if pos_weight is None else np.asarray(_arr(pos_weight))

    def _kw(self):
        return {"weight": self.weight, "pos_weight": self.pos_weight, "reduction": self.reduction}


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities: -(t log p + (1 - t) log(1 - p)), logs clamped at -100
    (PyTorch's); prefer BCEWithLogitsLoss (stable).

    Parameters
    ----------
    weight : Tensor, optional
        A weight per element (broadcast).
    size_average : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduce : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduction : str, default 'mean'
        "mean", "sum" or "none" (one value per element or sample).
    """
    _fn = staticmethod(L.binary_cross_entropy)
    _functional = staticmethod(F.binary_cross_entropy)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction, size_average, reduce)
        self.weight = None if weight is None else np.asarray(_arr(weight))

    def _kw(self):
        return {"weight": self.weight, "reduction": self.reduction}


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where abs(d) < beta, abs(d) - 0.5 beta elsewhere (d = output - target).

    Parameters
    ----------
    size_average : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduce : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduction : str, default 'mean'
        "mean", "sum" or "none" (one value per element or sample).
    beta : float, default 1.0
        Where the loss turns from quadratic to linear.
    """
    _fn = staticmethod(L.smooth_l1_loss)
    _functional = staticmethod(F.smooth_l1_loss)

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(reduction, size_average, reduce)
        if beta < 0:
            raise ValueError(f"beta: expected >= 0, got {beta}")
        self.beta = float(beta)

    def _kw(self):
        return {"beta": self.beta, "reduction": self.reduction}


class HuberLoss(_Loss):
    """0.5 d^2 where abs(d) < delta, delta (abs(d) - 0.5 delta) elsewhere.

    Parameters
    ----------
    reduction : str, default 'mean'
        "mean", "sum" or "none" (one value per element or sample).
    delta : float, default 1.0
        Where the loss turns from quadratic to linear.
    """
    _fn = staticmethod(L.huber_loss)
    _functional = staticmethod(F.huber_loss)

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        if delta <= 0:
            raise ValueError(f"delta: expected > 0, got {delta}")
        self.delta = float(delta)

    def _kw(self):
        return {"delta": self.delta, "reduction": self.reduction}


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence with log-probability input: t (log t - input) (log_target: the
    target is log-probabilities too). reduction='batchmean' divides the sum by the batch size.

    Parameters
    ----------
    size_average : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduce : bool, optional
        Deprecated PyTorch spelling of reduction (accepted).
    reduction : str, default 'mean'
        "mean", "sum" or "none" (one value per element or sample).
    log_target : bool, default False
        Whether the target is given as log-probabilities.
    """
    _fn = staticmethod(L.kl_div)
    _functional = staticmethod(F.kl_div)

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__("sum" if reduction == "batchmean" else reduction, size_average, reduce)
        if reduction == "batchmean":
            self.reduction = "batchmean"
        self.log_target = bool(log_target)

    def _kw(self):
        return {"log_target": self.log_target, "reduction": self.reduction}
