"""A small CNN (PyTorch): digits as 1x8x8 images, conv -> batch norm -> ReLU -> max-pool blocks written
with F.* calls in forward, channel dropout, a DataLoader; the state dict saved and loaded into a fresh
model for the evaluation, and the layer shapes printed by a forward hook."""
import json
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
d = load_digits()
X = torch.tensor(d.data.reshape(-1, 1, 8, 8) / 16.0, dtype=torch.float32)
y = torch.tensor(d.target)
perm = torch.randperm(len(X))
train_idx, test_idx = perm[:1400], perm[1400:]


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding="same")
        self.bn2 = nn.BatchNorm2d(32)
        self.drop = nn.Dropout2d(0.1)
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)      # 16 x 4 x 4
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)      # 32 x 2 x 2
        x = self.drop(x)
        return self.fc(torch.flatten(x, 1))


model = CNN()
shapes = {}


def record_shape(name):
    def hook(module, inputs, output):
        shapes.setdefault(name, list(output.shape[1:]))
    return hook


for name, m in model.named_children():
    m.register_forward_hook(record_shape(name))
loader = DataLoader(TensorDataset(X[train_idx], y[train_idx]), batch_size=32, shuffle=True)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
criterion = nn.CrossEntropyLoss()
losses = []
for epoch in range(8):
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    losses.append(total / len(train_idx))

path = os.path.join(tempfile.mkdtemp(), "cnn.pt")
torch.save(model.state_dict(), path)
fresh = CNN()
fresh.load_state_dict(torch.load(path))
fresh.eval()
with torch.no_grad():
    acc = (fresh(X[test_idx]).argmax(dim=1) == y[test_idx]).float().mean().item()
print("RESULT " + json.dumps({"accuracy": acc, "losses": losses, "shapes": shapes,
                              "params": sum(p.numel() for p in model.parameters())}))
