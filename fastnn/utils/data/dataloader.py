"""DataLoader: torch.utils.data's, plus what fit needs (batch augmentation, seeded epochs, a background
producer thread, a minimum last batch)."""
import numbers
import queue
import threading

import numpy as np

from ..._checks import int_at_least, positive_int, seed_arg
from ..._ext import _runtime
from ..._random import Generator, default_generator
from ...tensor import Tensor, _arr, _wrap
from ._workers import _WorkerPool
from .collate import _convert, default_collate
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def _gather_source(dataset):
    """(arrays, index map, whether samples are tuples) when batches can be gathered by vectorized
    indexing, else None."""
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


def _check_args(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, drop_last, timeout, generator,
                collate_fn, seed, transform, prefetch, min_last_batch):
    if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                             "and drop_last")
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
    if transform is not None and not callable(transform):
        raise TypeError(f"transform: expected a callable, got {type(transform).__name__}")
    seed = seed_arg(seed)
    if seed is not None and (sampler is not None or batch_sampler is not None or isinstance(dataset, IterableDataset)):
        raise ValueError("seed: draws the order itself; give it without a sampler, a batch_sampler or an "
                         "IterableDataset (or give those their own generator)")
    return seed, int_at_least(prefetch, "prefetch", 0), positive_int(min_last_batch, "min_last_batch")


