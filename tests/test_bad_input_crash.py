"""No input, however wrong, may crash the process: every op is called with hostile arguments in a
fresh interpreter, which must exit normally (exceptions are fine, signals are not)."""
import pytest

from _helpers import run_python

FUZZ = r'''
import itertools, numpy as np
from fastnn import ops
rng = np.random.default_rng(0)
buf = np.zeros(4 * 64 + 1, np.uint8)
unaligned = np.frombuffer(buf.data, dtype=np.float32, count=64, offset=1)
ro = np.ones((4, 4), np.float32); ro.flags.writeable = False
cands = [
    None, 0, 1.5, -1, 2**70, "x", [1, 2], [[1.0, 2.0], [3.0]], object(),
    np.float32(1.0), np.array(1.0, np.float32), np.zeros(0, np.float32), np.zeros((0, 0)),
    np.ones((3, 4), np.float32), np.ones((4, 3)), np.ones((2, 3, 4, 5), np.float32),
    np.ones((3, 4), np.int64), np.ones(3, np.bool_), np.ones(3, np.complex64), np.ones(3, np.float16),
    np.ones((6, 8), np.float32)[::2, ::3], np.ones((5, 4), np.float32).T, unaligned, ro,
    np.array([np.nan, np.inf, -np.inf], np.float32), np.array([-5, 99], np.int64),
    np.ones((1, 2**20), np.float32), np.empty((2**31, 0), np.float32),
]
names = [n for n in ops.__all__]
count = 0
for name in names:
    f = getattr(ops, name)
    for args in itertools.chain(itertools.product(cands, repeat=1), itertools.product(cands[9:24:2], repeat=2)):
        for extra in ([], [cands[13]], [cands[13], cands[13], cands[13]]):
            try:
                f(*args, *extra)
            except Exception:
                pass
            count += 1
    for kw in ({"out": unaligned}, {"out": ro}, {"out": np.ones((3, 4), np.float32)[:, :2]},
               {"seed": -1}, {"seed": 2**64}, {"step": 0, "lr": 0.1}, {"reduction": "x"}):
        for args in ([cands[13]], [cands[13], cands[13]], [cands[13], cands[13], cands[13], cands[13]]):
            try:
                f(*args, **kw)
            except Exception:
                pass
print("survived", count)
'''


def test_hostile_arguments_never_crash():
    r = run_python(FUZZ, timeout=600)
    assert r.returncode == 0, f"interpreter died (code {r.returncode}): {r.stderr[-2000:]}"
    assert "survived" in r.stdout


def test_unaligned_and_readonly_inputs_are_handled():
    import numpy as np
    from fastnn import ops

    buf = np.zeros(4 * 1000 + 1, np.uint8)
    x = np.frombuffer(buf.data, dtype=np.float32, count=1000, offset=1)
    assert not x.flags.aligned
    np.testing.assert_array_equal(ops.relu(x), np.zeros(1000, np.float32))
    w = np.frombuffer(bytearray(buf.tobytes()), dtype=np.float32, count=1000, offset=1)
    with pytest.raises(ValueError, match="param: must be aligned"):
        ops.sgd_step(w, np.zeros(1000, np.float32), None, step=1, lr=0.1)
