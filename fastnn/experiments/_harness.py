"""The experiments' common parts: the registry they enter, data, a training helper, results."""
from dataclasses import dataclass, field

import numpy as np

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
    from sklearn.datasets import load_digits

    d = load_digits()
    X, y = (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)
    idx = np.random.default_rng(seed).permutation(len(X))
    n = len(X) // 5
    te, tr = idx[:n], idx[n:]
    if images:
        X = X.reshape(-1, 1, 8, 8)
    return X[tr], y[tr], X[te], y[te]


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
    from .. import nn

    layers, w = [], n_in
    for h in hidden:
        layers.append(nn.Linear(w, h, init=init, regularizer=regularizer))
        if bn:
            layers.append(nn.BatchNorm1d(h))
        layers.append(act())
        if dropout:
            layers.append(nn.Dropout(dropout))
        w = h
    layers.append(nn.Linear(w, n_out, regularizer=regularizer))
    return nn.Sequential(*layers)


def train(model, data, optimizer, epochs, batch_size=32, seed=0, **fit_kw):
    """fit on the training split (validation: the test split, for curves) with reproducible batches;
    returns (history, test accuracy)."""
    from .. import evaluate, fit, nn

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
