"""The chapter's problem: vanishing gradients, and what diagnose() says about them.

An 8-layer sigmoid network with weights drawn from N(0, 1) (the naive initialization) saturates: over
half of its sigmoids sit within 2 % of 0 or 1, where their gradient is almost nothing. Xavier's
initialization cures the saturation, but not the sigmoid: its slope is at most 1/4, so the gradient still
shrinks about 4x per layer (Xavier's derivation assumes a slope of 1 at zero, which tanh has) and the
lowest layer gets a millionth of the top layer's. `fastnn.diagnostics.diagnose` finds both on one
batch and names the chapter's remedies; tanh with Xavier, and ELU with He, train.

    python examples/vanishing_gradients.py
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastnn
from fastnn import nn, optim
from fastnn.diagnostics import diagnose

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def deep_net(activation, init, depth=8, width=100):
    layers, n = [], X.shape[1]
    for _ in range(depth):
        layers += [nn.Linear(n, width, init=init), activation()]
        n = width
    return nn.Sequential(*layers, nn.Linear(n, 10))


for name, activation, init in [("sigmoid, N(0, 1)", nn.Sigmoid, "normal"),
                               ("sigmoid, Xavier", nn.Sigmoid, "xavier_uniform"),
                               ("tanh, Xavier", nn.Tanh, "xavier_uniform"),
                               ("ELU, He", nn.ELU, "he_normal")]:
    fastnn.manual_seed(0)
    model = deep_net(activation, init)
    report = diagnose(model, X_train, y_train, loss=nn.CrossEntropyLoss())
    grads = [layer["grad_norm"] for layer in report.layers if layer.get("grad_norm")]
    print(f"\n== {name}: weight-gradient norm, lowest layer / top layer = {grads[0] / grads[-1]:.2e}")
    for problem in report.problems:
        print(f"   {problem.kind}: {problem.evidence}\n      remedy: {problem.remedy}")
    opt = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    fastnn.fit(model, X_train, y_train, loss="cross_entropy", optimizer=opt, epochs=10, batch_size=32,
               seed=0, verbose=0)
    print(f"   test accuracy after 10 epochs: {fastnn.evaluate(model, X_test, y_test)['accuracy']:.3f}")
