"""Unsupervised pretraining when labels are scarce, as the course describes it: only 100 of the digits
are labelled; the rest (unlabelled) pretrain the layers -- a deep belief net (stacked RBMs) or stacked
denoising autoencoders -- then the course's default network (He init, batch norm, ELU, dropout,
Nesterov) is fine-tuned on the 100 labels, against the same network trained from scratch on them.
Also: RBM features + logistic regression, scikit-learn's example pipeline.

    python examples/pretraining.py [--seeds 5] [--labels 100]
"""
import argparse
import time

import numpy as np

import fastnn
from fastnn import demo, nn, optim
from fastnn.pretrain import DBN, RBM, StackedAutoencoder


def data(seed, n_labels):
    """Digits in [0, 1]: a test split (20 %), n_labels labelled training images (balanced), the rest of
    the training images unlabelled."""
    from sklearn.datasets import load_digits

    d = load_digits()
    X, y = (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)
    idx = np.random.default_rng(seed).permutation(len(X))
    n_test = len(X) // 5
    test, train = idx[:n_test], idx[n_test:]
    per = n_labels // 10
    lab = np.concatenate([train[y[train] == c][:per] for c in range(10)])
    unl = np.setdiff1d(train, lab)
    return X[lab], y[lab], X[unl], X[test], y[test]


def finetune(model, X, y, Xte, yte, seed):
    fastnn.fit(model, X, y, loss=nn.CrossEntropyLoss(),
               optimizer=optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True), epochs=60,
               batch_size=20, seed=seed, verbose=0)
    return fastnn.evaluate(model, Xte, yte, loss=nn.CrossEntropyLoss())["accuracy"]


def run(seed, n_labels=100):
    """Test accuracy of the default network from scratch, DBN-initialised and DAE-initialised."""
    Xl, yl, Xu, Xte, yte = data(seed, n_labels)
    pool = np.concatenate([Xu, Xl])  # pretraining sees every training image, no label
    out = {}
    fastnn.manual_seed(seed)
    out["scratch"] = finetune(demo.default_network(64, 10), Xl, yl, Xte, yte, seed)
    dbn = DBN([128, 64], n_iter=20, learning_rate=0.05, batch_size=20, momentum="hinton", random_state=seed).fit(pool)
    fastnn.manual_seed(seed)
    out["dbn"] = finetune(dbn.init(demo.default_network(64, 10)), Xl, yl, Xte, yte, seed)
    sae = StackedAutoencoder([128, 64], activation="elu", noise=("mask", 0.3), output_activation="sigmoid",
                             epochs=20, batch_size=32, lr=1e-3, random_state=seed).fit(pool)
    fastnn.manual_seed(seed)
    out["dae"] = finetune(sae.init(demo.default_network(64, 10)), Xl, yl, Xte, yte, seed)
    return out


def pipeline_accuracy():
    """scikit-learn's example: RBM features (100 units) into a logistic regression, on all labels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    Xl, yl, Xu, Xte, yte = data(0, 1000)
    pipe = Pipeline([("rbm", RBM(n_components=100, learning_rate=0.06, n_iter=10, random_state=0)),
                     ("logistic", LogisticRegression(C=6000, max_iter=2000))])
    return pipe.fit(Xl, yl).score(Xte, yte)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--labels", type=int, default=100)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    runs = [run(s, args.labels) for s in range(args.seeds)]
    print(f"{args.labels} labelled digits, the rest unlabelled; test accuracy of the default network "
          f"(median of {args.seeds} seeds; each seed: its own split):")
    med = {}
    for k, name in (("scratch", "from scratch"), ("dbn", "DBN (stacked RBMs) pretrained"),
                    ("dae", "stacked denoising autoencoders pretrained")):
        vals = [r[k] for r in runs]
        med[k] = float(np.median(vals))
        print(f"  {name:42s} {med[k]:.3f}   (seeds: {', '.join(f'{v:.3f}' for v in vals)})")
    print(f"RBM features + logistic regression (scikit-learn's example pipeline, 1000 labels): "
          f"{pipeline_accuracy():.3f}")
    print(f"({time.perf_counter() - t0:.1f} s)")
    return med


if __name__ == "__main__":
    main()
