"""The chapter's problems and their first cures: vanishing gradients and initialization, activation
functions, batch normalization, gradient clipping."""
import warnings

import numpy as np

from ._harness import Result, digits, experiment, median, mlp, mnist1d, save_figure, seeds, train


def _nn():
    from .. import nn, optim
    return nn, optim


@experiment("vanishing", "sigmoid + N(0,1) vs sigmoid/tanh + Xavier vs ReLU/ELU + He in a deep MLP: "
                         "per-layer gradients, saturation, accuracy")
def vanishing(quick):
    from .. import diagnostics
    from ..tensor import manual_seed
    nn, optim = _nn()
    data = digits()
    depth, epochs = (8, 5) if quick else (10, 20)
    configs = [("sigmoid + N(0,1)", nn.Sigmoid, "normal"), ("sigmoid + Xavier", nn.Sigmoid, "xavier_uniform"),
               ("tanh + Xavier", nn.Tanh, "xavier_uniform"), ("ReLU + He", nn.ReLU, "he_normal"),
               ("ELU + He", nn.ELU, "he_normal")]
    figs, ss = {}, seeds(quick, 3)
    for name, act, init in configs:
        ratios, sats, accs, layer_grads = [], [], [], None
        for s in ss:
            manual_seed(s)
            m = mlp(64, 10, [64] * depth, act, init)
            rep = diagnostics.diagnose(m, data[0], data[1], loss=nn.CrossEntropyLoss())
            lin = [r for r in rep.layers if r["kind"] == "Linear"]
            ratios.append(lin[0]["grad_ratio"])
            sats.append(max([r["saturated"] or 0 for r in rep.layers]))
            layer_grads = layer_grads or [r["grad_norm"] for r in lin]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, acc = train(m, data, optim.SGD(m.parameters(), lr=0.02, momentum=0.9), epochs, seed=s)
            accs.append(acc)
        figs[name] = {"grad_ratio_at_init": median(ratios), "saturated_at_init": median(sats),
                      "test_accuracy": median(accs), "layer_grad_norms": layer_grads}
    f = figs
    vanish = f["sigmoid + Xavier"]["grad_ratio_at_init"] < 1e-3
    saturate = f["sigmoid + N(0,1)"]["saturated_at_init"] >= 0.5
    healthy = all(0.1 <= f[k]["grad_ratio_at_init"] <= 10 for k in ("ReLU + He", "ELU + He"))
    better = min(f[k]["test_accuracy"] for k in ("ReLU + He", "ELU + He")) > \
        max(f[k]["test_accuracy"] for k in ("sigmoid + N(0,1)", "sigmoid + Xavier")) + 0.01
    ok = [vanish, saturate, healthy, better]
    measured = "; ".join(f"{k}: lowest/top gradient {v['grad_ratio_at_init']:.1e}, {v['saturated_at_init']:.0%} "
                         f"saturated, test accuracy {v['test_accuracy']:.3f}" for k, v in f.items())

    def plot(path):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(1, 2, figsize=(12, 4))
        for k, v in f.items():
            ax[0].plot(range(1, len(v["layer_grad_norms"]) + 1), v["layer_grad_norms"], marker="o", label=k)
        ax[0].set_yscale("log")
        ax[0].set_xlabel("layer (input -> output)")
        ax[0].set_ylabel("|grad W| at initialization")
        ax[0].legend(fontsize=8)
        ax[1].bar(range(len(f)), [v["test_accuracy"] for v in f.values()])
        ax[1].set_xticks(range(len(f)))
        ax[1].set_xticklabels(list(f), rotation=20, fontsize=8)
        ax[1].set_ylabel(f"test accuracy after {epochs} epochs")
        fig.suptitle(f"{depth} hidden layers of 64 on digits")
        save_figure(fig, path)

    return Result("vanishing", "With sigmoid units and a naive N(0, 1) init the units saturate and the lower layers' "
                  "gradients vanish; Xavier init helps sigmoid/tanh; ReLU/ELU with He init keep the gradients at "
                  "the same scale in every layer and train best.", measured,
                  "yes" if all(ok) else ("partly" if any(ok) else "no"),
                  f"vanishing with sigmoid+Xavier: {vanish}; saturation with N(0,1): {saturate}; He keeps "
                  f"gradients within 10x: {healthy}; ReLU/ELU+He train better than both sigmoids: {better}", figs, ss,
                  plot=plot)


