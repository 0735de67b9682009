"""Avoiding overfitting through regularization, and the chapter's default configuration."""
import copy
import warnings

import numpy as np

from ._harness import Result, digits, experiment, median, mlp, save_figure, seeds, train


@experiment("regularization", "none, L1, L2, elastic net, dropout, early stopping and augmentation on a small "
                              "training set: the train/test gap")
def regularization(quick):
    from .. import augment
    from .. import nn, optim, regularizers, training
    from ..tensor import manual_seed
    from ._harness import mnist1d
    full = None if quick else mnist1d()
    if full is None:  # digits as 1x8x8 images, 300 of them to train on
        Xtr, ytr, Xte, yte = digits(images=True)
        n_train, name_data, shift = 300, "digits", (1, 1)
    else:  # MNIST-1D as 1x1x40 "images", 1000 of them: an MLP overfits it badly
        Xtr, ytr, Xte, yte = (a.reshape(len(a), 1, 1, 40) if a.ndim == 2 else a for a in full)
        n_train, name_data, shift = 1000, "MNIST-1D", (3, 0)
    Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    n_in = int(np.prod(Xtr.shape[1:]))
    epochs = 25 if quick else 100
    variants = [("none", {}), ("L1", {"regularizer": regularizers.L1(1e-4)}),
                ("L2", {"regularizer": regularizers.L2(1e-3)}),
                ("elastic net", {"regularizer": regularizers.ElasticNet(5e-5, 5e-4)}),
                ("dropout", {"dropout": 0.3}), ("early stopping", {"early": True}), ("augmentation", {"augment": True})]
    figs, ss = {}, seeds(quick, 3)
    for name, kw in variants:
        tr_acc, te_acc = [], []
        for s in ss:
            manual_seed(s)
            m = nn.Sequential(nn.Flatten(), mlp(n_in, 10, [256, 256, 256], nn.ReLU, "he_normal",
                                                dropout=kw.get("dropout", 0.0), regularizer=kw.get("regularizer")))
            opt = optim.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True)
            fit_kw = {}
            data = (Xtr, ytr, Xte, yte)
            if kw.get("early"):  # stop on a validation split of the training set, keep the best weights
                fit_kw = {"callbacks": [training.EarlyStopping(patience=8)]}
                cut = int(0.8 * n_train)
                data = (Xtr[:cut], ytr[:cut], Xtr[cut:], ytr[cut:])
            if kw.get("augment"):
                aug = [augment.BatchRandomShift(*shift)]
                if name_data == "digits":
                    aug.append(augment.BatchRandomRotation(10))
                fit_kw["transform"] = augment.BatchCompose(aug)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                train(m, data, opt, epochs, batch_size=32, seed=s, **fit_kw)
            from ..training import evaluate
            tr_acc.append(evaluate(m, Xtr, ytr, loss=nn.CrossEntropyLoss())["accuracy"])
            te_acc.append(evaluate(m, Xte, yte, loss=nn.CrossEntropyLoss())["accuracy"])
        figs[name] = {"train_accuracy": median(tr_acc), "test_accuracy": median(te_acc),
                      "gap": median(tr_acc) - median(te_acc)}
    base = figs["none"]
    smaller_gap = [k for k, v in figs.items() if k != "none" and v["gap"] < base["gap"] - 0.005]
    better = [k for k, v in figs.items() if k != "none" and v["test_accuracy"] > base["test_accuracy"] + 0.005]
    n = len(figs) - 1
    supports = "yes" if len(better) >= n - 1 else ("partly" if better else "no")

    def plot(path):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(9, 4))
        x = np.arange(len(figs))
        ax.bar(x - 0.2, [v["train_accuracy"] for v in figs.values()], 0.4, label="train")
        ax.bar(x + 0.2, [v["test_accuracy"] for v in figs.values()], 0.4, label="test")
        ax.set_xticks(x)
        ax.set_xticklabels(list(figs), rotation=15)
        ax.set_ylabel("accuracy")
        ax.set_title(f"3 x 256 ReLU on {n_train} {name_data} samples, {epochs} epochs")
        ax.legend()
        save_figure(fig, path)

    return Result("regularization", "With few training samples a large network overfits; L1/L2 penalties, dropout, "
                  "early stopping and data augmentation narrow the gap between training and test performance and "
                  "improve generalization.",
                  f"{n_train} {name_data} training samples: " +
                  "; ".join(f"{k}: train {v['train_accuracy']:.3f}, test {v['test_accuracy']:.3f}, gap {v['gap']:.3f}"
                            for k, v in figs.items()),
                  supports, f"smaller gap than no regularization: {', '.join(smaller_gap) or 'none'}; better test "
                  f"accuracy: {', '.join(better) or 'none'}", figs, ss, plot=plot)


@experiment("default-dnn", "the chapter's default configuration (He, ELU, batch norm, dropout, Nesterov, early "
                           "stopping) against a naive network (sigmoid, N(0, 1), plain SGD)")
def default_dnn(quick):
    from .. import demo, nn, optim, training
    from ..tensor import manual_seed
    data = digits()
    epochs = 10 if quick else 60
    figs, curves, ss = {}, {}, seeds(quick, 3)
    configs = [
        ("naive: sigmoid, N(0,1), SGD", lambda: mlp(64, 10, [128, 64], nn.Sigmoid, "normal"),
         lambda p: optim.SGD(p, lr=0.05), {}),
        ("Xavier + tanh, SGD", lambda: mlp(64, 10, [128, 64], nn.Tanh, "xavier_uniform"),
         lambda p: optim.SGD(p, lr=0.05), {}),
        ("default: He, ELU, BN, dropout, Nesterov, early stopping", lambda: demo.default_network(64, 10),
         lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
         {"callbacks": [training.EarlyStopping(monitor="val_loss", patience=10)]}),
    ]
    for name, build, make, kw in configs:
        accs, eps = [], []
        for s in ss:
            manual_seed(s)
            m = build()
            h, acc = train(m, data, make(m.parameters()), epochs, seed=s, **copy.copy(kw))
            accs.append(acc)
            hit = [i + 1 for i, a in enumerate(h["val_accuracy"]) if a >= 0.9]
            eps.append(hit[0] if hit else None)
            curves.setdefault(name, h["val_accuracy"])
        figs[name] = {"test_accuracy": median(accs), "epochs_to_90": median([e for e in eps if e] or [np.nan])}
    names = list(figs)
    ok = figs[names[2]]["test_accuracy"] >= 0.95 and figs[names[2]]["test_accuracy"] > figs[names[0]]["test_accuracy"]

    def plot(path):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 4))
        for k, v in curves.items():
            ax.plot(range(1, len(v) + 1), v, marker=".", label=k)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8)
        ax.set_title("digits")
        save_figure(fig, path)

    return Result("default-dnn", "The default configuration (He initialization, ELU, batch normalization, dropout, "
                  "Nesterov momentum, early stopping) works well in most cases without tuning.",
                  "; ".join(f"{k}: test {v['test_accuracy']:.3f}, epochs to 90 % validation accuracy "
                            f"{v['epochs_to_90']}" for k, v in figs.items()),
                  "yes" if ok else "no", "the default reaches >= 0.95 and beats the naive network" if ok else
                  "the default did not clearly win here", figs, ss, plot=plot)
