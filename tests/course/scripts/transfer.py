"""Transfer learning (PyTorch): train on digits 0-4, save the state dict, reuse the feature layers
frozen with requires_grad_(False) for digits 5-9 with few labels, a new head trained alone."""
import json
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from sklearn.datasets import load_digits

torch.manual_seed(0)
d = load_digits()
X = torch.tensor(d.data / 16.0, dtype=torch.float32)
y = torch.tensor(d.target)
low, high = y < 5, y >= 5


class Net(nn.Module):
    def __init__(self, n_out=5):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
        self.classifier = nn.Linear(64, n_out)

    def forward(self, x):
        return self.classifier(self.features(x))


def train(model, X, y, epochs, lr):
    opt = optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=lr)
    crit = nn.CrossEntropyLoss()
    for _ in range(epochs):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            crit(model(X[idx]), y[idx]).backward()
            opt.step()


def accuracy(model, X, y):
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


base = Net()
train(base, X[low], y[low], epochs=10, lr=1e-3)
base_acc = accuracy(base, X[low], y[low])
path = os.path.join(tempfile.mkdtemp(), "base.pth")
torch.save(base.state_dict(), path)

# 10 labelled images per class of the new task
Xh, yh = X[high], y[high] - 5
rng = np.random.RandomState(0)
few = np.concatenate([rng.choice(np.where(yh.numpy() == c)[0], 10, replace=False) for c in range(5)])
rest = np.setdiff1d(np.arange(len(yh)), few)

model = Net()
model.load_state_dict(torch.load(path))
for p in model.features.parameters():
    p.requires_grad_(False)
model.classifier = nn.Linear(64, 5)
frozen = [p.detach().clone() for p in model.features.parameters()]
train(model, Xh[few], yh[few], epochs=60, lr=1e-2)
transfer_acc = accuracy(model, Xh[rest], yh[rest])
unchanged = all(torch.equal(a, b) for a, b in zip(frozen, model.features.parameters()))

scratch = Net()
train(scratch, Xh[few], yh[few], epochs=60, lr=1e-2)
scratch_acc = accuracy(scratch, Xh[rest], yh[rest])
print(f"base (digits 0-4) {base_acc:.3f}; digits 5-9 with 10 labels per class: transfer {transfer_acc:.3f}, "
      f"from scratch {scratch_acc:.3f}; frozen layers unchanged: {unchanged}")
print("RESULT " + json.dumps({"base": base_acc, "transfer": transfer_acc, "scratch": scratch_acc,
                              "frozen_unchanged": unchanged}))
