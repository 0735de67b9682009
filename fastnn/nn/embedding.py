"""Embedding: a lookup table of learned vectors (PyTorch's nn.Embedding; dense gradients)."""
import numpy as np

from .._random import numpy_rng
from ..tensor import Tensor, as_tensor
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """weight (num_embeddings, embedding_dim) ~ N(0, 1); forward(indices) -> weight[indices]. The row
    padding_idx starts at zero and gets no gradient."""

    _config_keys = ("num_embeddings", "embedding_dim", "padding_idx")

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, dtype=np.float32, device=None, rng=None):
        super().__init__()
        if sparse or max_norm is not None or scale_grad_by_freq:
            raise NotImplementedError("Embedding(sparse=True / max_norm / scale_grad_by_freq)")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None and padding_idx < 0:
            padding_idx += self.num_embeddings
        self.padding_idx = padding_idx
        w = np.asarray(_weight._a if isinstance(_weight, Tensor) else _weight, dtype) if _weight is not None else \
            numpy_rng(rng).standard_normal((self.num_embeddings, self.embedding_dim)).astype(dtype)
        if padding_idx is not None:
            w[padding_idx] = 0
        self.weight = Parameter(w)

    def forward(self, input):
        idx = as_tensor(input)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Embedding: expected integer indices, got dtype {idx.dtype}")
        out = self.weight.index_select(0, idx.reshape(-1)).reshape(*idx.shape, self.embedding_dim)
        if self.padding_idx is not None and out.requires_grad:
            keep = (idx != self.padding_idx).unsqueeze(-1).to(out.dtype)
            out = out * keep + (out * (1 - keep)).detach()
        return out

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
