"""Transfer learning as the course tells it: reuse a network trained on other categories when labels are
scarce.

A CNN trained on digits 0-4 (the zoo entry "digits-cnn-0to4") is reused for digits 5-9 given only a few
labelled images per class: (1) its layers up to "flatten" frozen, a new linear head trained alone; (2)
then everything fine-tuned with a lower learning rate for the reused layers; against (3) the same
network trained from scratch on the same few labels. Then the resize case: the new task's images come at
16x16, the base expects 8x8, so a bilinear resize goes in front.

    python examples/transfer_digits.py [--per-class 5 50] [--seeds 3]
    python examples/transfer_digits.py --per-class 1 5 10 50 --seeds 5    (docs/transfer.md's table)
"""
import argparse
import time
from collections import OrderedDict

import numpy as np

import fastnn
from fastnn import nn, optim, transfer, zoo

BASE = "digits-cnn-0to4"


def new_task(per_class, seed, size=8):
    """Digits 5-9 relabelled 0-4: `per_class` labelled training images per class, the rest for testing
    (images in [0, 1], 1 x size x size; 16x16 ones are the 8x8 digits resized bilinearly)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    keep = d.target >= 5
    X = (d.data[keep] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = (d.target[keep] - 5).astype(np.int64)
    if size != 8:
        X = nn.functional.interpolate(fastnn.from_numpy(X), size=(size, size), mode="bilinear",
                                      align_corners=False).numpy()
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(5)])
    test = np.setdiff1d(np.arange(len(y)), train)
    return X[train], y[train], X[test], y[test]


def cnn(n_out=5):
    """The zoo entry's architecture, freshly initialised (the from-scratch baseline)."""
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 32, 3, padding=1)), ("bn1", nn.BatchNorm2d(32)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(32, 64, 3, padding=1)), ("bn2", nn.BatchNorm2d(64)), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(64, 64, 3, padding=1)), ("bn3", nn.BatchNorm2d(64)), ("relu3", nn.ReLU()),
        ("pool3", nn.MaxPool2d(2)), ("flatten", nn.Flatten()), ("dropout", nn.Dropout(0.2)),
        ("fc", nn.Linear(64 * 2 * 2, n_out))]))


def train(model, X, y, params, lr, steps=150, seed=0):
    """Adam for about `steps` steps of batches of up to 32 (few labels: many epochs)."""
    batch = min(32, len(X))
    epochs = max(1, round(steps / -(-len(X) // batch)))
    fastnn.fit(model, X, y, loss=nn.CrossEntropyLoss(), optimizer=optim.Adam(params, lr=lr), epochs=epochs,
               batch_size=batch, seed=seed, verbose=0)
    return model


def accuracy(model, X, y):
    return fastnn.evaluate(model, X, y, loss=nn.CrossEntropyLoss())["accuracy"]


def run(per_class, seed, size=8):
    """Head-only, fine-tuned and from-scratch test accuracy for one draw of the labelled images."""
    Xtr, ytr, Xte, yte = new_task(per_class, seed, size)
    fastnn.manual_seed(seed)
    adapter = transfer.input_adapter((1, size, size), (1, 8, 8)) if size != 8 else None
    model = transfer.build(transfer.take(BASE, upto="flatten"), head=lambda n: nn.Linear(n, 5),
                           input_shape=(1, 8, 8), adapter=adapter)
    train(model, Xtr, ytr, model.parameters(), lr=1e-2, seed=seed)
    head_only = accuracy(model, Xte, yte)
    transfer.unfreeze(model)  # fine-tuning: everything trains, the reused layers 10x slower
    train(model, Xtr, ytr, transfer.param_groups(model, lr=1e-3, base_lr=1e-4), lr=1e-3, steps=100, seed=seed)
    fine_tuned = accuracy(model, Xte, yte)
    fastnn.manual_seed(seed)
    scratch = cnn()
    front = [("adapt", adapter)] if adapter is not None else []
    scratch = nn.Sequential(OrderedDict(front + [("net", scratch)]))
    train(scratch, Xtr, ytr, scratch.parameters(), lr=3e-3, steps=250, seed=seed)
    return {"head_only": head_only, "fine_tuned": fine_tuned, "scratch": accuracy(scratch, Xte, yte)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-class", type=int, nargs="+", default=[5, 50])
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args(argv)
    base = zoo.load(BASE)
    print(f"base: zoo entry {BASE} (test accuracy on digits 0-4: {zoo.info(BASE)['metrics']['test_accuracy']:.3f})")
    results = {}
    for size in (8, 16):
        note = " (resized to 8x8 in front of the base)" if size != 8 else ""
        print(f"\nnew task: digits 5-9 at {size}x{size}{note}")
        print(f"{'labels/class':>12s} {'head only':>10s} {'fine-tuned':>10s} {'scratch':>10s}   (median of "
              f"{args.seeds} seeds)")
        for k in args.per_class:
            t0 = time.perf_counter()
            runs = [run(k, s, size) for s in range(args.seeds)]
            med = {key: float(np.median([r[key] for r in runs])) for key in runs[0]}
            results[(size, k)] = med
            print(f"{k:12d} {med['head_only']:10.3f} {med['fine_tuned']:10.3f} {med['scratch']:10.3f}   "
                  f"({time.perf_counter() - t0:.1f} s)")
    snapshot = base.state_dict()
    assert all(np.array_equal(np.asarray(v), np.asarray(zoo.load(BASE).state_dict()[k])) for k, v in snapshot.items())
    print("\nthe zoo's base model is bitwise unchanged")
    return results


if __name__ == "__main__":
    main()
