"""Input normalization and batch normalization.

Inputs standardized with the training set's mean and standard deviation (never the test set's); then
the same deep sigmoid network with and without batch normalization after every linear layer. Batch
norm makes the network far less sensitive to its initialization and its learning rate; at inference it
uses the running statistics (model.eval()).

    python examples/batch_norm.py
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastnn
from fastnn import augment, nn, optim

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X.astype(np.float32), y, test_size=0.25, random_state=0,
                                                    stratify=y)
scaler = augment.Standardize().fit(X_train)          # x' = (x - mean) / std, fitted on the training set only
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)


def net(batch_norm, depth=6, width=100):
    layers, n = [], 64
    for _ in range(depth):
        layers.append(nn.Linear(n, width, init="xavier_uniform"))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.Sigmoid())
        n = width
    return nn.Sequential(*layers, nn.Linear(n, 10))


for lr in (0.01, 0.1):
    for bn in (False, True):
        fastnn.manual_seed(0)
        model = net(bn)
        hist = fastnn.fit(model, X_train, y_train, loss="cross_entropy",
                          optimizer=optim.SGD(model.parameters(), lr=lr, momentum=0.9), epochs=10, batch_size=32,
                          seed=0, verbose=0)
        acc = fastnn.evaluate(model, X_test, y_test)["accuracy"]
        print(f"lr {lr:<5} batch norm {'on ' if bn else 'off'}: training loss {hist['loss'][-1]:.3f}, "
              f"test accuracy {acc:.3f}")
mean, var = model[1].running_mean, model[1].running_var
print(f"the first BatchNorm1d's running statistics (used by model.eval()): mean {np.asarray(mean)[:3]}..., "
      f"var {np.asarray(var)[:3]}...")
