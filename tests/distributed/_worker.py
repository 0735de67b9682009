"""Run under mpiexec by test_distributed.py (and alone, as the single-process reference):

    python _worker.py CASE DTYPE OUTDIR

Each rank writes OUTDIR/CASE-rank{r}.npz with its final parameters (and what the case checks)."""
import os
import sys

import numpy as np

import fastnn
import fastnn.distributed as dist
import fastnn.nn as nn
import fastnn.optim as optim
from fastnn.regularizers import L2
from fastnn.training import fit


def digits(n=600):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X[:n] / 16.0), y[:n].astype(np.int64)


def mlp(dtype, bn=False):
    fastnn.manual_seed(0)
    layers = [nn.Linear(64, 48, dtype=dtype), nn.Tanh()]
    if bn:
        layers += [(nn.SyncBatchNorm if bn == "sync" else nn.BatchNorm1d)(48, dtype=dtype)]
    layers += [nn.Linear(48, 10, dtype=dtype)]
    return nn.Sequential(*layers)


def params(model):
    return {f"p{i}": p.detach().numpy().copy() for i, p in enumerate(model.parameters())} | \
        {f"b{i}": b.numpy().copy() for i, b in enumerate(model.buffers())}


def case_fit(dtype, bn=False):
    """fit over the ranks: the same global batches of 32 (odd last batch), momentum SGD, clipping, an L2
    penalty, ReduceLROnPlateau on a validation set."""
    X, y = digits()
    model = mlp(dtype, bn)
    for p in model.parameters():
        p.regularizer = L2(1e-4) if p.ndim == 2 else None
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    hist = fit(model, X[:500].astype(dtype), y[:500], loss="cross_entropy", optimizer=opt, epochs=2,
               batch_size=32 if not bn else 24, seed=7, verbose=0, clip_grad_norm=5.0, scheduler=sched,
               validation_data=(X[500:].astype(dtype), y[500:]))
    out = params(model)
    for k in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        out["h_" + k] = np.asarray(hist[k], np.float64)
    out["lr"] = np.array([opt.param_groups[0]["lr"]])
    return out


def case_loop(dtype, bn=False):
    """The PyTorch-style loop: DistributedSampler, DistributedOptimizer, clipping after synchronize."""
    from fastnn.utils.data import DataLoader, DistributedSampler, TensorDataset

    X, y = digits(480)
    ds = TensorDataset(fastnn.tensor(X.astype(dtype)), fastnn.tensor(y))
    model = mlp(dtype, bn)
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(optim.Adam(model.parameters(), lr=1e-2))
    sampler = DistributedSampler(ds, shuffle=True, seed=3)
    loader = DataLoader(ds, batch_size=40 // dist.world_size(), sampler=sampler)
    lossf = nn.CrossEntropyLoss()
    for epoch in range(2):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            loss = lossf(model(xb), yb)
            loss.backward()
            opt.synchronize()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            with opt.skip_synchronize():
                opt.step()
    return params(model)


def case_syncbn2d(dtype, bn=False):
    """SyncBatchNorm on (N, C, H, W) through autograd: rank r holds rows r::P of a fixed batch; the
    test compares with BatchNorm2d on the whole batch."""
    rng = np.random.default_rng(5)
    X = (rng.standard_normal((12, 3, 4, 5)) * 2 + 1).astype(dtype)
    G = rng.standard_normal(X.shape).astype(dtype)
    r, P = dist.rank(), dist.world_size()
    m = nn.SyncBatchNorm(3, dtype=dtype)
    m.weight.data[:] = np.array([0.5, 1.5, -1.0], dtype)
    x = fastnn.tensor(X[r::P], requires_grad=True)
    y = m(x)
    (y * fastnn.tensor(G[r::P])).sum().backward()
    gw, gb = m.weight.grad.numpy().copy(), m.bias.grad.numpy().copy()
    dist.allreduce_(gw, op="sum")
    dist.allreduce_(gb, op="sum")
    return {"y": y.detach().numpy(), "dx": x.grad.numpy(), "gw": gw, "gb": gb,
            "rm": m.running_mean.numpy(), "rv": m.running_var.numpy()}


def _sabotage(model, action):
    """On rank 1, `action` runs at the 9th forward call (mid second epoch)."""
    if dist.rank() != 1:
        return
    calls = [0]

    def hook(module, inputs, output):
        calls[0] += 1
        if calls[0] > 8:
            action()
    model[0].register_forward_hook(hook)


def _raise():
    raise RuntimeError("injected failure")


def case_fail(dtype, bn=False):
    """Rank 1 raises inside fit's step: every rank must end with the reason, none hang."""
    X, y = digits(200)
    model = mlp(dtype)
    _sabotage(model, _raise)
    fit(model, X.astype(dtype), y, loss="cross_entropy", optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=3, batch_size=32, seed=1, verbose=0)
    return params(model)


def case_die(dtype, bn=False):
    """Rank 1 exits (as if killed) in the middle of training: the others must not wait forever."""
    X, y = digits(200)
    model = mlp(dtype)
    _sabotage(model, lambda: os._exit(3))
    fit(model, X.astype(dtype), y, loss="cross_entropy", optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=3, batch_size=32, seed=1, verbose=0)
    return params(model)


def case_exit(dtype, bn=False):
    """Rank 1 leaves through sys.exit() in a callback: every rank must end, none may hang."""
    from fastnn.training import Callback

    class Leave(Callback):
        def on_epoch_end(self, epoch, logs):
            if dist.rank() == 1:
                sys.exit(4)

    X, y = digits(200)
    model = mlp(dtype)
    fit(model, X, y, loss="cross_entropy", optimizer=optim.SGD(model, lr=0.1), epochs=3, batch_size=50,
        verbose=0, callbacks=[Leave()])
    return params(model)


def case_caught(dtype, bn=False):
    """Rank 1 catches its own fit error and goes on: the others must not wait for it forever."""
    X, y = digits(200)
    model = mlp(dtype)
    try:
        fit(model, X, y if dist.rank() == 0 else y * 0 + 99, loss="cross_entropy",  # bad labels on rank 1 only
            optimizer=optim.SGD(model, lr=0.1), epochs=2, batch_size=50, verbose=0)
    except Exception:
        pass
    dist.allreduce_(np.ones(3))
    return params(model)


def case_mismatch(dtype, bn=False):
    """The ranks hold data of different sizes: a clear error on every rank, before any collective step."""
    X, y = digits(200 if dist.rank() == 0 else 150)
    model = mlp(dtype)
    try:
        fit(model, X, y, loss="cross_entropy", optimizer=optim.SGD(model, lr=0.1), epochs=1, batch_size=50,
            verbose=0)
    except ValueError as e:
        print(f"rank {dist.rank()}: {e}", flush=True)
        return {"refused": np.array([1])}
    return {"refused": np.array([0])}


def main():
    case, dtype, outdir = sys.argv[1], np.dtype(sys.argv[2]), sys.argv[3]
    bn = sys.argv[4] if len(sys.argv) > 4 else False
    dist.init()
    if os.environ.get("FASTNN_TEST_REDUCE_BCAST"):  # the path for MPIs whose allreduce may differ per rank
        dist._W.symmetric_allreduce = False
    out = globals()["case_" + case](dtype, bn)
    out["world"] = np.array([dist.world_size()])
    np.savez(os.path.join(outdir, f"{case}-rank{dist.rank()}.npz"), **out)


if __name__ == "__main__":
    main()