@experiment("activations", "the course's ranking ELU > leaky ReLU variants > ReLU > tanh > sigmoid: accuracy "
                           "and time per epoch")
def activations(quick):
    from ..tensor import manual_seed
    nn, optim = _nn()
    data = digits() if quick else (mnist1d() or digits())
    name_data = "digits" if quick or data[0].shape[1] == 64 else "MNIST-1D"
    epochs = 5 if quick else 30
    acts = [("sigmoid", nn.Sigmoid, "xavier_uniform", 4), ("tanh", nn.Tanh, "xavier_uniform", 3),
            ("ReLU", nn.ReLU, "he_normal", 2), ("LeakyReLU", nn.LeakyReLU, "he_normal", 1),
            ("RReLU", nn.RReLU, "he_normal", 1), ("PReLU", nn.PReLU, "he_normal", 1),
            ("ELU", nn.ELU, "he_normal", 0), ("SELU", nn.SELU, "lecun_normal", 0)]
    figs, ss = {}, seeds(quick, 5)
    for name, act, init, _ in acts:
        accs, secs = [], []
        for s in ss:
            manual_seed(s)
            m = mlp(data[0].shape[1], 10, [128, 128, 128, 128], act, init)
            h, acc = train(m, data, optim.SGD(m.parameters(), lr=0.02, momentum=0.9, nesterov=True), epochs,
                           batch_size=64, seed=s)
            accs.append(acc)
            secs.append(float(np.median(h["seconds"])))
        figs[name] = {"test_accuracy": median(accs), "seconds_per_epoch": median(secs), "rank_claimed": _}
    claimed = [v["rank_claimed"] for v in figs.values()]
    measured_acc = [v["test_accuracy"] for v in figs.values()]
    tau = _kendall([-c for c in claimed], measured_acc)
    order = sorted(figs, key=lambda k: -figs[k]["test_accuracy"])
    supports = "yes" if tau >= 0.6 else ("partly" if tau > 0.2 else "no")

    def plot(path):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(1, 2, figsize=(12, 4))
        ax[0].bar(range(len(figs)), measured_acc)
        ax[0].set_ylim(min(measured_acc) - 0.02, max(measured_acc) + 0.01)
        ax[0].set_ylabel(f"test accuracy ({name_data}, {epochs} epochs)")
        ax[1].bar(range(len(figs)), [v["seconds_per_epoch"] for v in figs.values()])
        ax[1].set_ylabel("seconds per epoch")
        for a in ax:
            a.set_xticks(range(len(figs)))
            a.set_xticklabels(list(figs), rotation=30, fontsize=8)
        fig.suptitle("activation functions, 4 hidden layers of 128, Nesterov")
        save_figure(fig, path)

    return Result("activations", "ELU > leaky ReLU variants (leaky, randomized, parametric) > ReLU > tanh > logistic "
                  "(Geron, following Clevert et al.); ELU is slower to compute.",
                  f"on {name_data}, best to worst: " + ", ".join(f"{k} {figs[k]['test_accuracy']:.3f}" for k in order),
                  supports, f"Kendall's tau between the claimed and the measured order: {tau:.2f}", figs, ss,
                  plot=plot)


def _kendall(a, b):
    n, s, t = len(a), 0, 0
    for i in range(n):
        for j in range(i + 1, n):
            da, db = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
            if da and db:
                s += da * db
                t += 1
    return s / t if t else 0.0


@experiment("batchnorm", "with and without batch normalization, three initializations: accuracy and its "
                         "sensitivity to the init")
