"""Data augmentation with torchvision transforms inside a Dataset (the course's style), on the 8x8
digits stored as uint8 images; no rotations (digits change meaning), small shifts and scalings."""
import json

import numpy as np
import torch
import torch.nn as nn
import torchvision.transforms as transforms
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)
d = load_digits()
images = (d.images * 255 / 16).astype(np.uint8)
labels = d.target


class Digits(Dataset):
    def __init__(self, idx, transform):
        self.idx, self.transform = idx, transform

    def __len__(self):
        return len(self.idx)

    def __getitem__(self, i):
        j = self.idx[i]
        return self.transform(images[j]), int(labels[j])


train_tf = transforms.Compose([
    transforms.ToTensor(),
    transforms.RandomAffine(degrees=0, translate=(0.125, 0.125), scale=(0.9, 1.1)),
    transforms.Normalize((0.5,), (0.5,)),
])
test_tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
order = np.random.RandomState(0).permutation(len(labels))
train_loader = DataLoader(Digits(order[:1400], train_tf), batch_size=32, shuffle=True, num_workers=2)
test_loader = DataLoader(Digits(order[1400:], test_tf), batch_size=128)

model = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
criterion = nn.CrossEntropyLoss()
for epoch in range(12):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        criterion(model(xb), yb).backward()
        optimizer.step()
model.eval()
correct = 0
with torch.no_grad():
    for xb, yb in test_loader:
        correct += (model(xb).argmax(1) == yb).sum().item()
acc = correct / len(test_loader.dataset)
print(f"test accuracy with augmentation: {acc:.3f}")
print("RESULT " + json.dumps({"accuracy": acc}))
