"""Faster optimizers and learning-rate schedules, from the same initial weights."""
import copy

from ._harness import Result, digits, experiment, median, mlp, mnist1d, save_figure, seeds, train


@experiment("optimizers", "SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam from the same initial weights: "
                          "learning curves")
def optimizers(quick):
    from .. import nn, optim
    from ..tensor import manual_seed
    data = digits() if quick else (mnist1d() or digits())
    name_data = "digits" if data[0].shape[1] == 64 else "MNIST-1D"
    epochs = 6 if quick else 30
    makers = [("SGD", lambda p: optim.SGD(p, lr=0.01)),
              ("momentum", lambda p: optim.SGD(p, lr=0.01, momentum=0.9)),
              ("Nesterov", lambda p: optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True)),
              ("AdaGrad", lambda p: optim.Adagrad(p, lr=0.01)),
              ("RMSProp", lambda p: optim.RMSprop(p, lr=0.001)),
              ("Adam", lambda p: optim.Adam(p, lr=0.001))]
    figs, curves, ss = {}, {}, seeds(quick, 3)
    for s in ss:
        manual_seed(s)
        base = mlp(data[0].shape[1], 10, [128, 128, 128], nn.ReLU, "he_normal")
        for name, make in makers:
            m = copy.deepcopy(base)
            h, acc = train(m, data, make(m.parameters()), epochs, batch_size=64, seed=s)
            figs.setdefault(name, {"final_loss": [], "test_accuracy": []})
            figs[name]["final_loss"].append(h["loss"][-1])
            figs[name]["test_accuracy"].append(acc)
            curves.setdefault(name, h["loss"])
    for v in figs.values():
        v["final_loss"], v["test_accuracy"] = median(v["final_loss"]), median(v["test_accuracy"])
    L = {k: v["final_loss"] for k, v in figs.items()}
    checks = {"momentum beats SGD": L["momentum"] < L["SGD"],
              "Nesterov at least as good as momentum": L["Nesterov"] <= 1.1 * L["momentum"],
              "RMSProp or Adam fastest": min(L["RMSProp"], L["Adam"]) <= 1.1 * min(L.values()),
              "AdaGrad behind Adam": L["AdaGrad"] > L["Adam"]}
    n_ok = sum(checks.values())

    def plot(path):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for k, v in curves.items():
            ax.plot(range(1, len(v) + 1), v, marker=".", label=k)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        ax.set_title(f"optimizers from the same init ({name_data}, 3 x 128 ReLU, He)")
        ax.legend()
        save_figure(fig, path)

    return Result("optimizers", "Momentum optimization converges faster than plain SGD and Nesterov's variant is "
                  "usually faster still; AdaGrad's rate decays too fast for deep nets; RMSProp and Adam converge "
                  "fastest (Adam: the default to try first).",
                  f"training loss after {epochs} epochs on {name_data}: " +
                  ", ".join(f"{k} {v['final_loss']:.4f} (test {v['test_accuracy']:.3f})" for k, v in figs.items()),
                  "yes" if n_ok == len(checks) else ("partly" if n_ok else "no"),
                  "; ".join(f"{k}: {'yes' if v else 'no'}" for k, v in checks.items()), figs, ss, plot=plot)


@experiment("schedules", "constant, piecewise-constant, performance-based and exponential (10^(-t/r)) learning "
                         "rates (Senior et al.'s comparison)")
def schedules(quick):
    from .. import nn, optim
    from ..tensor import manual_seed
    data = digits() if quick else (mnist1d() or digits())
    name_data = "digits" if data[0].shape[1] == 64 else "MNIST-1D"
    epochs = 8 if quick else 40
    r = epochs / 2  # exponential: lr(t) = lr0 10^(-t / r)
    sched = [("constant", lambda o: None),
             ("piecewise", lambda o: optim.lr_scheduler.MultiStepLR(o, [epochs // 2, 3 * epochs // 4], gamma=0.1)),
             ("performance", lambda o: optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=2)),
             ("exponential", lambda o: optim.lr_scheduler.ExponentialLR(o, gamma=10 ** (-1 / r)))]
    figs, lrs, ss = {}, {}, seeds(quick, 3)
    for s in ss:
        manual_seed(s)
        base = mlp(data[0].shape[1], 10, [128, 128], nn.ReLU, "he_normal")
        for name, make in sched:
            m = copy.deepcopy(base)
            opt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
            h, acc = train(m, data, opt, epochs, batch_size=64, scheduler=make(opt), seed=s)
            figs.setdefault(name, {"test_accuracy": [], "final_val_loss": []})
            figs[name]["test_accuracy"].append(acc)
            figs[name]["final_val_loss"].append(h["val_loss"][-1])
            lrs.setdefault(name, h["lr"])
    for v in figs.values():
        v["test_accuracy"], v["final_val_loss"] = median(v["test_accuracy"]), median(v["final_val_loss"])
    A = {k: v["test_accuracy"] for k, v in figs.items()}
    both_good = A["performance"] >= A["constant"] - 0.005 and A["exponential"] >= A["constant"] - 0.005
    exp_ok = A["exponential"] >= A["performance"] - 0.01

    def plot(path):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(1, 2, figsize=(12, 4))
        for k, v in lrs.items():
            ax[0].plot(range(1, len(v) + 1), v, label=k)
        ax[0].set_yscale("log")
        ax[0].set_xlabel("epoch")
        ax[0].set_ylabel("learning rate")
        ax[0].legend()
        ax[1].bar(range(len(A)), list(A.values()))
        ax[1].set_ylim(min(A.values()) - 0.02, max(A.values()) + 0.01)
        ax[1].set_xticks(range(len(A)))
        ax[1].set_xticklabels(list(A))
        ax[1].set_ylabel(f"test accuracy ({name_data})")
        save_figure(fig, path)

    return Result("schedules", "A learning rate that starts high and decreases beats a constant one; performance "
                  "scheduling and exponential scheduling both perform well, exponential being simpler to tune "
                  "(Senior et al. 2013).",
                  f"test accuracy after {epochs} epochs on {name_data} (SGD + momentum, lr0 0.1): " +
                  ", ".join(f"{k} {v:.3f}" for k, v in A.items()),
                  "yes" if both_good and exp_ok else ("partly" if both_good or exp_ok else "no"),
                  f"performance and exponential at least as good as constant: {both_good}; exponential on par with "
                  f"performance: {exp_ok}", figs, ss, plot=plot)
