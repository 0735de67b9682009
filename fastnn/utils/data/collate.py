"""Collation: a list of samples into a batch (torch.utils.data's default_collate)."""
import collections.abc
import numbers

import numpy as np

from ...tensor import Tensor, _wrap


def default_collate(batch):
    """Stack a list of samples: tensors and arrays along a new first axis, numbers into a tensor
    (ints int64, floats float64, as PyTorch), tuples/lists and dicts element-wise, strings kept as lists.

    Parameters
    ----------
    batch : list
        The samples to combine.
    """
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
