"""Transfer learning on fastnn beside the same recipe in PyTorch, and what freezing saves per epoch.

    python bench/transfer.py [--per-class 1 5 10 50] [--seeds 5] [--json bench/results/transfer.json]

The scenario of examples/transfer_digits.py: the zoo's CNN trained on digits 0-4, reused for digits 5-9
with 1, 5, 10 and 50 labelled images per class -- a new head trained alone on the frozen layers up to
"flatten", then everything fine-tuned (reused layers at a 10x lower learning rate), against the same
network trained from scratch on the same labels; the same for the zoo's MLP (its layers up to "drop2").
PyTorch gets the same base weights (loaded from the zoo entry's state dict), the same labelled images,
the same number of Adam steps, and is frozen the way PyTorch users do it correctly (requires_grad_(False)
plus eval() on the reused part, so its batch-norm statistics stay put). Medians over seeds.

Speed: seconds per epoch of fit over 750 images of the new task with the base frozen, with everything
trainable, and on features computed once (transfer.features), at batch 32 and 128.
"""
import argparse
import os
import sys
import time
from collections import OrderedDict

import numpy as np

import fastnn
from fastnn import nn, optim, transfer, zoo
from fastnn.benchmark import machine_info, write_json

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from transfer_digits import cnn, new_task  # noqa: E402

STEPS_HEAD, STEPS_FT, STEPS_SCRATCH = 150, 100, 250


def mlp(N, n_out=5, p=0.2):
    """The zoo MLP's architecture (names as in the zoo entry)."""
    layers, width = OrderedDict(), 64
    for i, h in enumerate((128, 64), 1):
        layers.update([(f"fc{i}", N.Linear(width, h)), (f"bn{i}", N.BatchNorm1d(h)), (f"act{i}", N.ELU()),
                       (f"drop{i}", N.Dropout(p))])
        width = h
    layers["out"] = N.Linear(width, n_out)
    return N.Sequential(layers)


def torch_cnn(T):
    N = T.nn
    return N.Sequential(OrderedDict([
        ("conv1", N.Conv2d(1, 32, 3, padding=1)), ("bn1", N.BatchNorm2d(32)), ("relu1", N.ReLU()),
        ("conv2", N.Conv2d(32, 64, 3, padding=1)), ("bn2", N.BatchNorm2d(64)), ("relu2", N.ReLU()),
        ("pool2", N.MaxPool2d(2)),
        ("conv3", N.Conv2d(64, 64, 3, padding=1)), ("bn3", N.BatchNorm2d(64)), ("relu3", N.ReLU()),
        ("pool3", N.MaxPool2d(2)), ("flatten", N.Flatten()), ("dropout", N.Dropout(0.2)),
        ("fc", N.Linear(256, 5))]))


