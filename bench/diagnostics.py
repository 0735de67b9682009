"""What seeing costs: fastnn.diagnostics.diagnose per call, the Diagnostics callback's share of fit's
time, and lr_find, on the digits and on a larger synthetic problem (784 features, 10,000 samples).

    python bench/diagnostics.py [--json bench/results/diagnostics.json]
"""
import argparse
import os
import statistics
import time
import warnings

import numpy as np

import fastnn
from fastnn import diagnostics, nn, optim, training
from fastnn.benchmark import machine_info, write_json
from fastnn.demo import default_network


def data(kind):
    if kind == "digits":
        from sklearn.datasets import load_digits
        d = load_digits()
        return (d.data / 16).astype(np.float32), d.target.astype(np.int64)
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((10, 784)).astype(np.float32)
    y = rng.integers(0, 10, 10000)
    return (centers[y] * 0.5 + rng.standard_normal((10000, 784))).astype(np.float32), y


def fit_time(model_fn, X, y, epochs, callbacks):
    times = []
    for _ in range(3):
        fastnn.manual_seed(0)
        m = model_fn()
        opt = optim.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            h = fastnn.fit(m, X, y, loss="cross_entropy", optimizer=opt, epochs=epochs, batch_size=128, verbose=0,
                           callbacks=callbacks())
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(getattr(h, "diagnostics", []))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "diagnostics.json"))
    a = ap.parse_args(argv)
    info = machine_info()
    print(f"fastnn {info['fastnn']} | {info['cpu']} | {info['cores']} cores")
    rows = []
    for kind, width, epochs in (("digits", 64, 20), ("synthetic-784", 784, 5)):
        X, y = data(kind)
        build = lambda w=width: default_network(w, 10, hidden=(300, 100))  # noqa: E731
        fastnn.manual_seed(0)
        m = build()
        diagnostics.diagnose(m, X, y, loss=nn.CrossEntropyLoss(), batch_size=128)
        t0 = time.perf_counter()
        for _ in range(10):
            diagnostics.diagnose(m, X, y, loss=nn.CrossEntropyLoss(), batch_size=128)
        per_call = (time.perf_counter() - t0) / 10
        base, _ = fit_time(build, X, y, epochs, lambda: [])
        auto, n_auto = fit_time(build, X, y, epochs, lambda: [training.Diagnostics()])
        every, n_every = fit_time(build, X, y, epochs, lambda: [training.Diagnostics(every=1)])
        opt = optim.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True)
        t0 = time.perf_counter()
        fastnn.lr_find(m, X, y, loss="cross_entropy", optimizer=opt, num_iter=100, batch_size=128)
        lrf = time.perf_counter() - t0
        row = {"data": kind, "epochs": epochs, "diagnose_ms": per_call * 1e3, "fit_s": base,
               "auto_overhead": auto / base - 1, "auto_calls": n_auto, "every_epoch_overhead": every / base - 1,
               "lr_find_s": lrf}
        rows.append(row)
        print(f"{kind:14s} diagnose (128 samples) {row['diagnose_ms']:.2f} ms | fit {epochs} epochs {base:.2f} s; "
              f"Diagnostics(auto) +{100 * row['auto_overhead']:.1f}% ({n_auto} diagnoses), every epoch "
              f"+{100 * row['every_epoch_overhead']:.1f}% | lr_find 100 steps {lrf:.2f} s")
    write_json(a.json, {"machine": info, "rows": rows})


if __name__ == "__main__":
    main()
