"""A small CNN on scikit-learn's handwritten digits (8x8 images), beside `fastnn demo`'s MLP.

Same data split and the same training-set standardization as the demo; the CNN sees each digit as a
1x8x8 image: two 3x3 conv blocks (BatchNorm, ReLU), max-pooling, a third block, global average pooling
and a linear head, trained with Adam through `fastnn.fit`. It beats the MLP because convolutions share
their weights across positions: a stroke is recognized wherever it is.

    python examples/digits_cnn.py [--epochs 15]
"""
import argparse
import time


import fastnn
from fastnn import augment, demo, nn, optim


def cnn(channels=(32, 64, 64), p=0.2):
    c1, c2, c3 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(),
        nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),   # 8x8 -> 4x4
        nn.Conv2d(c2, c3, 3, padding=1), nn.BatchNorm2d(c3), nn.ReLU(), nn.MaxPool2d(2),   # 4x4 -> 2x2
        nn.Flatten(), nn.Dropout(p), nn.Linear(c3 * 4, 10))


def run(epochs=15, batch_size=32, lr=3e-3, seed=0, channels=(32, 64, 64), verbose=1):
    """Train the CNN on the demo's split; returns (test accuracy, seconds, model)."""
    fastnn.manual_seed(seed)
    Xtr, ytr, Xte, yte = demo.load_digits_split(seed)
    scaler = augment.Standardize().fit(Xtr)
    Xtr, Xte = (scaler.transform(a).reshape(-1, 1, 8, 8) for a in (Xtr, Xte))
    model = cnn(channels)
    t0 = time.perf_counter()
    fastnn.fit(model, Xtr, ytr, loss=nn.CrossEntropyLoss(), optimizer=optim.Adam(model.parameters(), lr=lr),
               epochs=epochs, batch_size=batch_size, seed=seed, verbose=verbose)
    secs = time.perf_counter() - t0
    return fastnn.evaluate(model, Xte, yte, loss=nn.CrossEntropyLoss())["accuracy"], secs, model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    mlp, _ = demo.run(seed=args.seed, plot=None, verbose=0)
    acc, secs, model = run(epochs=args.epochs, seed=args.seed, verbose=0)
    print(model.summary((1, 8, 8)))
    print(f"\nCNN test accuracy {acc:.4f} ({secs:.1f} s) vs the demo MLP's {mlp['accuracy']:.4f}")
    return acc, mlp["accuracy"]


if __name__ == "__main__":
    main()
