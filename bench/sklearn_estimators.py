"""fastnn.sklearn.NeuralNetClassifier against scikit-learn's MLPClassifier, side by side, on the digits.

    python bench/sklearn_estimators.py [--seeds 3] [--json bench/results/sklearn.json]

Both get the same hidden layer sizes (128, 64), batch size 32 and 40 epochs (MLPClassifier's stopping
rule is switched off, n_iter_no_change=40, so both run every epoch); each with its own defaults
otherwise (fastnn: the chapter's default network -- He, ELU, batch norm, dropout, Nesterov;
scikit-learn: ReLU, Adam). Pixels / 16, an 80/20 split; seconds per fit and per epoch (medians of
interleaved runs), test accuracy (median over seeds).
"""
import argparse
import os
import statistics
import time
import warnings

import numpy as np

from fastnn.benchmark import machine_info, write_json


def main(argv=None):
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    from fastnn.sklearn import NeuralNetClassifier

    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "sklearn.json"))
    a = ap.parse_args(argv)
    info = machine_info()
    print(f"fastnn {info['fastnn']} | {info['cpu']} | {info['cores']} cores")
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split((X / 16).astype(np.float32), y, test_size=0.2, random_state=0)
    makers = {
        "fastnn": lambda s: NeuralNetClassifier(hidden_layer_sizes=(128, 64), batch_size=32, max_epochs=40,
                                                n_iter_no_change=40, random_state=s),
        "sklearn": lambda s: MLPClassifier(hidden_layer_sizes=(128, 64), batch_size=32, max_iter=40,
                                           n_iter_no_change=40, random_state=s),
    }
    times = {k: [] for k in makers}
    epochs = {k: [] for k in makers}
    accs = {k: [] for k in makers}
    for s in range(a.seeds):
        for k, make in makers.items():
            time.sleep(0.2)  # (BLAS threads of the other library spin down)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                t0 = time.perf_counter()
                m = make(s).fit(Xtr, ytr)
                times[k].append(time.perf_counter() - t0)
            epochs[k].append(m.n_iter_)
            accs[k].append(m.score(Xte, yte))
    rows = {}
    for k in makers:
        fit_s = statistics.median(times[k])
        ep = statistics.median(epochs[k])
        rows[k] = {"fit_s": fit_s, "epochs": ep, "s_per_epoch": fit_s / ep, "test_accuracy": statistics.median(accs[k]),
                   "accuracies": accs[k]}
        print(f"{k:8s} fit {fit_s:6.3f} s for {ep:.0f} epochs ({fit_s / ep * 1e3:6.2f} ms/epoch)  test accuracy "
              f"{rows[k]['test_accuracy']:.4f} ({min(accs[k]):.4f} .. {max(accs[k]):.4f})")
    speed = rows["sklearn"]["s_per_epoch"] / rows["fastnn"]["s_per_epoch"]
    print(f"fastnn is {speed:.1f}x faster per epoch (target >= 5x); test accuracy target >= 0.97: "
          f"{'PASS' if rows['fastnn']['test_accuracy'] >= 0.97 else 'MISS'}")
    write_json(a.json, {"machine": info, "rows": rows, "speedup_per_epoch": speed})


if __name__ == "__main__":
    main()
