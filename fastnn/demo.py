"""`fastnn demo`: the course's recommended default network on scikit-learn's handwritten digits.

He initialization, ELU, batch normalization, dropout and Nesterov accelerated gradient, no learning-rate
schedule (the chapter's practical default), with early stopping on a validation split. Prints test
accuracy, time and throughput, and writes the learning curves (loss, accuracy, generalization gap)
to a PNG when matplotlib is installed.
"""
import time

import numpy as np

from . import _digits, augment, nn, optim, training
from .nn.container import mlp
from .tensor import manual_seed
from .training import evaluate, fit


def load_digits_split(seed=0, test_fraction=0.2):
    """The digits' raw pixels (0..16) split into training and test sets."""
    try:
        return _digits.split(seed, test_fraction, scale=False)
    except RuntimeError:
        raise SystemExit("fastnn demo needs scikit-learn's bundled digits data: "
                         "pip install 'fastnn-cpu[demo]'") from None


def default_network(n_in, n_out, hidden=(128, 64), p=0.2):
    """Linear(He) -> BatchNorm -> ELU -> Dropout, per hidden layer, then a Linear head."""
    return mlp(n_in, hidden, n_out, nn.ELU, init="he_normal", batch_norm=True, dropout=p)


def run(epochs=40, batch_size=32, lr=0.05, seed=0, plot="fastnn-demo-curves.png", verbose=1):
    manual_seed(seed)
    Xtr, ytr, Xte, yte = load_digits_split(seed)
    scaler = augment.Standardize().fit(Xtr)  # statistics of the training set only
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    model = default_network(Xtr.shape[1], 10)
    opt = optim.SGD(model, lr=lr, momentum=0.9, nesterov=True)
    print(f"fastnn demo: digits, {len(Xtr)} training / {len(Xte)} test samples, 8x8 pixels, 10 classes")
    print(model)
    t0 = time.perf_counter()
    hist = fit(model, Xtr, ytr, loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=epochs, batch_size=batch_size,
               validation_split=0.1, seed=seed, verbose=verbose,
               callbacks=[training.EarlyStopping(patience=10, restore_best_weights=True)])
    secs = time.perf_counter() - t0
    res = evaluate(model, Xte, yte, loss=nn.CrossEntropyLoss())
    samples = sum(e["samples_per_sec"] * e["seconds"] for e in hist.epochs)
    print(f"\ntest accuracy {res['accuracy']:.4f}   test loss {res['loss']:.4f}")
    print(f"trained {len(hist)} epochs{' (stopped early, best weights restored)' if hist.stopped_early else ''} "
          f"in {secs:.2f} s: {samples / secs:,.0f} samples/s overall, "
          f"{np.median(hist['samples_per_sec']):,.0f} samples/s per epoch (median)")
    if plot:
        try:
            hist.plot(plot)
            print(f"learning curves: {plot}")
        except ImportError as e:
            print(f"(no learning-curve plot: {e})")
    return res, hist
