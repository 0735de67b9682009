"""Activations: the chapter's ranking (ELU > LeakyReLU variants > ReLU > tanh > sigmoid), measured.

The same 5-hidden-layer network on the handwritten digits with each activation (He initialization for
the ReLU family and ELU/SELU, Xavier for tanh and sigmoid), plain SGD so the activation matters; the
test accuracy and the seconds per epoch (ELU costs an exp; LeakyReLU is the cheapest).

    python examples/activations.py
"""
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastnn
from fastnn import nn, optim

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)

ACTIVATIONS = {
    "sigmoid": (nn.Sigmoid, "xavier_uniform"),
    "tanh": (nn.Tanh, "xavier_uniform"),
    "ReLU": (nn.ReLU, "he_normal"),
    "LeakyReLU(0.01)": (lambda: nn.LeakyReLU(0.01), "he_normal"),
    "RReLU(1/8, 1/3)": (nn.RReLU, "he_normal"),
    "PReLU(0.25)": (nn.PReLU, "he_normal"),
    "ELU(1)": (nn.ELU, "he_normal"),
    "SELU": (nn.SELU, "lecun_normal"),
}

print(f"{'activation':18s} {'test acc':>8s} {'s/epoch':>8s}")
for name, (act, init) in ACTIVATIONS.items():
    fastnn.manual_seed(0)
    layers, n = [], 64
    for _ in range(5):
        layers += [nn.Linear(n, 128, init=init), act()]
        n = 128
    model = nn.Sequential(*layers, nn.Linear(n, 10))
    t0 = time.perf_counter()
    fastnn.fit(model, X_train, y_train, loss="cross_entropy", optimizer=optim.SGD(model.parameters(), lr=0.05),
               epochs=15, batch_size=32, seed=0, verbose=0)
    secs = (time.perf_counter() - t0) / 15
    print(f"{name:18s} {fastnn.evaluate(model, X_test, y_test)['accuracy']:8.3f} {secs:8.3f}")
