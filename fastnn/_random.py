"""Seeding: one global generator (``fastnn.manual_seed``) from which layers draw their initial weights
and the base seeds of their random kernels (dropout, RReLU). Kernel randomness itself is counter-based
(Philox keyed by a seed), so a seeded run gives the same numbers whatever the thread count."""
import numpy as np

_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


class Generator:
    """A random number generator (torch.Generator's API): NumPy's PCG64 for initialization, shuffling
    and tensor sampling, plus a source of 64-bit seeds for the counter-based kernel streams."""

    def __init__(self, device="cpu", seed=None):
        if isinstance(device, (int, np.integer)) and not isinstance(device, bool):  # Generator(seed)
            device, seed = "cpu", device
        if str(device).split(":")[0] != "cpu":
            raise NotImplementedError(f"Generator(device={device!r}): fastnn runs on the CPU only")
        self.manual_seed(seed)

    def manual_seed(self, seed):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed: expected a non-negative int or None, got {seed!r}")
        self.initial_seed = int(seed) if seed is not None else int(np.random.SeedSequence().entropy % (1 << 63))
        self.numpy = np.random.default_rng(self.initial_seed)
        return self

    def next_seed(self):
        """A fresh 64-bit seed for a random kernel stream."""
        return int(self.numpy.integers(0, 1 << 63, dtype=np.int64))

    def seed(self):
        """Reseed from fresh entropy; returns the new seed."""
        return self.manual_seed(None).initial_seed

    def get_state(self):
        """The generator's whole state (a dict; give it back to set_state to replay)."""
        return {"initial_seed": self.initial_seed, "bit_generator": self.numpy.bit_generator.state}

    def set_state(self, state):
        self.initial_seed = state["initial_seed"]
        self.numpy.bit_generator.state = state["bit_generator"]
        return self

    @property
    def device(self):
        return "cpu"


default_generator = Generator()


def manual_seed(seed):
    """Seed fastnn's global generator: models built afterwards, and their dropout/RReLU streams,
    are reproducible."""
    return default_generator.manual_seed(seed)


def stream_seed(base, counter):
    """Seed of call `counter` of a random layer whose base seed is `base` (a different Philox key per
    call; Philox streams under distinct keys are independent)."""
    return (base + (counter + 1) * _GOLDEN) & _MASK


def numpy_rng(rng):
    """rng argument rule: None -> the global generator; an int -> a new seeded generator;
    a numpy Generator or a fastnn Generator -> used as is."""
    if rng is None:
        return default_generator.numpy
    if isinstance(rng, Generator):
        return rng.numpy
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng: expected None, an int seed or a numpy Generator, got {type(rng).__name__}")
