"""The chapter's experiments, runnable: each states the lecture's claim, measures it on scikit-learn's
digits (and MNIST-1D when the `mnist1d` package is installed), says whether the measurement supports
the claim, and writes a PNG and a JSON (seeds, versions, figures).

    fastnn experiment list
    fastnn experiment run vanishing [--out DIR] [--quick]

    from fastnn import experiments
    result = experiments.run("optimizers", out="results", quick=True)
"""
from ._harness import EXPERIMENTS, Result, names, run

__all__ = ["run", "names", "EXPERIMENTS", "Result"]
