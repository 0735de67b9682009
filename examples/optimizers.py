"""Faster optimizers: the chapter's race of SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam.

The same network and initial weights for each optimizer (the course's settings: momentum 0.9, RMSProp's
beta 0.9 -- PyTorch's default alpha is 0.99 --, Adam's 0.9/0.999/1e-8); the training loss after each
epoch shows which converges fastest.

    python examples/optimizers.py
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastnn
from fastnn import nn, optim

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)

OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.01),
    "momentum": lambda p: optim.SGD(p, lr=0.01, momentum=0.9),
    "Nesterov": lambda p: optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True),
    "AdaGrad": lambda p: optim.Adagrad(p, lr=0.01),
    "RMSProp": lambda p: optim.RMSprop(p, lr=0.001, alpha=0.9),
    "Adam": lambda p: optim.Adam(p, lr=0.001, betas=(0.9, 0.999), eps=1e-8),
}

fastnn.manual_seed(0)
template = nn.Sequential(nn.Linear(64, 100, init="he_normal"), nn.ELU(), nn.Linear(100, 100, init="he_normal"),
                         nn.ELU(), nn.Linear(100, 10))
start = template.state_dict()
print(f"{'optimizer':9s}  training loss at epochs 1, 2, 5, 10             test acc")
curves = {}
for name, make in OPTIMIZERS.items():
    model = nn.Sequential(nn.Linear(64, 100), nn.ELU(), nn.Linear(100, 100), nn.ELU(), nn.Linear(100, 10))
    model.load_state_dict(start)                       # the same starting point for every optimizer
    hist = fastnn.fit(model, X_train, y_train, loss="cross_entropy", optimizer=make(model.parameters()),
                      epochs=10, batch_size=32, seed=0, verbose=0)
    curves[name] = hist["loss"]
    losses = "  ".join(f"{hist['loss'][e - 1]:.3f}" for e in (1, 2, 5, 10))
    print(f"{name:9s}  {losses:44s} {fastnn.evaluate(model, X_test, y_test)['accuracy']:.3f}")

try:  # the race as a figure, when matplotlib is installed
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, loss in curves.items():
        ax.plot(range(1, len(loss) + 1), loss, marker="o", markersize=3, label=name)
    ax.set(xlabel="epoch", ylabel="training loss", yscale="log", title="The same network, six optimizers")
    ax.legend()
    fig.tight_layout()
    fig.savefig("optimizers.png", dpi=110)
    print("wrote optimizers.png")
