"""scikit-learn's handwritten digits (1797 8x8 images, 10 classes), as the demo, the zoo and the experiments
use them: one loader, one split."""
import numpy as np


def load(scale=True, classes=None):
    """(X, y): the pixels as float32 (divided by 16 with scale, else 0..16) and the labels as int64; only
    the given classes when classes is not None (in the data's order)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise RuntimeError("scikit-learn's bundled digits data is needed: pip install scikit-learn") from None
    d = load_digits()
    X = (d.data / 16.0 if scale else d.data).astype(np.float32)
    y = d.target.astype(np.int64)
    if classes is not None:
        keep = np.isin(y, list(classes))
        X, y = X[keep], y[keep]
    return X, y


def split(seed=0, test_fraction=0.2, scale=True, classes=None, images=False):
    """(X_train, y_train, X_test, y_test): a random test_fraction of the samples (a permutation from `seed`)
    held out; images=True shapes X as (N, 1, 8, 8)."""
    X, y = load(scale, classes)
    if images:
        X = X.reshape(-1, 1, 8, 8)
    idx = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(len(X) * test_fraction))
    return X[idx[n_test:]], y[idx[n_test:]], X[idx[:n_test]], y[idx[:n_test]]
