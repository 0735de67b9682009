"""The optimizer race from one initialization: copy.deepcopy of one model per optimizer (PyTorch)."""
import copy
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
d = load_digits()
X = torch.tensor(d.data / 16.0, dtype=torch.float32)
y = torch.tensor(d.target, dtype=torch.long)
train_ds = TensorDataset(X[:1400], y[:1400])
X_test, y_test = X[1400:], y[1400:]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


base = Net()
optimizers = {
    "SGD": lambda p: torch.optim.SGD(p, lr=0.05),
    "Momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    "Nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "AdaGrad": lambda p: torch.optim.Adagrad(p, lr=0.05),
    "RMSProp": lambda p: torch.optim.RMSprop(p, lr=0.001, alpha=0.9),
    "Adam": lambda p: torch.optim.Adam(p, lr=0.001, betas=(0.9, 0.999), eps=1e-8),
}
results = {}
for name, make in optimizers.items():
    model = copy.deepcopy(base)
    optimizer = make(model.parameters())
    loader = DataLoader(train_ds, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0))
    losses = []
    for epoch in range(8):
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        losses.append(total / len(train_ds))
    with torch.no_grad():
        acc = (model(X_test).argmax(1) == y_test).float().mean().item()
    results[name] = {"losses": losses, "accuracy": acc}
    print(f"{name:9s} final training loss {losses[-1]:.4f}  test accuracy {acc:.3f}")
same_start = all(torch.equal(p, q) for p, q in zip(base.parameters(), Net().parameters())) is False
results["base_untouched"] = bool(same_start)
print("RESULT " + json.dumps(results))
