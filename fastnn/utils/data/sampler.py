"""Samplers (torch.utils.data's): the order of a dataset's indices, and their grouping into batches."""
import math
import numbers

import numpy as np

from ...tensor import _arr
from .dataset import _numpy_rng


class Sampler:
    """Base class of samplers: an iterable of dataset indices (torch.utils.data.Sampler).

    Parameters
    ----------
    data_source : Dataset or sized, default None
        What is sampled (its length).
    """
    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """The indices 0, 1, ..., len(data_source) - 1, in order.

    Parameters
    ----------
    data_source : Dataset or sized
        What is sampled (its length).
    """
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh permutation each epoch (or num_samples draws with replacement).

    Parameters
    ----------
    data_source : Dataset or sized
        What is sampled (its length).
    replacement : bool, default False
        Draw with replacement.
    num_samples : int, optional
        Samples to draw (default: the dataset's length).
    generator : fastnn.Generator, optional
        Source of the random order (default: the global generator).
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement, self.generator = data_source, bool(replacement), generator
        self._num_samples = num_samples
        if num_samples is not None and (not isinstance(num_samples, numbers.Integral) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if self.num_samples <= 0:  # (torch's check: nothing to shuffle)
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples} "
                             "(shuffling needs a non-empty dataset)")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _indices(self):
        n, g = len(self.data_source), _numpy_rng(self.generator)
        if self.replacement:
            return g.integers(0, n, self.num_samples)
        k = self.num_samples
        return np.concatenate([g.permutation(n) for _ in range(-(-k // n))])[:k] if n else np.zeros(0, np.int64)

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a new random order each time.

    Parameters
    ----------
    indices : sequence of int
        The indices used.
    generator : fastnn.Generator, optional
        Source of the random order (default: the global generator).
    """
    def __init__(self, indices, generator=None):
        self.indices, self.generator = list(indices), generator

    def _indices(self):
        return np.asarray(self.indices)[_numpy_rng(self.generator).permutation(len(self.indices))]

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn with probabilities proportional to weights.

    Parameters
    ----------
    weights : sequence of float
        A weight per sample.
    num_samples : int, optional
        Samples to draw (default: the dataset's length).
    replacement : bool, default True
        Draw with replacement.
    generator : fastnn.Generator, optional
        Source of the random order (default: the global generator).
    """
    def __init__(self, weights, num_samples, replacement=True, generator=None):
        w = np.asarray(_arr(weights), np.float64)
        if w.ndim != 1 or (w < 0).any() or not w.sum() > 0:
            raise ValueError("weights: expected a 1-D sequence of non-negative weights with a positive sum")
        self.weights, self.num_samples, self.replacement, self.generator = w, int(num_samples), replacement, generator

    def _indices(self):
        g = _numpy_rng(self.generator)
        p = self.weights / self.weights.sum()
        return g.choice(self.weights.size, self.num_samples, replace=self.replacement, p=p)

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return self.num_samples


class DistributedSampler(Sampler):
    """Each rank's part of a dataset (PyTorch's semantics): the indices -- shuffled by (seed + epoch)
    when shuffle, so call set_epoch(e) every epoch -- are padded by repeating the first ones (or, with
    drop_last, cut) to a multiple of num_replicas, and rank r takes every num_replicas-th from r. Every
    rank gets len(self) indices, so the ranks run the same number of steps. num_replicas and rank
    default to fastnn.distributed's world.

    Parameters
    ----------
    dataset : Dataset
        The dataset.
    num_replicas : int, optional
        Processes taking part (default: the MPI world's size).
    rank : int, optional
        This process's rank (default: the MPI world's).
    shuffle : bool, default True
        A new random order every epoch.
    seed : int, optional
        Seed of the random order (and augmentations).
    drop_last : bool, default False
        Drop the last batch when it is short.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from ..._mpi import init

            world = init()
            num_replicas = world.size if num_replicas is None else num_replicas
            rank = world.rank if rank is None else rank
        for name, v in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise ValueError(f"{name}: expected an int, got {v!r}")
        if num_replicas < 1:
            raise ValueError(f"num_replicas: expected a positive int, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), int(seed), bool(drop_last), 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def __iter__(self):
        n = len(self.dataset)
        idx = np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle else np.arange(n)
        if self.drop_last:
            idx = idx[:self.total_size]
        elif self.total_size > n:
            idx = np.resize(idx, self.total_size)  # repeats from the start, as PyTorch pads
        return iter(idx[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of batch_size.

    Parameters
    ----------
    sampler : Sampler or iterable
        The order of the indices.
    batch_size : int
        Samples per batch.
    drop_last : bool
        Drop the last batch when it is short.
    """

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), bool(drop_last)

    def _index_arrays(self):
        s = self.sampler
        idx = s._indices() if hasattr(s, "_indices") else np.fromiter(iter(s), np.int64)
        n, b = len(idx), self.batch_size
        stop = n - (n % b) if self.drop_last else n
        return [idx[i:i + b] for i in range(0, stop, b)]

    def __iter__(self):
        for a in self._index_arrays():
            yield a.tolist()

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
