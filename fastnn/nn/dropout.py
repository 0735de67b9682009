"""Dropout (Hinton et al. 2012): inverted dropout while training, identity in eval."""
import numpy as np

from .. import ops
from .._ext._pairs import dropout_bwd, dropout_fwd
from .._workspace import KIND_DROPOUT
from .activation import _Random


class Dropout(_Random):
    """Each element zeroed with probability p while training, the others scaled by 1 / (1 - p), so
    nothing changes at inference. A fresh mask every call, from a counter-based generator: the mask
    is regenerated in backward from the call's own key, never stored, and is reproducible from the
    model's seed. A frozen model (freeze()) still drops units in training mode: freezing stops the
    parameters, not the layer's behaviour.

    Parameters
    ----------
    p : float, default 0.5
        Probability of zeroing an element, in [0, 1).
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).

    Examples
    --------
    >>> drop = fastnn.nn.Dropout(0.2)
    >>> drop.eval()   # the identity at inference
    """

    _config_keys = ("p",)
    _chain = KIND_DROPOUT  # the explicit chain runs it without Python (fastnn._ext._chain)

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.inplace = bool(inplace)

    def _fwd(self, x):
        if not (self.training and self.p > 0):
            return x, None
        if x.dtype not in (np.float32, np.float64):
            x = self._input(x, np.float32)
        return dropout_fwd(self.p, self._next(), x, self._ws)

    def _bwd(self, ctx, g, need_input_grad, accumulate=True):
        if ctx is None:
            return g
        return dropout_bwd(ctx, g, self._ws)

    def extra_repr(self):
        return f"p={self.p}"


class _ChannelDropout(_Random):
    """Whole channels (axis 1) zeroed with probability p while training, the others scaled by
    1 / (1 - p): for convolutional feature maps, whose neighbouring values are correlated."""

    _config_keys = ("p",)
    _min_nd = 3

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def _fwd(self, x):
        if not (self.training and self.p > 0):
            return x, None
        if x.ndim < self._min_nd:
            raise ValueError(f"{type(self).__name__}: expected input of at least {self._min_nd} dimensions "
                             f"(N, C, ...), got shape {x.shape}")
        if x.dtype not in (np.float32, np.float64):
            x = self._input(x, np.float32)
        ones = self._buf("ones", x.shape[:2], x.dtype)
        ones.fill(1)
        mask = ops.dropout(ones, self.p, seed=self._next()).reshape(x.shape[:2] + (1,) * (x.ndim - 2))
        y = self._buf("y", x.shape, x.dtype)
        np.multiply(x, mask, out=y)
        return y, mask

    def _bwd(self, mask, g, need_input_grad, accumulate=True):
        if mask is None:
            return g
        gx = self._buf("gx", g.shape, mask.dtype)
        np.multiply(g, mask, out=gx)
        return gx

    def extra_repr(self):
        return f"p={self.p}"


class Dropout1d(_ChannelDropout):
    """Channel dropout for (N, C, L).

    Parameters
    ----------
    p : float, default 0.5
        Probability of zeroing a whole channel.
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """


class Dropout2d(_ChannelDropout):
    """Channel dropout for (N, C, H, W) feature maps (Tompson et al. 2015).

    Parameters
    ----------
    p : float, default 0.5
        Probability of zeroing a whole channel.
    inplace : bool, default False
        Accepted for PyTorch's signature: write the result into the input (its autograd history kept).
    """
