"""Reusing pretrained layers and unsupervised pretraining, with few labels."""

import numpy as np

from .. import _digits

from ._harness import Result, experiment, median, save_figure, seeds


def _new_task(per_class, seed):
    """Digits 5-9 relabelled 0-4 as 1x8x8 images: per_class labelled images per class, the rest to test."""
    X, y = _digits.load(classes=range(5, 10))
    X, y = X.reshape(-1, 1, 8, 8), y - 5
    rng = np.random.default_rng(seed)
    tr = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(5)])
    te = np.setdiff1d(np.arange(len(y)), tr)
    return X[tr], y[tr], X[te], y[te]


def _fit(model, X, y, params, lr, steps, seed):
    from .. import nn, optim
    from ..training import fit
    batch = min(32, len(X))
    fit(model, X, y, loss=nn.CrossEntropyLoss(), optimizer=optim.Adam(params, lr=lr),
        epochs=max(1, round(steps / -(-len(X) // batch))), batch_size=batch, seed=seed, verbose=0)


def _acc(model, X, y):
    from .. import nn
    from ..training import evaluate
    return evaluate(model, X, y, loss=nn.CrossEntropyLoss())["accuracy"]


@experiment("transfer", "a CNN trained on digits 0-4 (zoo) reused for 5-9 with few labels: new head only, "
                        "fine-tuned, or the same network from scratch")
def transfer_exp(quick):
    from .. import nn, transfer, zoo
    from ..tensor import manual_seed
    zoo.load("digits-cnn-0to4", verbose=0)
    counts = [5] if quick else [1, 5, 10, 50]
    figs, ss = {}, seeds(quick, 5)
    for k in counts:
        rows = []
        for s in ss:
            Xtr, ytr, Xte, yte = _new_task(k, s)
            manual_seed(s)
            m = transfer.build(transfer.take("digits-cnn-0to4", upto="flatten"), head=nn.Linear(256, 5))
            _fit(m, Xtr, ytr, m.parameters(), 1e-2, 150, s)
            head = _acc(m, Xte, yte)
            transfer.unfreeze(m)
            _fit(m, Xtr, ytr, transfer.param_groups(m, lr=1e-3, base_lr=1e-4), 1e-3, 100, s)
            ft = _acc(m, Xte, yte)
            manual_seed(s)
            scratch = zoo.load("digits-cnn-0to4", verbose=0)  # the same architecture, re-initialised
            for layer in scratch.modules():
                if isinstance(layer, nn.BatchNorm2d):
                    layer.reset_running_stats()
                if hasattr(layer, "reset_parameters"):
                    layer.reset_parameters()
            _fit(scratch, Xtr, ytr, scratch.parameters(), 3e-3, 250, s)
            rows.append((head, ft, _acc(scratch, Xte, yte)))
        h, f, sc = (median([r[i] for r in rows]) for i in range(3))
        figs[f"{k}/class"] = {"head_only": h, "fine_tuned": f, "scratch": sc}
    wins = [k for k, v in figs.items() if max(v["head_only"], v["fine_tuned"]) > v["scratch"] + 0.01]
    supports = "yes" if len(wins) == len(figs) else ("partly" if wins else "no")

    def plot(path):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        x = np.arange(len(figs))
        for i, key in enumerate(("head_only", "fine_tuned", "scratch")):
            ax.bar(x + (i - 1) * 0.27, [v[key] for v in figs.values()], 0.27, label=key.replace("_", " "))
        ax.set_xticks(x)
        ax.set_xticklabels(list(figs))
        ax.set_ylim(0.5, 1.0)
        ax.set_ylabel("test accuracy (digits 5-9)")
        ax.set_title("reusing a CNN trained on digits 0-4")
        ax.legend()
        save_figure(fig, path)

    return Result("transfer", "With few labels, reusing the lower layers of a network trained on a similar task "
                  "(and training only a new top, then fine-tuning) beats training the same network from scratch.",
                  "; ".join(f"{k}: head only {v['head_only']:.3f}, fine-tuned {v['fine_tuned']:.3f}, scratch "
                            f"{v['scratch']:.3f}" for k, v in figs.items()),
                  supports, "transfer wins at " + (", ".join(wins) if wins else "no label count") +
                  " (see docs/transfer.md: on 8x8 digits a small CNN learns fast from scratch)", figs, ss, plot=plot)


@experiment("pretraining", "100 labelled digits, the rest unlabelled: the default network from scratch, "
                           "DBN-initialised or denoising-autoencoder-initialised")
def pretraining_exp(quick):
    from .. import demo, nn, optim
    from ..tensor import manual_seed
    from ..training import evaluate, fit
    from ..pretrain import DBN, StackedAutoencoder
    from ._harness import digits
    figs, ss = {}, seeds(quick, 5)
    rows = []
    for s in ss:
        Xtr, ytr, Xte, yte = digits(seed=s)
        lab = np.concatenate([np.flatnonzero(ytr == c)[:10] for c in range(10)])
        Xl, yl = Xtr[lab], ytr[lab]
        n_pre = 10 if quick else 20

        def tune(model):
            fit(model, Xl, yl, loss=nn.CrossEntropyLoss(),
                optimizer=optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True), epochs=60,
                batch_size=20, seed=s, verbose=0)
            return evaluate(model, Xte, yte, loss=nn.CrossEntropyLoss())["accuracy"]
        manual_seed(s)
        a = tune(demo.default_network(64, 10))
        dbn = DBN([128, 64], n_iter=n_pre, learning_rate=0.05, batch_size=20, momentum="hinton",
                  random_state=s).fit(Xtr)
        manual_seed(s)
        b = tune(dbn.init(demo.default_network(64, 10)))
        sae = StackedAutoencoder([128, 64], activation="elu", noise=("mask", 0.3), output_activation="sigmoid",
                                 epochs=n_pre, random_state=s).fit(Xtr)
        manual_seed(s)
        c = tune(sae.init(demo.default_network(64, 10)))
        rows.append((a, b, c))
    for i, k in enumerate(("scratch", "DBN", "denoising autoencoders")):
        figs[k] = {"test_accuracy": median([r[i] for r in rows]), "seeds": [r[i] for r in rows]}
    sc = figs["scratch"]["test_accuracy"]
    helped = [k for k in ("DBN", "denoising autoencoders") if figs[k]["test_accuracy"] > sc + 0.005]
    supports = "yes" if len(helped) == 2 else ("partly" if helped else "no")

    def plot(path):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        for i, (k, v) in enumerate(figs.items()):
            ax.scatter([i] * len(v["seeds"]), v["seeds"], alpha=0.5)
            ax.plot([i - 0.2, i + 0.2], [v["test_accuracy"]] * 2, color="k")
        ax.set_xticks(range(len(figs)))
        ax.set_xticklabels(list(figs))
        ax.set_ylabel("test accuracy (100 labels)")
        ax.set_title("greedy unsupervised pretraining, then fine-tuning")
        save_figure(fig, path)

    return Result("pretraining", "When labels are scarce, greedy layer-wise unsupervised pretraining (RBMs or "
                  "autoencoders) on the unlabelled data, then fine-tuning, beats training from scratch.",
                  "; ".join(f"{k}: {v['test_accuracy']:.3f}" for k, v in figs.items()), supports,
                  ("pretraining helped: " + ", ".join(helped)) if helped else
                  "neither pretraining beat the default network from scratch (see docs/pretraining.md)", figs, ss,
                  plot=plot)
