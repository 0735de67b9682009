"""The chapter's experiments, runnable: each states the lecture's claim, measures it on scikit-learn's
digits (and MNIST-1D when the `mnist1d` package is installed), says whether the measurement supports
the claim, and writes a PNG and a JSON (seeds, versions, figures).

    fastnn experiment list
    fastnn experiment run vanishing [--out DIR] [--quick]

    from fastnn import experiments
    result = experiments.run("optimizers", out="results", quick=True)
"""
import json
import os
import platform
import time
from dataclasses import asdict

import numpy as np

from .._version import __version__
from ._harness import DATA_NOTES, EXPERIMENTS, Result


__all__ = ["run", "names", "EXPERIMENTS", "Result"]


def names():
    _load()
    return list(EXPERIMENTS)


def _load():
    from . import problems, optimization, generalization, reuse  # noqa: F401,I001  (they register; chapter order)


def run(name, out=".", quick=False, verbose=True):
    """Run one experiment; write <out>/<name>.json and <out>/<name>.png (when matplotlib is installed);
    return its Result."""
    _load()
    if name not in EXPERIMENTS:
        raise KeyError(f"no experiment named {name!r}; experiments: {', '.join(EXPERIMENTS)}")
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    res = EXPERIMENTS[name][0](quick)
    res.seconds = round(time.perf_counter() - t0, 2)
    res.quick = quick
    if res.plot is not None:
        try:
            import matplotlib

            matplotlib.use("Agg")
            res.png = os.path.join(out, f"{name}.png")
            res.plot(res.png)
        except ImportError:
            res.png = None
    record = {k: v for k, v in asdict(res).items() if k != "plot"}
    record["versions"] = {"fastnn": __version__, "numpy": np.__version__, "python": platform.python_version()}
    record["data"] = DATA_NOTES
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(record, f, indent=1, default=float)
    if verbose:
        print(res)
        print(f"({res.seconds:.1f} s; {os.path.join(out, name + '.json')}" + (f", {res.png})" if res.png else ")"))
    return res

