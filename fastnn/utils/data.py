"""fastnn.utils.data: torch.utils.data's datasets, samplers and DataLoader.

Batches of in-memory datasets (TensorDataset, NumPy arrays, Subsets of them) are gathered with one
vectorized indexing per tensor instead of one __getitem__ per sample. Other datasets go through
__getitem__ and ``collate_fn``; with ``num_workers > 0`` they run in worker processes (forked on Linux;
fastnn's kernels are single-threaded in a forked child, so a fork never hangs in OpenMP). Shuffling
draws from ``generator``, or from the global generator, so ``fastnn.manual_seed`` makes every epoch's
order reproducible.
"""
import bisect
import collections.abc
import math
import multiprocessing
import numbers
import queue as _queue
import sys
import traceback

import numpy as np

from .._random import Generator, default_generator
from ..tensor import Tensor, _arr, _wrap, as_tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "Sampler",
           "DistributedSampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler", "WeightedRandomSampler",
           "DataLoader", "default_collate", "get_worker_info"]


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
    """Samples are tuples (t[i] for t in tensors); every tensor has the same first dimension."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        ts = tuple(t if isinstance(t, Tensor) else as_tensor(np.asarray(t)) for t in tensors)
        n = ts[0].shape[0] if ts[0].dim() else None
        if n is None or any(t.dim() == 0 or t.shape[0] != n for t in ts):
            raise ValueError(f"Size mismatch between tensors: first dimensions {[tuple(t.shape)[:1] for t in ts]}")
        self.tensors = ts

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of dataset at the given indices."""

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
    """Datasets one after the other."""

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
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1)."""
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


# ---- samplers ----
class Sampler:
    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh permutation each epoch (or num_samples draws with replacement)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement, self.generator = data_source, bool(replacement), generator
        self._num_samples = num_samples
        if num_samples is not None and (not isinstance(num_samples, numbers.Integral) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")

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
    def __init__(self, indices, generator=None):
        self.indices, self.generator = list(indices), generator

    def _indices(self):
        return np.asarray(self.indices)[_numpy_rng(self.generator).permutation(len(self.indices))]

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    def __init__(self, weights, num_samples, replacement=True, generator=None):
        w = np.asarray(_arr(weights), np.float64)
        if w.ndim != 1 or (w < 0).any() or not w.sum() > 0:
            raise ValueError("weights: expected a 1-D sequence of non-negative weights with a positive sum")
        self.weights, self.num_samples, self.replacement, self.generator = w, int(num_samples), replacement, generator

    def _indices(self):
        g = _numpy_rng(self.generator)
        return g.choice(self.weights.size, self.num_samples, replace=self.replacement, p=self.weights / self.weights.sum())

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return self.num_samples


class DistributedSampler(Sampler):
    """Each rank's part of a dataset (PyTorch's semantics): the indices -- shuffled by (seed + epoch)
    when shuffle, so call set_epoch(e) every epoch -- are padded by repeating the first ones (or, with
    drop_last, cut) to a multiple of num_replicas, and rank r takes every num_replicas-th from r. Every
    rank gets len(self) indices, so the ranks run the same number of steps. num_replicas and rank
    default to fastnn.distributed's world."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from .._mpi import init

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
    """Groups a sampler's indices into lists of batch_size."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), bool(drop_last)

    def _index_arrays(self):
        idx = self.sampler._indices() if hasattr(self.sampler, "_indices") else np.fromiter(iter(self.sampler), np.int64)
        n, b = len(idx), self.batch_size
        stop = n - (n % b) if self.drop_last else n
        return [idx[i:i + b] for i in range(0, stop, b)]

    def __iter__(self):
        for a in self._index_arrays():
            yield a.tolist()

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# ---- collation ----
def default_collate(batch):
    """Stack a list of samples: tensors and arrays along a new first axis, numbers into a tensor
    (ints int64, floats float64, as PyTorch), tuples/lists and dicts element-wise, strings kept as lists."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _wrap(np.stack([e._a for e in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUS":
            return batch
        return _wrap(np.stack(batch))
    if isinstance(elem, np.generic):
        return _wrap(np.asarray(batch))
    if isinstance(elem, bool):
        return _wrap(np.asarray(batch, np.bool_))
    if isinstance(elem, numbers.Integral):
        return _wrap(np.asarray(batch, np.int64))
    if isinstance(elem, numbers.Real):
        return _wrap(np.asarray(batch, np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(e) != len(elem) for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        out = [default_collate(list(s)) for s in zip(*batch)]
        return tuple(out) if isinstance(elem, tuple) else out
    if hasattr(elem, "__array__"):  # PIL images and other array-likes
        return _wrap(np.stack([np.asarray(e) for e in batch]))
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(elem).__name__}")


def _gather_source(dataset):
    """(arrays, index map) when batches can be gathered by vectorized indexing, else None."""
    idx = None
    d = dataset
    while isinstance(d, Subset):
        sub = np.asarray(d.indices, np.int64)
        idx = sub if idx is None else sub[idx]
        d = d.dataset
    if type(d) is TensorDataset:
        return [t._a for t in d.tensors], idx, True
    if isinstance(d, (np.ndarray, Tensor)):
        return [_arr(d)], idx, False
    return None


# ---- workers ----
class WorkerInfo:
    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset


_worker_info = None


def get_worker_info():
    """In a DataLoader worker process: its WorkerInfo (id, num_workers, seed, dataset); else None."""
    return _worker_info


def _worker_loop(dataset, collate, index_q, result_q, wid, nw, seed, init_fn):
    global _worker_info
    from .. import _threads

    _threads.set_num_threads(1)
    _worker_info = WorkerInfo(wid, nw, seed, dataset)
    import random

    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    default_generator.manual_seed(seed % (1 << 63))
    try:
        if init_fn is not None:
            init_fn(wid)
    except BaseException:
        result_q.put((None, -1, None, traceback.format_exc()))
        return
    while True:
        try:
            job = index_q.get()
        except (EOFError, KeyboardInterrupt):
            return
        if job is None:
            return
        run, bi, indices = job
        try:
            data = collate([dataset[i] for i in indices])
            result_q.put((run, bi, data, None))
        except BaseException:
            result_q.put((run, bi, None, f"Caught {sys.exc_info()[0].__name__} in DataLoader worker process "
                                         f"{wid}.\n" + traceback.format_exc()))


class _WorkerPool:
    """Worker processes that turn lists of indices into collated batches, delivered in order. Every job
    carries its epoch's run number: results of an epoch left early (a break) are dropped when they
    arrive during a later one (persistent_workers)."""

    def __init__(self, loader):
        self.loader = loader
        self.run_id = 0
        nw = loader.num_workers
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        ctx = multiprocessing.get_context(ctx) if isinstance(ctx, (str, type(None))) else ctx
        base = int(_numpy_rng(loader.generator).integers(0, 1 << 62))
        self.index_qs = [ctx.Queue() for _ in range(nw)]
        self.result_q = ctx.Queue()
        self.workers = []
        for w in range(nw):
            p = ctx.Process(target=_worker_loop, args=(loader.dataset, loader.collate_fn, self.index_qs[w],
                                                        self.result_q, w, nw, base + w, loader.worker_init_fn),
                            daemon=True)
            p.start()
            self.workers.append(p)

    def run(self, batches):
        nw = len(self.workers)
        ahead = max(1, self.loader.prefetch_factor) * nw
        sent, done, pending = 0, 0, {}
        timeout = self.loader.timeout if self.loader.timeout > 0 else None
        self.run_id += 1
        run = self.run_id
        while done < len(batches):
            while sent < len(batches) and sent - done < ahead:
                self.index_qs[sent % nw].put((run, sent, batches[sent]))
                sent += 1
            while done not in pending:
                waited = 0.0
                while True:
                    try:
                        rid, bi, data, err = self.result_q.get(timeout=1.0)
                        if rid is not None and rid != run:
                            continue  # a batch of an epoch that was left early
                        break
                    except _queue.Empty:
                        waited += 1.0
                        dead = [p for p in self.workers if not p.is_alive()]
                        if dead:
                            raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(str(p.pid) for p in dead)}) "
                                               "exited unexpectedly") from None
                        if timeout is not None and waited >= timeout:
                            raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None
                if err is not None:
                    raise RuntimeError(err)
                pending[bi] = data
            yield pending.pop(done)
            done += 1

    def close(self):
        for q in self.index_qs:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for p in self.workers:
            p.join(timeout=2.0)
            if p.is_alive():
                p.terminate()
                p.join(timeout=1.0)
        for q in self.index_qs + [self.result_q]:
            q.cancel_join_thread()
            q.close()


