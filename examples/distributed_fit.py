"""Data-parallel training over MPI: the same fit call on every process, launched by mpiexec.

    mpiexec -n 2 python examples/distributed_fit.py      (pip install "fastnn-cpu[mpi]")
    python examples/distributed_fit.py                    (one process: the same result, to rounding)

Under mpiexec, fit broadcasts rank 0's parameters, gives each process its shard of every epoch's
permutation, averages the gradients with one allreduce over the gradient arena per step, and averages
metrics; every rank ends with the same parameters, and only rank 0 prints. SyncBatchNorm computes the
batch statistics over the whole batch across ranks, so the run matches the single process to rounding
(plain BatchNorm1d would normalize each rank's shard by its own statistics).
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fastnn
from fastnn import distributed, nn, optim

distributed.init()
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)

fastnn.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 256, init="he_normal"), nn.BatchNorm1d(256), nn.ELU(),
                      nn.Linear(256, 10))
model = nn.SyncBatchNorm.convert_sync_batchnorm(model)   # batch statistics over the whole batch, all ranks
opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
hist = fastnn.fit(model, X_train, y_train, loss="cross_entropy", optimizer=opt, epochs=10, batch_size=64,
                  validation_split=0.1, seed=0, verbose=0)
acc = fastnn.evaluate(model, X_test, y_test)["accuracy"]
checksum = float(sum(np.abs(p.detach().numpy()).sum() for p in model.parameters()))
if distributed.rank() == 0:
    print(f"{distributed.world_size()} process(es): test accuracy {acc:.4f}, val loss {hist['val_loss'][-1]:.4f}, "
          f"parameter checksum {checksum:.6f}")
