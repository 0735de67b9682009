"""The DataLoader's fastnn additions on in-memory arrays: seeded epochs, batch augmentation, a background
producer thread, a minimum last batch."""
import numpy as np
import pytest

from fastnn import augment as D
from fastnn.utils.data import DataLoader, TensorDataset


def arrays(X, y=None, **kw):
    return DataLoader(TensorDataset(X, y) if y is not None else TensorDataset(X), **kw)


def batches(dl):
    return [tuple(t.numpy() for t in b) for b in dl]


def test_batches_cover_data_and_are_reproducible():
    X = np.arange(103 * 2, dtype=np.float32).reshape(103, 2)
    y = np.arange(103)
    for prefetch in (0, 2):
        dl = arrays(X, y, batch_size=10, shuffle=True, seed=3, prefetch=prefetch)
        assert len(dl) == 11
        e1 = batches(dl)
        e2 = batches(dl)
        seen = np.concatenate([b[1] for b in e1])
        assert sorted(seen) == list(range(103))
        np.testing.assert_array_equal(e1[0][0], X[e1[0][1]])
        assert not np.array_equal(np.concatenate([b[1] for b in e2]), seen)  # new order each epoch
        again = arrays(X, y, batch_size=10, shuffle=True, seed=3, prefetch=prefetch)
        for a, b in zip(e1, batches(again)):
            np.testing.assert_array_equal(a[1], b[1])
    dl = arrays(X, y, batch_size=10, shuffle=False, drop_last=True)
    bs = batches(dl)
    assert len(bs) == len(dl) == 10 and bs[0][1].tolist() == list(range(10))


def test_augmentation_fresh_each_epoch_same_with_seed():
    X = np.random.default_rng(0).random((20, 1, 6, 6)).astype(np.float32)
    t = D.BatchRandomShift(2, 2)
    a1, a2 = [np.concatenate([b[0] for b in batches(arrays(X, batch_size=5, seed=1, transform=t, shuffle=False))])
              for _ in range(2)]
    np.testing.assert_array_equal(a1, a2)
    dl = arrays(X, batch_size=5, seed=1, transform=t, shuffle=False)
    e1, e2 = np.concatenate([b[0] for b in batches(dl)]), np.concatenate([b[0] for b in batches(dl)])
    assert not np.array_equal(e1, e2)


def test_a_short_last_batch_joins_the_previous_one():
    X = np.arange(21, dtype=np.float32)[:, None]
    dl = arrays(X, batch_size=10, shuffle=True, seed=0, min_last_batch=2)
    sizes = [len(b[0]) for b in batches(dl)]
    assert len(dl) == 2 and sizes == [10, 11]


def test_errors():
    with pytest.raises(ValueError, match="different numbers of samples"):
        arrays(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="non-empty"):
        arrays(np.zeros((0, 2)), shuffle=True)
    with pytest.raises(ValueError, match="batch_size"):
        arrays(np.zeros((3, 2)), batch_size=0)
    with pytest.raises(ValueError, match="seed"):
        DataLoader(TensorDataset(np.zeros((3, 2))), sampler=[0, 1, 2], seed=1)

    def boom(x, rng):
        raise RuntimeError("transform failed")

    with pytest.raises(RuntimeError, match="transform failed"):
        list(arrays(np.zeros((3, 2)), transform=boom))


def test_early_break_stops_the_producer():
    import threading
    before = threading.active_count()
    dl = arrays(np.zeros((1000, 2)), batch_size=1, prefetch=2)
    for i, _ in enumerate(dl):
        if i == 3:
            break
    import time
    time.sleep(0.3)
    assert threading.active_count() <= before