class DataLoader:
    """Batches of a dataset (torch.utils.data.DataLoader's arguments and semantics).

    shuffle: a new order each epoch, drawn from `generator` (or the global generator); sampler /
    batch_sampler: custom orders; drop_last: drop a short last batch. In-memory datasets
    (TensorDataset, arrays, Subsets of them) with the default collate are gathered vectorized, in the
    calling process. Other datasets: one __getitem__ per sample and collate_fn, in num_workers worker
    processes when > 0. pin_memory is accepted and ignored (there is no GPU)."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if generator is not None and not isinstance(generator, (Generator, np.random.Generator)):
            raise TypeError(f"generator: expected a fastnn.Generator, got {type(generator).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn: expected a callable, got {type(collate_fn).__name__}")
        self.dataset = dataset
        self.num_workers, self.pin_memory, self.timeout = int(num_workers), pin_memory, timeout
        self.worker_init_fn, self.multiprocessing_context = worker_init_fn, multiprocessing_context
        self.generator, self.prefetch_factor = generator, 2 if prefetch_factor is None else int(prefetch_factor)
        self.persistent_workers = persistent_workers
        self.batch_size, self.drop_last = batch_size, bool(drop_last)
        self._iterable = isinstance(dataset, IterableDataset)
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        self.sampler = sampler
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_sampler = batch_sampler
        self._auto_collate = collate_fn is None
        self.collate_fn = collate_fn if collate_fn is not None else (default_collate if batch_size is not None or
                                                                      batch_sampler is not None else _convert)
        self._pool = None

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            return n if self.batch_size is None else (n // self.batch_size if self.drop_last else -(-n // self.batch_size))
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def _batches(self):
        bs = self.batch_sampler
        if hasattr(bs, "_index_arrays"):
            return bs._index_arrays()
        return [np.asarray(b, np.int64) for b in bs]

    def __iter__(self):
        if self._iterable:
            return self._iter_iterable()
        if self.batch_sampler is None:  # batch_size=None: samples one by one
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        src = _gather_source(self.dataset) if self._auto_collate else None
        if src is not None:
            return self._iter_gather(src, self._batches())
        if self.num_workers > 0:
            return self._iter_workers(self._batches())
        return (self.collate_fn([self.dataset[int(i)] for i in b]) for b in self._batches())

    def _iter_gather(self, src, batches):
        arrays, sub, as_tuple = src
        for b in batches:
            idx = b if sub is None else sub[b]
            parts = tuple(_wrap(np.take(a, idx, axis=0)) for a in arrays)
            yield parts if as_tuple else parts[0]

    def _iter_workers(self, batches):
        pool = self._pool if self._pool is not None else _WorkerPool(self)
        lists = [b.tolist() for b in batches]
        try:
            yield from pool.run(lists)
        finally:
            if self.persistent_workers:
                self._pool = pool
            else:
                pool.close()

    def _iter_iterable(self):
        it = iter(self.dataset)
        if self.batch_size is None:
            for s in it:
                yield self.collate_fn(s)
            return
        buf = []
        for s in it:
            buf.append(s)
            if len(buf) == self.batch_size:
                yield self.collate_fn(buf)
                buf = []
        if buf and not self.drop_last:
            yield self.collate_fn(buf)

    def __del__(self):
        pool = getattr(self, "_pool", None)
        if pool is not None:
            try:
                pool.close()
            except Exception:
                pass


def _convert(x):
    """collate for batch_size=None: arrays and numbers become tensors, containers element-wise."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray) and x.dtype.kind not in "OUS":
        return _wrap(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_convert(v) for v in x)
    if isinstance(x, dict):
        return {k: _convert(v) for k, v in x.items()}
    return x


