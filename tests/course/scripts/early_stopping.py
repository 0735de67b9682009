"""Regularized training with early stopping (PyTorch): BatchNorm, dropout, weight decay and an L1 penalty,
gradient clipping, ReduceLROnPlateau, and the best model kept with torch.save(model.state_dict())."""
import json
import os
import tempfile

import torch
import torch.nn as nn
import torch.optim as optim
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
d = load_digits()
X = torch.tensor((d.data - d.data.mean(0)) / (d.data.std(0) + 1e-6), dtype=torch.float32)
y = torch.tensor(d.target)
full = TensorDataset(X, y)
train_ds, val_ds, test_ds = random_split(full, [1200, 300, 297], generator=torch.Generator().manual_seed(42))

model = nn.Sequential(
    nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ELU(), nn.Dropout(0.3),
    nn.Linear(128, 64), nn.BatchNorm1d(64), nn.ELU(), nn.Dropout(0.3),
    nn.Linear(64, 10),
)
for m in model.modules():
    if isinstance(m, nn.Linear):
        nn.init.kaiming_normal_(m.weight)
        nn.init.zeros_(m.bias)
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=2)
train_loader = DataLoader(train_ds, batch_size=32, shuffle=True, drop_last=True)
val_loader = DataLoader(val_ds, batch_size=256)
l1_lambda = 1e-5


def evaluate(loader):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for xb, yb in loader:
            out = model(xb)
            total += criterion(out, yb).item() * len(xb)
            correct += (out.argmax(1) == yb).sum().item()
            n += len(xb)
    return total / n, correct / n


best_path = os.path.join(tempfile.mkdtemp(), "best_model.pt")
best_val, patience, wait, history = float("inf"), 4, 0, []
for epoch in range(40):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss = loss + l1_lambda * sum(p.abs().sum() for p in model.parameters())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        optimizer.step()
    val_loss, val_acc = evaluate(val_loader)
    scheduler.step(val_loss)
    history.append(val_loss)
    print(f"epoch {epoch + 1:2d} val loss {val_loss:.4f} val acc {val_acc:.3f} lr {optimizer.param_groups[0]['lr']:.4f}")
    if val_loss < best_val:
        best_val, wait = val_loss, 0
        torch.save(model.state_dict(), best_path)
    else:
        wait += 1
        if wait >= patience:
            print(f"early stopping at epoch {epoch + 1}")
            break
model.load_state_dict(torch.load(best_path))
test_loss, test_acc = evaluate(DataLoader(test_ds, batch_size=256))
restored_val, _ = evaluate(val_loader)
print(f"best val loss {best_val:.4f} (restored: {restored_val:.4f}), test accuracy {test_acc:.3f}")
print("RESULT " + json.dumps({"best_val": best_val, "restored_val": restored_val, "test_accuracy": test_acc,
                              "epochs": len(history)}))
