"""Learning-rate schedules: piecewise constant, performance-based, exponential -- and where to start.

`fastnn.lr_find` (Smith's range test) suggests a starting rate without changing the model; then the
chapter's three schedules (StepLR, ReduceLROnPlateau on the validation loss, ExponentialLR written as the
course's eta0 * 10**(-t/r)) from that rate, against a constant rate.

    python examples/lr_schedules.py
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastnn
from fastnn import nn, optim
from fastnn.optim import lr_scheduler

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def make_model():
    fastnn.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 100, init="he_normal"), nn.ELU(), nn.Linear(100, 10))


model = make_model()
found = fastnn.lr_find(model, X_train, y_train, loss="cross_entropy",
                       optimizer=optim.SGD(model.parameters(), lr=1e-3, momentum=0.9), num_iter=100)
print(found)                                    # valley, steep and minimum/10 suggestions
lr0 = found.suggestions["minimum/10"]           # a bold start: the schedules bring it down
print(f"starting rate {lr0:.3g} (lr_find left the model as it was)")

SCHEDULES = {
    "constant": lambda opt: None,
    "StepLR(5, 0.1)": lambda opt: lr_scheduler.StepLR(opt, step_size=5, gamma=0.1),
    "ReduceLROnPlateau": lambda opt: lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1),
    "exponential, r=10": lambda opt: lr_scheduler.ExponentialLR(opt, gamma=10 ** (-1 / 10)),
}
histories = {}
for name, make in SCHEDULES.items():
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=lr0, momentum=0.9)
    hist = fastnn.fit(model, X_train, y_train, loss="cross_entropy", optimizer=opt, scheduler=make(opt),
                      epochs=15, batch_size=32, validation_split=0.1, seed=0, verbose=0)
    histories[name] = hist
    print(f"{name:18s} final lr {hist['lr'][-1]:.2e}  val loss {hist['val_loss'][-1]:.4f}  "
          f"test accuracy {fastnn.evaluate(model, X_test, y_test)['accuracy']:.3f}")

try:  # learning rate and validation loss per epoch, when matplotlib is installed
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    for name, hist in histories.items():
        a.plot(hist["epoch"], hist["lr"], label=name)
        b.plot(hist["epoch"], hist["val_loss"], label=name)
    a.set(xlabel="epoch", ylabel="learning rate", yscale="log")
    b.set(xlabel="epoch", ylabel="validation loss")
    b.legend()
    fig.tight_layout()
    fig.savefig("lr_schedules.png", dpi=110)
    print("wrote lr_schedules.png")
