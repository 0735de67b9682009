"""Test helpers: tolerances per dtype, central finite differences in float64, shapes, subprocess runs."""
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
from hypothesis import strategies as st

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def tol(dtype, scale=1.0):
    t = TOL[np.dtype(dtype).type]
    return dict(rtol=t["rtol"] * scale, atol=t["atol"] * scale)


# sizes 0, 1, odd and around the SIMD/threading boundaries
sizes = st.sampled_from([0, 1, 2, 3, 7, 15, 16, 17, 63, 100, 257, 1000, 4097, 70001])
shapes = st.one_of(
    sizes.map(lambda n: (n,)),
    st.tuples(st.integers(0, 40), st.integers(1, 40)),
    st.tuples(st.integers(1, 5), st.integers(1, 6), st.integers(1, 7), st.integers(1, 5)),
)


def randn(shape, dtype, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def numgrad(f, x, g, h=1e-6):
    """d/dx of sum(g * f(x)) by central differences, every element (float64)."""
    x = x.astype(np.float64).copy()
    out = np.zeros_like(x)
    flat, of = x.reshape(-1), out.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = np.sum(g * f(x))
        flat[i] = old - h
        fm = np.sum(g * f(x))
        flat[i] = old
        of[i] = (fp - fm) / (2 * h)
    return out


def assert_grad_close(analytic, numeric, rtol=1e-6):
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    scale = max(1.0, float(np.abs(numeric).max(initial=0.0)))
    err = float(np.abs(analytic - numeric).max(initial=0.0)) / scale
    assert err < rtol, f"relative gradient error {err:.2e} >= {rtol:.0e}"


def run_python(code, timeout=120):
    """Run code in a fresh interpreter (for inputs that could crash the process), from a temporary
    directory so that it imports the installed fastnn, never the source tree's."""
    with tempfile.TemporaryDirectory() as d:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                              text=True, timeout=timeout, cwd=d)


def state_snapshot(model=None, optimizer=None, grads=True):
    """Everything a failing call must leave untouched: parameter values (and gradients), buffers, modes,
    and the optimizer's hyperparameters, state arrays and step counts (all copied)."""
    import copy

    snap = {}
    if model is not None:
        snap["params"] = [(n, p._a.copy()) + ((p._g.copy(),) if grads else ()) + (p.requires_grad,)
                          for n, p in model.named_parameters()]
        snap["buffers"] = [(n, b._a.copy()) for n, b in model.named_buffers()]
        snap["modes"] = [(n, m.training) for n, m in model.named_modules()]
        snap["structure"] = repr(model)
    if optimizer is not None:
        snap["opt"] = copy.deepcopy(optimizer.state_dict())
        snap["steps"] = dict(optimizer._steps)
    return snap


def assert_nothing_changed(before, after):
    """The two snapshots are identical, bit for bit."""
    assert before.keys() == after.keys()
    for key in before:
        a, b = before[key], after[key]
        if key in ("params", "buffers"):
            assert len(a) == len(b), key
            for x, y in zip(a, b):
                assert x[0] == y[0]
                for u, v in zip(x[1:], y[1:]):
                    if isinstance(u, np.ndarray):
                        np.testing.assert_array_equal(u, v, err_msg=f"{key} {x[0]} changed")
                    else:
                        assert u == v, f"{key} {x[0]} changed"
        elif key == "opt":
            _same_tree(a, b, "optimizer state")
        else:
            assert a == b, f"{key} changed"


def _same_tree(a, b, where):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same_tree(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            _same_tree(u, v, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=f"{where} changed")
    else:
        assert a == b or (a != a and b != b), f"{where} changed: {a!r} -> {b!r}"
