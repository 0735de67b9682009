"""Matrix products: fastnn's own kernels vs scipy's OpenBLAS (fastnn's "blas" backend: single-threaded
calls on blocks fixed by the shape) vs NumPy's matmul (its OpenBLAS, threading itself), side by side.

    python bench/gemm.py [--threads 1,2] [--json bench/results/gemm.json]

Shapes: the products of training steps (forward x W^T, weight gradient g^T x, input gradient g W) of the
784-256-128-10 MLP at batch 32 and 128, the digits MLP, a batch-1024 layer, and squares. GFLOP/s count
2 M N K; the peak line is this machine's fused-multiply-add peak measured with independent chains.
"""
import argparse
import os
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import fastnn
from fastnn import ops
from fastnn._ext import _blas
from fastnn.benchmark import machine_info, thread_list, write_json

# (label, M, N, K, trans_a, trans_b)
SHAPES = [
    ("b32 fwd 784->256", 32, 256, 784, False, True),
    ("b32 wgrad 256x784", 256, 784, 32, True, False),
    ("b32 dgrad 256->128", 32, 256, 128, False, False),
    ("b128 fwd 784->256", 128, 256, 784, False, True),
    ("b128 wgrad 256x784", 256, 784, 128, True, False),
    ("b128 fwd 256->128", 128, 128, 256, False, True),
    ("b128 dgrad 128->256", 128, 256, 128, False, False),
    ("digits fwd 64->64", 32, 64, 64, False, True),
    ("digits wgrad 64x64", 64, 64, 32, True, False),
    ("b1024 fwd 784->300", 1024, 300, 784, False, True),
    ("1024^3", 1024, 1024, 1024, False, False),
    ("2048^3", 2048, 2048, 2048, False, False),
]


def median_time(f, budget=0.4):
    f()
    t0 = time.perf_counter()
    f()
    one = max(time.perf_counter() - t0, 1e-7)
    reps = max(3, min(2000, int(budget / one)))
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default=None)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "gemm.json"))
    a = ap.parse_args(argv)
    info = machine_info()
    k = _blas.kernel_info()
    print(f"fastnn {info['fastnn']} | {info['cpu']} | {info['cores']} cores | kernels {k['isa']}, "
          f"{k['tile']} float tiles")
    print(f"{'shape':22s} {'thr':>3s} {'fastnn':>10s} {'scipy BLAS':>11s} {'numpy':>10s} {'x BLAS':>7s} "
          f"{'x numpy':>8s}")
    rng = np.random.default_rng(0)
    rows = []
    for nt in thread_list(a.threads):
        for label, M, N, K, ta, tb in SHAPES:
            A = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
            B = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
            C = np.empty((M, N), np.float32)
            Aop, Bop = (A.T if ta else A), (B.T if tb else B)
            flop = 2.0 * M * N * K
            rates = {}
            with fastnn.set_num_threads(nt):
                for backend in ("fastnn", "blas"):
                    _blas.set_backend(backend)
                    try:
                        t = median_time(lambda: ops.matmul(A, B, trans_a=ta, trans_b=tb, out=C))
                    finally:
                        _blas.set_backend("fastnn")
                    rates[backend] = flop / t / 1e9
            with threadpool_limits(nt, user_api="blas"):
                rates["numpy"] = flop / median_time(lambda: np.matmul(Aop, Bop, out=C)) / 1e9
            row = {"shape": label, "M": M, "N": N, "K": K, "threads": nt, "fastnn_gflops": rates["fastnn"],
                   "blas_gflops": rates["blas"], "numpy_gflops": rates["numpy"]}
            rows.append(row)
            print(f"{label:22s} {nt:3d} {rates['fastnn']:10.1f} {rates['blas']:11.1f} {rates['numpy']:10.1f} "
                  f"{rates['fastnn'] / rates['blas']:7.2f} {rates['fastnn'] / rates['numpy']:8.2f}", flush=True)
    write_json(a.json, {"machine": info, "kernels": k, "rows": rows})


if __name__ == "__main__":
    main()
