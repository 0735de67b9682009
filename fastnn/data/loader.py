"""DataLoader: mini-batches from in-memory arrays, prepared ahead by a background thread."""
import queue
import threading

import numpy as np

from .._ext import _runtime


class DataLoader:
    """Batches (X[idx], y[idx]) (or X[idx] when y is None) of in-memory arrays.

    shuffle: a new permutation every epoch; transform(batch, rng): augmentation drawn afresh every
    epoch. seed: the same seed gives the same batches and augmentations, epoch by epoch (epoch e uses
    the generator seeded by (seed, e)). prefetch: batches prepared ahead by a background thread while
    the current one trains (gathering and fastnn's augmentation kernels release the GIL; that thread
    runs its kernels single-threaded so it does not oversubscribe the cores the training step uses);
    0 prepares them in the calling thread.
    """

    def __init__(self, X, y=None, batch_size=32, shuffle=True, drop_last=False, transform=None, seed=None,
                 prefetch=2, merge_single=False):
        X = np.asarray(X)
        if X.ndim < 1 or X.shape[0] == 0:
            raise ValueError(f"X: expected a non-empty array of samples, got shape {X.shape}")
        if y is not None:
            y = np.asarray(y)
            if y.shape[0] != X.shape[0]:
                raise ValueError(f"X, y: different numbers of samples ({X.shape[0]} and {y.shape[0]})")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
        if isinstance(prefetch, bool) or not isinstance(prefetch, (int, np.integer)) or prefetch < 0:
            raise ValueError(f"prefetch: expected an int >= 0, got {prefetch!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform: expected a callable, got {type(transform).__name__}")
        self.X, self.y = X, y
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.transform, self.prefetch = transform, int(prefetch)
        self.merge_single = bool(merge_single)
        self.min_last = 2 if merge_single else 1  # (fit under mpiexec raises it: 2 samples per rank)
        if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise ValueError(f"seed: expected None or an int >= 0, got {seed!r}")
        self.seed = int(seed) if seed is not None else int(np.random.SeedSequence().entropy % (1 << 63))
        self.epoch = 0

    def __len__(self):
        return len(self._stops())

    def _stops(self):
        """Batch start offsets; with merge_single a last batch of one sample joins the previous batch
        (batch norm needs two)."""
        n, b = self.X.shape[0], self.batch_size
        stops = list(range(0, n - (b - 1 if self.drop_last else 0), b))
        if self.merge_single and not self.drop_last and len(stops) > 1 and n - stops[-1] < self.min_last:
            stops.pop()
        return stops

    def _make(self, idx, rng):
        xb = self.X.take(idx, axis=0)
        if self.transform is not None:
            xb = self.transform(xb, rng)
        return (xb, self.y.take(idx, axis=0)) if self.y is not None else xb

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        n = self.X.shape[0]
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        stops = self._stops()
        last_end = (stops[-1] + self.batch_size if stops else 0) if self.drop_last else n
        ends = stops[1:] + [last_end]
        batches = [order[i:j] for i, j in zip(stops, ends)]
        if self.prefetch == 0:
            for idx in batches:
                yield self._make(idx, rng)
            return
        q = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def produce():
            # one thread for this thread's kernels: the training step's team has the cores
            _runtime.set_thread_local_threads(1)
            try:
                for idx in batches:
                    item = self._make(idx, rng)
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
