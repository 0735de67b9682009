"""fastnn.utils.data: torch.utils.data's datasets, samplers and DataLoader.

Batches of in-memory datasets (TensorDataset, NumPy arrays, Subsets of them) are gathered with one
vectorized indexing per tensor instead of one __getitem__ per sample. Other datasets go through
__getitem__ and ``collate_fn``; with ``num_workers > 0`` they run in worker processes (forked on Linux;
fastnn's kernels are single-threaded in a forked child, so a fork never hangs in OpenMP). Shuffling
draws from ``generator``, or from the global generator, so ``fastnn.manual_seed`` makes every epoch's
order reproducible. fastnn's additions to the DataLoader (what ``fit`` uses): ``transform=`` (batch
augmentation, fastnn.augment), ``seed=`` (epoch-by-epoch reproducible order and augmentation),
``prefetch=`` (batches prepared by a background thread) and ``min_last_batch=``.
"""
from ._workers import WorkerInfo, get_worker_info
from .collate import default_collate
from .dataloader import DataLoader
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "Sampler",
           "DistributedSampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
           "WeightedRandomSampler", "DataLoader", "default_collate", "get_worker_info", "WorkerInfo"]
