"""fastnn.utils.data against torch.utils.data's semantics: datasets, splits, samplers, collation, the
vectorized path for in-memory data, reproducible shuffling, and worker processes."""
import numpy as np
import pytest

import fastnn
from fastnn.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                               SequentialSampler, Subset, TensorDataset, WeightedRandomSampler, default_collate,
                               get_worker_info, random_split)


class Squares(Dataset):
    """A Python dataset: one __getitem__ per sample (the path that worker processes serve)."""

    def __init__(self, n=37):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full(3, i, np.float32), i * i


class Failing(Squares):
    def __getitem__(self, i):
        if i == 5:
            raise KeyError("sample 5 is broken")
        return super().__getitem__(i)


def test_tensor_dataset_subset_concat_and_split():
    X, y = fastnn.arange(20.0).reshape(10, 2), fastnn.arange(10)
    ds = TensorDataset(X, y)
    assert len(ds) == 10 and ds[3][1].item() == 3 and ds[3][0].tolist() == [6.0, 7.0]
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(X, fastnn.arange(9))
    sub = Subset(ds, [4, 1])
    assert len(sub) == 2 and sub[1][1].item() == 1
    cat = ConcatDataset([ds, sub])
    assert len(cat) == 12 and cat[11][1].item() == 1 and cat[-1][1].item() == 1
    fastnn.manual_seed(0)
    a, b = random_split(ds, [7, 3])
    assert len(a) == 7 and len(b) == 3 and sorted(a.indices + b.indices) == list(range(10))
    fastnn.manual_seed(0)
    a2, _ = random_split(ds, [7, 3])
    assert a2.indices == a.indices  # the global seed makes it reproducible
    g = fastnn.Generator().manual_seed(42)
    parts = random_split(range(10), [0.5, 0.3, 0.2], generator=g)
    assert [len(p) for p in parts] == [5, 3, 2]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [5, 6])


def test_loader_batches_in_order_and_vectorized():
    X, y = fastnn.arange(30.0).reshape(10, 3), fastnn.arange(10)
    dl = DataLoader(TensorDataset(X, y), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 == len(batches)
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert isinstance(batches[0][0], fastnn.Tensor) and batches[0][0].shape == (4, 3)
    assert [b[1].tolist() for b in DataLoader(TensorDataset(X, y), batch_size=4, drop_last=True)] == \
        [[0, 1, 2, 3], [4, 5, 6, 7]]
    arr = np.arange(12.0).reshape(6, 2)
    assert [b.shape for b in DataLoader(arr, batch_size=4)] == [(4, 2), (2, 2)]  # a plain array dataset
    sub = Subset(TensorDataset(X, y), [9, 0, 5])
    assert [b[1].tolist() for b in DataLoader(sub, batch_size=2)] == [[9, 0], [5]]


def test_shuffle_reproducible_under_manual_seed_and_generator():
    ds = TensorDataset(fastnn.arange(50))

    def epoch(dl):
        return [x for (b,) in dl for x in b.tolist()]

    fastnn.manual_seed(1)
    dl = DataLoader(ds, batch_size=8, shuffle=True)
    e1, e2 = epoch(dl), epoch(dl)
    assert sorted(e1) == list(range(50)) and e1 != e2  # a fresh order each epoch
    fastnn.manual_seed(1)
    dl = DataLoader(ds, batch_size=8, shuffle=True)
    assert epoch(dl) == e1 and epoch(dl) == e2
    g1, g2 = fastnn.Generator().manual_seed(7), fastnn.Generator().manual_seed(7)
    assert epoch(DataLoader(ds, batch_size=8, shuffle=True, generator=g1)) == \
        epoch(DataLoader(ds, batch_size=8, shuffle=True, generator=g2))


def test_samplers_and_collate():
    ds = Squares(10)
    assert list(SequentialSampler(ds)) == list(range(10))
    r = list(RandomSampler(ds, generator=fastnn.Generator().manual_seed(0)))
    assert sorted(r) == list(range(10))
    assert len(list(RandomSampler(ds, replacement=True, num_samples=25))) == 25
    assert list(BatchSampler(SequentialSampler(ds), 4, drop_last=False)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    w = WeightedRandomSampler([0.0, 0.0, 1.0], 20)
    assert set(w) == {2}
    dl = DataLoader(ds, batch_size=4, sampler=SequentialSampler(ds))
    x, yy = next(iter(dl))
    assert x.shape == (4, 3) and x.dtype == fastnn.float32 and yy.dtype == fastnn.int64 and yy.tolist() == [0, 1, 4, 9]
    dl = DataLoader(ds, batch_sampler=[[3, 1], [2]])
    assert [b[1].tolist() for b in dl] == [[9, 1], [4]]
    out = default_collate([{"a": 1.0, "b": np.zeros(2)}, {"a": 2.0, "b": np.ones(2)}])
    assert out["a"].dtype == fastnn.float64 and out["b"].shape == (2, 2)
    assert default_collate([("x", 1), ("y", 2)])[0] == ["x", "y"]
    dl = DataLoader(ds, batch_size=3, collate_fn=lambda batch: len(batch))
    assert list(dl) == [3, 3, 3, 1]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]


def _init(wid):
    np.random.seed(1000 + wid)


def test_worker_processes_give_the_same_batches_and_do_not_hang():
    """num_workers > 0 on a Python dataset, after fastnn ran multi-threaded kernels in this process
    (a forked worker would hang in OpenMP without the at-fork switch to serial kernels)."""
    fastnn.ops.relu(np.ones(4_000_000, np.float32))
    ds = Squares(37)
    ref = [(x.numpy().copy(), y.tolist()) for x, y in DataLoader(ds, batch_size=5)]
    got = [(x.numpy().copy(), y.tolist()) for x, y in DataLoader(ds, batch_size=5, num_workers=2, worker_init_fn=_init,
                                                                   timeout=60)]
    assert len(got) == len(ref) == 8
    for (a, b), (c, d) in zip(ref, got):
        np.testing.assert_array_equal(a, c)
        assert b == d
    dl = DataLoader(ds, batch_size=8, num_workers=2, persistent_workers=True, shuffle=True)
    for _ in range(2):
        assert sorted(v for _, y in dl for v in y.tolist()) == sorted(i * i for i in range(37))


def test_worker_errors_are_raised_in_the_main_process():
    with pytest.raises(RuntimeError, match="sample 5 is broken"):
        list(DataLoader(Failing(12), batch_size=4, num_workers=2))


def test_worker_info_outside_workers_is_none():
    assert get_worker_info() is None