def batchnorm(quick):
    from ..tensor import manual_seed
    nn, optim = _nn()
    data = digits()
    depth, epochs = (6, 4) if quick else (10, 20)
    inits = [("N(0,1)", "normal"), ("Xavier", "xavier_uniform"), ("He", "he_normal")]
    figs, ss = {}, seeds(quick, 3)
    for bn in (False, True):
        for name, init in inits:
            accs = []
            for s in ss:
                manual_seed(s)
                m = mlp(64, 10, [64] * depth, nn.ReLU, init, bn=bn)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    _, acc = train(m, data, optim.SGD(m.parameters(), lr=0.05, momentum=0.9), epochs, seed=s)
                accs.append(acc)
            figs[f"{'BN' if bn else 'no BN'}, {name}"] = {"test_accuracy": median(accs)}
    nob = [figs[f"no BN, {n}"]["test_accuracy"] for n, _ in inits]
    wb = [figs[f"BN, {n}"]["test_accuracy"] for n, _ in inits]
    nob_c = [0.0 if v != v else v for v in nob]
    robust = min(wb) > min(nob_c) + 0.1
    spread = (max(wb) - min(wb)) < (max(nob_c) - min(nob_c))
    supports = "yes" if robust and spread else ("partly" if robust or spread else "no")

    def plot(path):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        x = np.arange(len(inits))
        ax.bar(x - 0.2, nob_c, 0.4, label="no batch norm")
        ax.bar(x + 0.2, wb, 0.4, label="batch norm")
        ax.set_xticks(x)
        ax.set_xticklabels([n for n, _ in inits])
        ax.set_ylabel(f"test accuracy after {epochs} epochs")
        ax.set_title(f"ReLU MLP, {depth} hidden layers, SGD + momentum")
        ax.legend()
        save_figure(fig, path)

    return Result("batchnorm", "Batch normalization removes most of the network's sensitivity to the weight "
                  "initialization (and to vanishing/exploding gradients), so even a poor init trains.",
                  "; ".join(f"{k}: {v['test_accuracy']:.3f}" for k, v in figs.items()), supports,
                  f"with BN the worst init still reaches {min(wb):.3f} (without: {min(nob_c):.3f}); spread across "
                  f"inits {max(wb) - min(wb):.3f} with BN vs {max(nob_c) - min(nob_c):.3f} without", figs, ss,
                  plot=plot)


@experiment("clipping", "a deep ReLU net whose gradients explode, trained with and without gradient clipping")
def clipping(quick):
    from ..tensor import manual_seed
    nn, optim = _nn()
    data = digits()
    depth, epochs = (6, 4) if quick else (8, 15)
    figs, ss = {}, seeds(quick, 3)
    curves = {}
    for clip in (None, 1.0):
        accs, diverged = [], []
        for s in ss:
            manual_seed(s)
            m = mlp(64, 10, [64] * depth, nn.ReLU, "he_normal")
            for layer in m:
                if isinstance(layer, nn.Linear):
                    layer.weight.data = layer.weight.detach().numpy() * 1.6  # gradients grow toward the input
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                h, acc = train(m, data, optim.SGD(m.parameters(), lr=0.1, momentum=0.9), epochs, clip_grad_norm=clip,
                               seed=s)
            diverged.append(bool(h.terminated_on_nan))
            accs.append(acc if acc == acc else 0.0)
            curves.setdefault(str(clip), h["loss"])
        figs["no clipping" if clip is None else f"clip_grad_norm={clip}"] = {
            "test_accuracy": median(accs), "diverged_runs": int(sum(diverged)), "runs": len(ss)}
    a, b = figs["no clipping"], figs["clip_grad_norm=1.0"]
    ok = b["test_accuracy"] > a["test_accuracy"] + 0.05 and b["diverged_runs"] <= a["diverged_runs"]

    def plot(path):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        for k, v in curves.items():
            ax.plot(range(1, len(v) + 1), v, marker="o", label="no clipping" if k == "None" else f"clip norm {k}")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        ax.set_title("deep ReLU net with exploding gradients (weights x1.6, lr 0.1)")
        ax.legend()
        save_figure(fig, path)

    return Result("clipping", "Gradient clipping (by global norm) tames exploding gradients: training that "
                  "diverges or stalls without it converges with it.",
                  "; ".join(f"{k}: test accuracy {v['test_accuracy']:.3f}, {v['diverged_runs']}/{v['runs']} runs "
                            "diverged" for k, v in figs.items()),
                  "yes" if ok else "no", "clipping trains where the unclipped run fails" if ok else
                  "clipping made no clear difference on this setup", figs, ss, plot=plot)
