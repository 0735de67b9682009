"""Gradient clipping, PyTorch style: a training loop with clip_grad_norm_ (or clip_grad_value_).

A deep tanh network with a learning rate that is too high: without clipping, a few large gradients
throw it off; clipping the global gradient norm to 1.0 keeps every step bounded. The loop is the course's
own, with only the imports naming fastnn.

    python examples/gradient_clipping.py
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastnn as torch
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.utils.data import DataLoader, TensorDataset

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
train = DataLoader(TensorDataset(torch.tensor(X_train), torch.tensor(y_train)), batch_size=32, shuffle=True)


def train_model(clip):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 128),
                          nn.Tanh(), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    largest = 0.0
    for epoch in range(10):
        for xb, yb in train:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            if clip == "norm":
                norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # returns the norm before
            else:
                norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=float("inf"))  # only measures
                if clip == "value":
                    nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
            largest = max(largest, float(norm))
            optimizer.step()
    model.eval()
    with torch.no_grad():
        acc = (model(torch.tensor(X_test)).argmax(1).numpy() == y_test).mean()
    return acc, largest


for clip in ("none", "value", "norm"):
    acc, largest = train_model(clip)
    print(f"clipping {clip:5s}: test accuracy {acc:.3f} (largest gradient norm seen {largest:.1f})")
