"""DataLoader worker processes: one __getitem__ per sample and collate_fn, batches delivered in order."""
import multiprocessing
import queue as _queue
import sys
import traceback

import numpy as np

from ..._random import default_generator
from .dataset import _numpy_rng


class WorkerInfo:
    """What a DataLoader worker process knows of itself (``get_worker_info()``).

    Parameters
    ----------
    id : int
        This worker's index.
    num_workers : int
        Worker processes loading the samples (0: in this process).
    seed : int, optional
        Seed of the random order (and augmentations).
    dataset : Dataset
        The worker's copy of the dataset.
    """
    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset



_worker_info = None



def get_worker_info():
    """In a DataLoader worker process: its WorkerInfo (id, num_workers, seed, dataset); else None.

    Returns
    -------
    WorkerInfo or None
        The calling worker's information; None in the main process.
    """
    return _worker_info



def _worker_loop(dataset, collate, index_q, result_q, wid, nw, seed, init_fn):
    global _worker_info
    from ... import _threads

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
