"""Regularization against overfitting: early stopping, dropout, and L1 / L2 / elastic-net penalties.

A wide network on 300 training digits overfits: the training loss goes to zero while the validation
loss turns up. Each cure of the chapter, alone: early stopping (keep the best parameters, stop after a
patience, restore them), dropout (p = 0.5, never at inference), and weight penalties added to the loss
(L1 pushes weights to zero, a sparse model; L2 shrinks them all). The generalization gap is validation
error minus training error, as the course defines it.

    python examples/regularization.py
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastnn
from fastnn import nn, optim, regularizers, training

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=300, random_state=0, stratify=y)


def wide(dropout=0.0, regularizer=None):
    fastnn.manual_seed(0)
    layers = []
    for n_in in (64, 512):
        layers += [nn.Linear(n_in, 512, init="he_normal", regularizer=regularizer), nn.ELU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(512, 10))


CASES = {
    "none": (wide(), []),
    "early stopping": (wide(), [training.EarlyStopping(patience=5)]),
    "dropout 0.5": (wide(dropout=0.5), []),
    "L2(1e-3)": (wide(regularizer=regularizers.L2(1e-3)), []),
    "L1(1e-3)": (wide(regularizer=regularizers.L1(1e-3)), []),
    "elastic net": (wide(regularizer=regularizers.ElasticNet(l1=1e-3, l2=1e-3)), []),
}
print(f"{'regularizer':15s} {'epochs':>6s} {'train acc':>9s} {'gap':>6s} {'test acc':>8s} {'|w| < 1e-3':>12s}")
for name, (model, callbacks) in CASES.items():
    hist = fastnn.fit(model, X_train, y_train, loss="cross_entropy",
                      optimizer=optim.Adam(model.parameters(), lr=1e-3), epochs=60, batch_size=32,
                      validation_split=0.2, callbacks=callbacks, seed=0, verbose=0)
    w = np.concatenate([np.asarray(p.detach().numpy()).ravel() for n, p in model.named_parameters()
                        if n.endswith("weight")])
    best = int(np.argmin(hist["val_loss"])) if callbacks else -1
    print(f"{name:15s} {len(hist):6d} {hist['accuracy'][best]:9.3f} {hist['gap'][best]:6.3f} "
          f"{fastnn.evaluate(model, X_test, y_test)['accuracy']:8.3f} {np.mean(np.abs(w) < 1e-3):12.1%}")
