"""Does augmentation keep training fed? Augmented samples/s of a CIFAR-10-style pipeline (flip, crop with
padding, small rotation, colour jitter on (N, 3, 32, 32) float batches) vs the samples/s a training loop
consumes, and fit's throughput with and without the pipeline (the DataLoader prepares augmented
batches in a background thread).

    python bench/augment.py [--threads 1,2]
"""
import argparse
import os
import statistics

import numpy as np

import fastnn
from fastnn import augment as D
from fastnn import nn, optim
from fastnn.benchmark import machine_info, thread_list, time_side_by_side, write_json


def numpy_pipeline(x, rng):
    """The same ops written in plain NumPy (flip, padded crop, brightness/contrast; no rotation or hue),
    a lower bound on what a NumPy pipeline costs."""
    n, c, h, w = x.shape
    flip = rng.random(n) < 0.5
    x = np.where(flip[:, None, None, None], x[..., ::-1], x)
    p = np.pad(x, ((0, 0), (0, 0), (4, 4), (4, 4)))
    out = np.empty_like(x)
    tops, lefts = rng.integers(0, 9, n), rng.integers(0, 9, n)
    for i in range(n):
        out[i] = p[i, :, tops[i]:tops[i] + h, lefts[i]:lefts[i] + w]
    b = rng.uniform(0.8, 1.2, (n, 1, 1, 1)).astype(x.dtype)
    out = np.clip(out * b, 0, 1)
    m = out.mean(axis=(1, 2, 3), keepdims=True)
    cf = rng.uniform(0.8, 1.2, (n, 1, 1, 1)).astype(x.dtype)
    return np.clip(cf * out + (1 - cf) * m, 0, 1)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default=None)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "augment.json"))
    a = ap.parse_args(argv)
    threads = thread_list(a.threads)
    info = machine_info()
    rng = np.random.default_rng(0)
    N = 4096
    X = rng.random((N, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, N)
    pipe = D.BatchCompose([D.BatchRandomHorizontalFlip(), D.BatchRandomCrop(32, padding=4), D.BatchRandomRotation(10),
                      D.BatchColorJitter(0.2, 0.2, 0.2, 0.05)])
    batch = X[:128]
    print(f"fastnn {info['fastnn']} | {info['cpu']} | {info['cores']} cores | batch 128 x (3, 32, 32)")
    rows = []
    for nt in threads:
        with fastnn.set_num_threads(nt):
            t = time_side_by_side({"fastnn": lambda: pipe(batch, rng), "numpy": lambda: numpy_pipeline(batch, rng)},
                                  reps=20)
            fastnn.manual_seed(0)
            model = nn.Sequential(nn.Flatten(), nn.Linear(3072, 256), nn.BatchNorm1d(256), nn.ELU(), nn.Dropout(0.2),
                                  nn.Linear(256, 10))
            opt = optim.SGD(model, lr=0.01, momentum=0.9, nesterov=True)
            kw = dict(loss="cross_entropy", optimizer=opt, epochs=3, batch_size=128, verbose=0, seed=0)
            plain = statistics.median(fastnn.fit(model, X, y, **kw)["samples_per_sec"])
            aug = statistics.median(fastnn.fit(model, X, y, transform=pipe, **kw)["samples_per_sec"])
        row = {"threads": nt, "augment_fastnn_sps": 128 / t["fastnn"], "augment_numpy_sps": 128 / t["numpy"],
               "train_plain_sps": plain, "train_augmented_sps": aug}
        rows.append(row)
        print(f"threads {nt}: augmentation {row['augment_fastnn_sps']:,.0f} samples/s (NumPy, fewer ops: "
              f"{row['augment_numpy_sps']:,.0f}); training consumes {plain:,.0f} samples/s; "
              f"fit with augmentation {aug:,.0f} samples/s ({aug / plain:.0%} of plain)")
    write_json(a.json, {"machine": info, "rows": rows})


if __name__ == "__main__":
    main()
