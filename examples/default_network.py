"""The chapter's practical default, written as the course writes PyTorch code (only the imports differ).

He initialization, ELU, batch normalization, dropout and Nesterov accelerated gradient, no learning-rate
schedule; inputs standardized with the training set's statistics; a validation set watched every epoch
with early stopping by hand; the best weights saved and loaded back with torch.save / torch.load.

    python examples/default_network.py
"""
import copy
import os
import tempfile

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastnn as torch
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.utils.data import DataLoader, TensorDataset

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X.astype(np.float32), y, test_size=0.25, random_state=0,
                                                    stratify=y)
X_train, X_val, y_train, y_val = train_test_split(X_train, y_train, test_size=0.15, random_state=0,
                                                  stratify=y_train)
mean, std = X_train.mean(0), X_train.std(0) + 1e-8
X_train, X_val, X_test = ((a - mean) / std for a in (X_train, X_val, X_test))


class DefaultNet(nn.Module):
    def __init__(self, n_in=64, hidden=(300, 100), n_out=10, p=0.2):
        super().__init__()
        layers = []
        for h in hidden:
            linear = nn.Linear(n_in, h)
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")    # He initialization
            nn.init.zeros_(linear.bias)
            layers += [linear, nn.BatchNorm1d(h), nn.ELU(), nn.Dropout(p)]
            n_in = h
        self.features = nn.Sequential(*layers)
        self.out = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.out(self.features(x))


torch.manual_seed(0)
model = DefaultNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
train_loader = DataLoader(TensorDataset(torch.tensor(X_train), torch.tensor(y_train)), batch_size=32, shuffle=True)


def accuracy(model, X, y):
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor(X))
    return (logits.argmax(dim=1).numpy() == y).mean(), F.cross_entropy(logits, torch.tensor(y)).item()


best, best_state, patience = float("inf"), None, 0
for epoch in range(100):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
    val_acc, val_loss = accuracy(model, X_val, y_val)
    if val_loss < best:
        best, best_state, patience = val_loss, copy.deepcopy(model.state_dict()), 0
    else:
        patience += 1
        if patience == 10:
            break
print(f"stopped after epoch {epoch + 1}; best validation loss {best:.4f}")

path = os.path.join(tempfile.mkdtemp(), "default_net.pt")
torch.save(best_state, path)
restored = DefaultNet()
restored.load_state_dict(torch.load(path))
print(f"test accuracy of the best (restored) model: {accuracy(restored, X_test, y_test)[0]:.3f}")