class DataLoader:
    """Batches of a dataset (torch.utils.data.DataLoader's arguments and semantics).

    shuffle: a new order each epoch, drawn from `generator` (or the global generator); sampler /
    batch_sampler: custom orders; drop_last: drop a short last batch. In-memory datasets
    (TensorDataset, arrays, Subsets of them) with the default collate are gathered vectorized, in the
    calling process. Other datasets: one __getitem__ per sample and collate_fn, in num_workers worker
    processes when > 0. pin_memory is accepted and ignored (there is no GPU).

    fastnn's additions (keyword-only):

    * ``transform``: a batch augmentation ``transform(inputs, rng) -> inputs`` (fastnn.augment) applied
      to each batch's inputs (its first element) as an array, drawn afresh every epoch;
    * ``seed``: epoch e's order and augmentations come from ``numpy.random.default_rng([seed, e])``,
      so the same seed gives the same batches, epoch by epoch (``epoch`` is the next epoch's number;
      set_epoch(e) sets it, as DistributedSampler's);
    * ``prefetch``: batches prepared ahead by a background thread while the current one trains
      (gathering and fastnn's augmentation kernels release the GIL; the thread runs its kernels
      single-threaded so it does not oversubscribe the cores the training step uses); 0: inline;
    * ``min_last_batch``: a last batch with fewer samples joins the previous batch (batch norm needs
      two samples; fit sets it).

    Parameters
    ----------
    dataset : Dataset
        The dataset.
    batch_size : int or None, default 1
        Samples per batch (None: single samples).
    shuffle : bool, default None
        A new random order every epoch.
    sampler : Sampler or iterable, default None
        The order of the indices.
    batch_sampler : Sampler, optional
        Yields lists of indices (instead of batch_size, shuffle, sampler, drop_last).
    num_workers : int, default 0
        Worker processes loading the samples (0: in this process).
    collate_fn : callable, optional
        Makes a batch of a list of samples (default_collate).
    pin_memory : bool, default False
        Accepted for PyTorch's signature (no GPU).
    drop_last : bool, default False
        Drop the last batch when it is short.
    timeout : float, default 0
        Seconds to wait for a worker's batch (0: forever).
    worker_init_fn : callable, optional
        Called with the worker's id in each worker process.
    multiprocessing_context : str or context, optional
        The multiprocessing start method.
    generator : fastnn.Generator, optional
        Source of the random order (default: the global generator).
    prefetch_factor : int, optional
        Batches each worker loads ahead.
    persistent_workers : bool, default False
        Keep the worker processes between epochs.
    pin_memory_device : str, default ''
        Accepted for PyTorch's signature.
    transform : fastnn.augment batch transform, optional
        Applied to each batch's inputs (drawn anew every epoch).
    seed : int, optional
        Epoch e's order and augmentations come from (seed, e): set_epoch(e).
    prefetch : int, default 0
        Batches a background thread prepares ahead (0: none).
    min_last_batch : int, default 1
        A last batch smaller than this is merged into the previous one.

    Examples
    --------
    >>> from fastnn.utils.data import DataLoader, TensorDataset
    >>> loader = DataLoader(TensorDataset(fastnn.tensor(X), fastnn.tensor(y)), batch_size=32, shuffle=True)
    >>> for xb, yb in loader:
    ...     pass
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", transform=None, seed=None, prefetch=0, min_last_batch=1):
        self.seed, self.prefetch, self.min_last_batch = _check_args(
            dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, drop_last, timeout, generator,
            collate_fn, seed, transform, prefetch, min_last_batch)
        if batch_sampler is not None:
            batch_size, drop_last = None, False
        self.dataset, self.transform, self.shuffle, self.epoch = dataset, transform, bool(shuffle), 0
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
        self._own_batches = batch_sampler is not None and batch_size is not None  # (the loader makes them)
        self._auto_collate = collate_fn is None
        self.collate_fn = collate_fn if collate_fn is not None else (default_collate if batch_size is not None or
                                                                      batch_sampler is not None else _convert)
        self._pool = None

    def set_epoch(self, epoch):
        """The epoch the next iteration draws its seeded order and augmentations for."""
        self.epoch = int(epoch)

    def _stops(self, n):
        """Batch start offsets over n samples; a last batch shorter than min_last_batch joins the previous."""
        b = self.batch_size
        stops = list(range(0, n - (b - 1 if self.drop_last else 0), b))
        if not self.drop_last and len(stops) > 1 and n - stops[-1] < self.min_last_batch:
            stops.pop()
        return stops

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self._own_batches:
            return len(self._stops(len(self.sampler)))
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def _epoch_plan(self):
        """(index arrays of this epoch's batches, the generator its augmentations draw from)."""
        if self.seed is not None:
            rng = np.random.default_rng([self.seed, self.epoch])
            n = len(self.dataset)
            idx = rng.permutation(n) if self.shuffle else np.arange(n)
        else:  # the sampler's order, then a generator for the augmentations from the global one
            if not self._own_batches:
                bs = self.batch_sampler
                batches = bs._index_arrays() if hasattr(bs, "_index_arrays") else [np.asarray(b, np.int64) for b in bs]
                return batches, self._augment_rng()
            s = self.sampler
            idx = s._indices() if hasattr(s, "_indices") else np.fromiter(iter(s), np.int64)
            rng = self._augment_rng()
        self.epoch += 1
        stops = self._stops(len(idx))
        last_end = (stops[-1] + self.batch_size if stops else 0) if self.drop_last else len(idx)
        return [idx[i:j] for i, j in zip(stops, stops[1:] + [last_end])], rng

    def _augment_rng(self):
        return np.random.default_rng(default_generator.next_seed()) if self.transform is not None else None

    def __iter__(self):
        if self._iterable:
            return self._iter_iterable()
        if self.batch_sampler is None:  # batch_size=None: samples one by one
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        batches, rng = self._epoch_plan()
        src = _gather_source(self.dataset) if self._auto_collate else None
        if src is not None:
            make = self._gather(src, rng)
            return self._produce(batches, make) if self.prefetch else (make(b) for b in batches)
        if self.num_workers > 0:
            return self._augmented(self._iter_workers(batches), rng)
        make = self._collated(rng)
        return self._produce(batches, make) if self.prefetch else (make(b) for b in batches)

    def _augment(self, batch, rng):
        """The transform applied to a batch's inputs (its first element), as an array."""
        if self.transform is None:
            return batch
        if isinstance(batch, (tuple, list)):
            x = self.transform(np.asarray(_arr(batch[0])), rng)
            return type(batch)([_wrap(np.asarray(x))] + list(batch[1:]))
        return _wrap(np.asarray(self.transform(np.asarray(_arr(batch)), rng)))

    def _gather(self, src, rng):
        arrays, sub, as_tuple = src

        def make(b):
            idx = b if sub is None else sub[b]
            parts = [np.take(a, idx, axis=0) for a in arrays]
            if self.transform is not None:
                parts[0] = self.transform(parts[0], rng)
            parts = tuple(_wrap(p) for p in parts)
            return parts if as_tuple else parts[0]
        return make

    def _collated(self, rng):
        def make(b):
            return self._augment(self.collate_fn([self.dataset[int(i)] for i in b]), rng)
        return make

    def _augmented(self, batches, rng):
        for batch in batches:
            yield self._augment(batch, rng)

    def _produce(self, batches, make):
        """make(b) for each batch, prepared ahead by a background thread (at most `prefetch` waiting)."""
        q = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def produce():
            # one thread for this thread's kernels: the training step's team has the cores
            _runtime.set_thread_local_threads(1)
            try:
                for b in batches:
                    item = make(b)
                    while not stop.is_set():
                        try:
                            q.put(("ok", item), timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                q.put(("end", None))
            except BaseException as e:  # hand the error to the consumer
                q.put(("error", e))

        th = threading.Thread(target=produce, name="fastnn-prefetch", daemon=True)
        th.start()
        try:
            while True:
                kind, item = q.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise item
                yield item
        finally:
            stop.set()
            while th.is_alive():
                try:
                    q.get_nowait()
                except queue.Empty:
                    th.join(0.05)

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
