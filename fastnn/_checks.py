"""Argument checks every floor shares: a bad argument raises ValueError (or TypeError) naming it and what
was expected, before anything changes."""
import numbers

import numpy as np


def positive_int(v, name):
    """v as an int >= 1 (bools refused)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Integral, np.integer)) or v < 1:
        raise ValueError(f"{name}: expected a positive int, got {v!r}")
    return int(v)


def int_at_least(v, name, lo):
    """v as an int >= lo (bools refused)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Integral, np.integer)) or v < lo:
        raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")
    return int(v)


def probability(p, name="p"):
    """p as a float in [0, 1] (bools refused)."""
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (numbers.Real, np.floating, np.integer)) \
            or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: expected a probability in [0, 1], got {p!r}")
    return float(p)


def positive_ints(v, name):
    """An int or a sequence of ints, each >= 1, as a tuple."""
    vs = (v,) if isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool) else tuple(v)
    if any(isinstance(h, (bool, np.bool_)) or not isinstance(h, (numbers.Integral, np.integer)) or h < 1 for h in vs):
        raise ValueError(f"{name}: expected positive ints, got {v!r}")
    return tuple(int(h) for h in vs)


def seed_arg(seed, name="seed"):
    """None or an int >= 0."""
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral, np.integer))
                             or seed < 0):
        raise ValueError(f"{name}: expected None or an int >= 0, got {seed!r}")
    return None if seed is None else int(seed)
