"""Initialization x activation on a deep MLP (the chapter's vanishing-gradient experiment), written for
PyTorch. One activation instance is shared by every hidden layer, as course code often does."""
import json

import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
d = load_digits()
X_train, X_test, y_train, y_test = train_test_split(d.data / 16.0, d.target, test_size=0.25, random_state=0)
X_train = torch.tensor(X_train, dtype=torch.float32)
X_test = torch.tensor(X_test, dtype=torch.float32)
y_train = torch.tensor(y_train, dtype=torch.long)
y_test = torch.tensor(y_test, dtype=torch.long)


class DeepNet(nn.Module):
    def __init__(self, act, depth=6, width=64):
        super().__init__()
        self.hidden = nn.ModuleList([nn.Linear(64 if i == 0 else width, width) for i in range(depth)])
        self.out = nn.Linear(width, 10)
        self.act = act  # one instance, used after every hidden layer

    def forward(self, x):
        for layer in self.hidden:
            x = self.act(layer(x))
        return self.out(x)


def init_with(kind):
    def init(m):
        if isinstance(m, nn.Linear):
            if kind == "normal":
                nn.init.normal_(m.weight, 0.0, 1.0)
            elif kind == "xavier":
                nn.init.xavier_uniform_(m.weight)
            else:
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return init


configs = [("sigmoid", nn.Sigmoid, "normal"), ("sigmoid", nn.Sigmoid, "xavier"), ("tanh", nn.Tanh, "xavier"),
           ("relu", nn.ReLU, "he"), ("leaky_relu", nn.LeakyReLU, "he"), ("elu", nn.ELU, "he")]
results = {}
criterion = nn.CrossEntropyLoss()
for name, act, init in configs:
    torch.manual_seed(1)
    model = DeepNet(act())
    model.apply(init_with(init))
    loss = criterion(model(X_train), y_train)
    loss.backward()
    ratio = (model.hidden[0].weight.grad.norm() / model.out.weight.grad.norm()).item()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(15):
        perm = torch.randperm(len(X_train))
        for i in range(0, len(X_train), 32):
            idx = perm[i:i + 32]
            optimizer.zero_grad()
            loss = criterion(model(X_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        acc = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
    results[f"{name}+{init}"] = {"accuracy": acc, "grad_ratio": ratio}
    print(f"{name:10s} {init:7s} first/last gradient norm {ratio:.2e}  test accuracy {acc:.3f}")
print("RESULT " + json.dumps(results))