def _epochs(n, steps):
    batch = min(32, n)
    return batch, max(1, round(steps / -(-n // batch)))


# ---- fastnn ----
def fastnn_run(kind, Xtr, ytr, Xte, yte, seed):
    upto, n_feat = ("flatten", 256) if kind == "cnn" else ("drop2", 64)
    entry = "digits-cnn-0to4" if kind == "cnn" else "digits-mlp-0to4"
    fastnn.manual_seed(seed)
    model = transfer.build(transfer.take(entry, upto=upto), head=nn.Linear(n_feat, 5))
    lf = nn.CrossEntropyLoss()

    def train(m, params, lr, steps):
        batch, epochs = _epochs(len(Xtr), steps)
        fastnn.fit(m, Xtr, ytr, loss=lf, optimizer=optim.Adam(params, lr=lr), epochs=epochs, batch_size=batch,
                   seed=seed, verbose=0)
        return fastnn.evaluate(m, Xte, yte, loss=lf)["accuracy"]

    head = train(model, model.parameters(), 1e-2, STEPS_HEAD)
    transfer.unfreeze(model)
    ft = train(model, transfer.param_groups(model, lr=1e-3, base_lr=1e-4), 1e-3, STEPS_FT)
    fastnn.manual_seed(seed)
    scratch = cnn() if kind == "cnn" else mlp(nn)
    sc = train(scratch, scratch.parameters(), 3e-3, STEPS_SCRATCH)
    return {"head_only": head, "fine_tuned": ft, "scratch": sc}


# ---- PyTorch, the same recipe ----
def torch_run(kind, Xtr, ytr, Xte, yte, seed):
    import torch
    T = torch
    entry = "digits-cnn-0to4" if kind == "cnn" else "digits-mlp-0to4"
    sd = {k: torch.from_numpy(np.array(v)) for k, v in zoo.load(entry, verbose=0).state_dict().items()}
    torch.manual_seed(seed)
    full = torch_cnn(T) if kind == "cnn" else mlp(T.nn)
    full.load_state_dict(sd)
    names = list(full._modules)
    cut = names.index("flatten" if kind == "cnn" else "drop2") + 1
    base = T.nn.Sequential(OrderedDict((n, full._modules[n]) for n in names[:cut]))
    model = T.nn.Sequential(OrderedDict([("base", base), ("head", T.nn.Linear(256 if kind == "cnn" else 64, 5))]))
    base.requires_grad_(False)
    tx, ty, vx, vy = (torch.from_numpy(a) for a in (Xtr, ytr, Xte, yte))
    lf = T.nn.CrossEntropyLoss()

    def train(m, params, steps, frozen_base):
        batch, epochs = _epochs(len(Xtr), steps)
        opt = T.optim.Adam(params)
        g = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            m.train()
            if frozen_base:
                base.eval()
            perm = torch.randperm(len(tx), generator=g)
            for i in range(0, len(tx), batch):
                idx = perm[i:i + batch]
                if len(idx) < 2 and len(tx) > 1:  # as fit: a last batch of one is merged (batch norm)
                    continue
                opt.zero_grad()
                lf(m(tx[idx]), ty[idx]).backward()
                opt.step()
        m.eval()
        with torch.no_grad():
            return (m(vx).argmax(1) == vy).float().mean().item()

    head = train(model, [{"params": model.head.parameters(), "lr": 1e-2}], STEPS_HEAD, True)
    base.requires_grad_(True)
    ft = train(model, [{"params": base.parameters(), "lr": 1e-4}, {"params": model.head.parameters(), "lr": 1e-3}],
               STEPS_FT, False)
    torch.manual_seed(seed)
    scratch = torch_cnn(T) if kind == "cnn" else mlp(T.nn)
    sc = train(scratch, [{"params": scratch.parameters(), "lr": 3e-3}], STEPS_SCRATCH, False)
    return {"head_only": head, "fine_tuned": ft, "scratch": sc}


def accuracy_table(kinds, per_class, seeds, with_torch):
    rows = []
    for kind in kinds:
        for k in per_class:
            runs = {"fastnn": [], "torch": []}
            for s in range(seeds):
                Xtr, ytr, Xte, yte = new_task(k, s)
                if kind == "mlp":
                    Xtr, Xte = Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1)
                runs["fastnn"].append(fastnn_run(kind, Xtr, ytr, Xte, yte, s))
                if with_torch:
                    runs["torch"].append(torch_run(kind, Xtr, ytr, Xte, yte, s))
            for eng, rs in runs.items():
                if rs:
                    med = {key: float(np.median([r[key] for r in rs])) for key in rs[0]}
                    rows.append({"model": kind, "per_class": k, "engine": eng, **med})
                    print(f"{kind:4s} {k:4d}/class {eng:7s} head only {med['head_only']:.3f}  fine-tuned "
                          f"{med['fine_tuned']:.3f}  scratch {med['scratch']:.3f}", flush=True)
    return rows


def speed_rows():
    Xtr, ytr, _, _ = new_task(150, 0)
    out = []
    for batch in (32, 128):
        def epoch(model, X):
            t0 = time.perf_counter()
            fastnn.fit(model, X, ytr, loss=nn.CrossEntropyLoss(), optimizer=optim.Adam(model.parameters(), 1e-3),
                       epochs=2, batch_size=batch, verbose=0)
            return (time.perf_counter() - t0) / 2
        frozen = transfer.build(transfer.take("digits-cnn-0to4", upto="flatten"), head=nn.Linear(256, 5))
        whole = cnn()
        feats = transfer.features(frozen.base, Xtr)
        head = nn.Linear(256, 5)
        t_feat0 = time.perf_counter()
        transfer.features(frozen.base, Xtr)
        t_feat = time.perf_counter() - t_feat0
        for m, X in ((frozen, Xtr), (whole, Xtr), (head, feats)):
            epoch(m, X)
        times = {name: min(epoch(m, X) for _ in range(5))
                 for name, m, X in (("frozen base", frozen, Xtr), ("whole network", whole, Xtr),
                                    ("head on cached features", head, feats))}
        out.append({"batch": batch, **times, "features_once": t_feat,
                    "speedup_frozen": times["whole network"] / times["frozen base"],
                    "speedup_features": times["whole network"] / times["head on cached features"]})
        print(f"batch {batch:3d}: s/epoch whole {times['whole network']:.4f}  frozen base {times['frozen base']:.4f} "
              f"(x{out[-1]['speedup_frozen']:.2f})  head on cached features {times['head on cached features']:.4f} "
              f"(x{out[-1]['speedup_features']:.1f}; computing them once {t_feat:.4f} s)", flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, nargs="+", default=[1, 5, 10, 50])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "transfer.json"))
    a = ap.parse_args(argv)
    info = machine_info()
    print(f"fastnn {info['fastnn']} | torch {info['torch']} | {info['cpu']} | {info['cores']} cores")
    for e in ("digits-cnn-0to4", "digits-mlp-0to4"):
        zoo.load(e)
    speed = speed_rows()
    rows = accuracy_table(["cnn", "mlp"], a.per_class, a.seeds, not a.no_torch)
    write_json(a.json, {"machine": info, "speed": speed, "accuracy": rows})


if __name__ == "__main__":
    main()
