"""The experiments' common parts: the registry they enter, data, a training helper, results."""
from dataclasses import dataclass, field

import numpy as np

from .. import _digits

EXPERIMENTS = {}  # name -> (function(quick) -> Result, one-line description), filled by the modules below


def experiment(name, description):
    def register(fn):
        EXPERIMENTS[name] = (fn, description)
        return fn
    return register


@dataclass
class Result:
    name: str
    claim: str
    measured: str
    supports: str                  # "yes" | "partly" | "no"
    verdict: str
    figures: dict = field(default_factory=dict)
    seeds: list = field(default_factory=list)
    quick: bool = False
    seconds: float = 0.0
    png: str = None
    plot: object = None            # f(path): draws the figure (not serialized)

    def __str__(self):
        return (f"== {self.name} ==\nclaim:    {self.claim}\nmeasured: {self.measured}\nsupports: {self.supports} -- "
                f"{self.verdict}")


DATA_NOTES = ("digits: scikit-learn's 1797 8x8 handwritten digits, pixels / 16, a 20 % test split (permutation "
              "seed 0); MNIST-1D: the mnist1d package's default data, when installed")


def digits(seed=0, images=False):
    return _digits.split(seed, images=images)


def mnist1d():
    """MNIST-1D's default data, or None when the package is absent."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        return None
    d = make_dataset(get_dataset_args())
    return (d["x"].astype(np.float32), d["y"].astype(np.int64), d["x_test"].astype(np.float32),
            d["y_test"].astype(np.int64))


def mlp(n_in, n_out, hidden, act, init, bn=False, dropout=0.0, regularizer=None):
    from ..nn.container import mlp

    return mlp(n_in, hidden, n_out, act, init=init, batch_norm=bn, dropout=dropout, regularizer=regularizer)


def train(model, data, optimizer, epochs, batch_size=32, seed=0, **fit_kw):
    """fit on the training split (validation: the test split, for curves) with reproducible batches;
    returns (history, test accuracy)."""
    from .. import nn
    from ..training import evaluate, fit

    Xtr, ytr, Xte, yte = data
    fit_kw.setdefault("verbose", 0)
    fit_kw["seed"] = seed
    h = fit(model, Xtr, ytr, loss=nn.CrossEntropyLoss(), optimizer=optimizer, epochs=epochs, batch_size=batch_size,
            validation_data=(Xte, yte), **fit_kw)
    acc = evaluate(model, Xte, yte, loss=nn.CrossEntropyLoss())["accuracy"] if not h.terminated_on_nan else float("nan")
    return h, acc


def save_figure(fig, path):
    """Every experiment's figure ends the same way: laid out, written at 90 dpi, closed."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def median(v):
    v = [x for x in v if x == x]
    return float(np.median(v)) if v else float("nan")


def seeds(quick, full=5):
    return [0] if quick else list(range(full))
