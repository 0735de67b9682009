"""Flatten and Unflatten: reshapes as views (no copy), with the explicit kernel pair."""
from ..tensor import Tensor
from .module import Module, layer_call


class Flatten(Module):
    """Flattens dims start_dim..end_dim (default: everything but the batch axis), as a view.

    Parameters
    ----------
    start_dim : int, default 1
        First axis flattened.
    end_dim : int, default -1
        Last axis flattened.
    """

    _native = True
    _config_keys = ("start_dim", "end_dim")

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        if isinstance(x, Tensor):
            return x.flatten(self.start_dim, self.end_dim)
        return layer_call(self, x)

    def _fwd(self, x):
        nd = x.ndim
        s = self.start_dim % nd if nd else 0
        e = self.end_dim % nd if nd else 0
        if nd == 0 or s >= e:
            return x, x.shape
        return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:]), x.shape

    def _bwd(self, shape, g, need_input_grad, accumulate=True):
        return g.reshape(shape)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dim into unflattened_size (the inverse of Flatten).

    Parameters
    ----------
    dim : int
        The axis split.
    unflattened_size : tuple of int
        The shape the axis is split into.
    """

    _native = True
    _config_keys = ("dim", "unflattened_size")

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        if isinstance(x, Tensor):
            return x.unflatten(self.dim, self.unflattened_size)
        return layer_call(self, x)

    def _fwd(self, x):
        d = self.dim % x.ndim
        return x.reshape(x.shape[:d] + self.unflattened_size + x.shape[d + 1:]), x.shape

    def _bwd(self, shape, g, need_input_grad, accumulate=True):
        return g.reshape(shape)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
