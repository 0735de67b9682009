"""Datasets (torch.utils.data's): map-style and iterable datasets, TensorDataset, Subset, ConcatDataset,
random_split."""
import bisect
import math
import numbers

import numpy as np

from ..._random import Generator, default_generator
from ...tensor import Tensor, _arr, as_tensor


class Dataset:
    """A map-style dataset: __getitem__(index) and __len__."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])



class IterableDataset(Dataset):
    """A dataset that is iterated (__iter__) rather than indexed."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")



class TensorDataset(Dataset):
    """Samples are tuples (t[i] for t in tensors); every tensor has the same first dimension.

    Parameters
    ----------
    *tensors : Tensors or arrays
        Of the same first dimension; sample i is their i-th rows.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        ts = tuple(t if isinstance(t, Tensor) else as_tensor(np.asarray(t)) for t in tensors)
        n = ts[0].shape[0] if ts[0].dim() else None
        if n is None or any(t.dim() == 0 or t.shape[0] != n for t in ts):
            raise ValueError(f"Size mismatch between tensors (different numbers of samples): first dimensions "
                             f"{[tuple(t.shape)[:1] for t in ts]}")
        self.tensors = ts

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]



class Subset(Dataset):
    """The samples of dataset at the given indices.

    Parameters
    ----------
    dataset : Dataset
        The dataset.
    indices : sequence of int
        The dataset's indices in the subset.
    """

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(np.asarray(_arr(indices)).reshape(-1).tolist()) \
            if not isinstance(indices, list) else indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)



class ConcatDataset(Dataset):
    """Datasets one after the other.

    Parameters
    ----------
    datasets : iterable of Dataset
        The datasets, concatenated in order.
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self):
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise IndexError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        prev = self.cumulative_sizes[d - 1] if d else 0
        return self.datasets[d][idx - prev]



def _numpy_rng(generator):
    """A NumPy generator for one use: the given fastnn/NumPy generator, or one seeded from the global one."""
    if generator is None:
        return np.random.default_rng(default_generator.next_seed())
    if isinstance(generator, Generator):
        return generator.numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator: expected a fastnn.Generator, got {type(generator).__name__}")



def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1).

    Parameters
    ----------
    dataset : Dataset
        The dataset.
    lengths : sequence of int or float
        Sizes of the parts (or fractions summing to 1).
    generator : fastnn.Generator, optional
        Source of the random order (default: the global generator).
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):  # the remainder, round-robin (PyTorch's rule)
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if any(isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < 0 for x in lengths):
        raise ValueError(f"lengths: expected non-negative ints or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _numpy_rng(generator if generator is not None else default_generator).permutation(n).tolist()
    out, i = [], 0
    for k in lengths:
        out.append(Subset(dataset, perm[i:i + k]))
        i += k
    return out
