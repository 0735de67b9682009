"""Embedding: a lookup table of learned vectors (PyTorch's nn.Embedding; dense gradients)."""
import numpy as np

from .._random import numpy_rng
from ..tensor import Tensor, as_tensor
from .module import Module
from .parameter import Parameter
from .._checks import positive_int


class Embedding(Module):
    """weight (num_embeddings, embedding_dim) ~ N(0, 1); forward(indices) -> weight[indices]
    (torch.nn.Embedding). The row padding_idx starts at zero and gets no gradient; max_norm (with
    norm_type) renormalizes looked-up rows in place; scale_grad_by_freq divides gradients by how often each
    index occurs in the batch. sparse=True is refused (no sparse gradients).

    Parameters
    ----------
    num_embeddings : int
        Size of the dictionary (the number of rows).
    embedding_dim : int
        Size of each embedding vector.
    padding_idx : int, optional
        A row that starts at zero and gets no gradient.
    max_norm : float, optional
        Looked-up rows with a larger norm are renormalized in place.
    norm_type : float, default 2.0
        The p of the p-norm for max_norm.
    scale_grad_by_freq : bool, default False
        Divide gradients by how often each index occurs in the batch.
    sparse : bool, default False
        Refused when True (no sparse gradients).
    _weight : array_like, optional
        An initial weight (num_embeddings, embedding_dim).
    dtype : numpy dtype, default float32
        float32 or float64, for the parameters.
    device : str, optional
        Accepted for PyTorch's signature; only the CPU exists.
    rng : numpy.random.Generator or int, optional
        Source of the initial weights (default: fastnn's global generator, seeded by fastnn.manual_seed).
    """

    _config_keys = ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq")

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, dtype=np.float32, device=None, rng=None):
        super().__init__()
        if sparse:
            raise NotImplementedError("Embedding(sparse=True): fastnn has no sparse gradients")
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            positive_int(v, name)
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"padding_idx: must be within num_embeddings ({self.num_embeddings}), got "
                                 f"{padding_idx}")
            if padding_idx < 0:
                padding_idx += self.num_embeddings
        self.padding_idx = padding_idx
        if max_norm is not None and not max_norm > 0:
            raise ValueError(f"max_norm: expected a positive number, got {max_norm!r}")
        self.max_norm, self.norm_type = max_norm, float(norm_type)
        self.scale_grad_by_freq = bool(scale_grad_by_freq)
        w = np.asarray(_weight._a if isinstance(_weight, Tensor) else _weight, dtype) if _weight is not None else \
            numpy_rng(rng).standard_normal((self.num_embeddings, self.embedding_dim)).astype(dtype)
        if w.shape != (self.num_embeddings, self.embedding_dim):
            raise ValueError(f"_weight: expected shape {(self.num_embeddings, self.embedding_dim)}, got {w.shape}")
        if padding_idx is not None and _weight is None:
            w[padding_idx] = 0
        self.weight = Parameter(w)

    @staticmethod
    def _state_shapes(cfg):
        """state_dict shapes from a config alone (checked before a checkpoint builds the layer)."""
        return {"weight": (int(cfg["num_embeddings"]), int(cfg["embedding_dim"]))}

    def forward(self, input):
        from .functional import embedding

        return embedding(as_tensor(input), self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
