"""fastnn.pretrain.RBM against scikit-learn's BernoulliRBM, side by side, on the digits scaled to [0, 1].

    python bench/pretrain.py [--seeds 5] [--json bench/results/pretrain.json]

* seconds per pass (epoch) of fit with scikit-learn's settings (256 hidden units, learning rate 0.1,
  10 passes) at batch 10 and 100, in float64 (scikit-learn's default) and float32 (both keep float32);
  fastnn's time includes its per-pass monitoring (reconstruction error, free energies);
* quality after those 10 passes, median of `seeds` random states: the mean pseudo-likelihood
  (scikit-learn's score_samples on the whole data) and the mean squared reconstruction error;
* scikit-learn's example pipeline (100 RBM features -> LogisticRegression(C=6000)) accuracy, 80/20 split.
"""
import argparse
import os
import time

import numpy as np

from fastnn.benchmark import machine_info, time_side_by_side, write_json
from fastnn.pretrain import RBM


def recon_error(rbm, X):
    h = 1 / (1 + np.exp(-(X @ rbm.components_.T + rbm.intercept_hidden_)))
    v = 1 / (1 + np.exp(-(h @ rbm.components_ + rbm.intercept_visible_)))
    return float(np.mean((X - v) ** 2))


def main(argv=None):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import BernoulliRBM
    from sklearn.pipeline import Pipeline

    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results", "pretrain.json"))
    a = ap.parse_args(argv)
    info = machine_info()
    print(f"fastnn {info['fastnn']} | {info['cpu']} | {info['cores']} cores")
    d = load_digits()
    X, y = d.data / 16.0, d.target
    out = {"machine": info, "speed": [], "quality": [], "pipeline": {}}
    print(f"\n{'batch':>5s} {'dtype':>8s} {'fastnn s/pass':>14s} {'sklearn s/pass':>15s} {'speedup':>8s}")
    for bs in (10, 100):
        for dt in (np.float64, np.float32):
            Xd = X.astype(dt)
            r = time_side_by_side({"fastnn": lambda: RBM(batch_size=bs, n_iter=5, random_state=0).fit(Xd),
                                   "sklearn": lambda: BernoulliRBM(batch_size=bs, n_iter=5, random_state=0).fit(Xd)},
                                  reps=6, block=3, skip=1, settle=0.3)
            row = {"batch": bs, "dtype": np.dtype(dt).name, "fastnn_s": r["fastnn"] / 5, "sklearn_s": r["sklearn"] / 5,
                   "speedup": r["sklearn"] / r["fastnn"]}
            out["speed"].append(row)
            print(f"{bs:5d} {row['dtype']:>8s} {row['fastnn_s']:14.4f} {row['sklearn_s']:15.4f} {row['speedup']:8.2f}",
                  flush=True)
    print("\nafter 10 passes (batch 10, float64), median of", a.seeds, "seeds:")
    for name, cls in (("fastnn", RBM), ("sklearn", BernoulliRBM)):
        pl, rec, secs = [], [], []
        for s in range(a.seeds):
            t0 = time.perf_counter()
            m = cls(random_state=s).fit(X)
            secs.append(time.perf_counter() - t0)
            pl.append(float(m.score_samples(X).mean()))
            rec.append(recon_error(m, X))
        row = {"engine": name, "pseudo_likelihood": float(np.median(pl)), "pl_spread": [min(pl), max(pl)],
               "reconstruction_error": float(np.median(rec)), "rec_spread": [min(rec), max(rec)],
               "fit_s": float(np.median(secs))}
        out["quality"].append(row)
        print(f"  {name:8s} pseudo-likelihood {row['pseudo_likelihood']:8.3f} ({min(pl):.2f} .. {max(pl):.2f})  "
              f"reconstruction error {row['reconstruction_error']:.5f} ({min(rec):.5f} .. {max(rec):.5f})  "
              f"fit {row['fit_s']:.2f} s")
    idx = np.random.default_rng(0).permutation(len(X))
    tr, te = idx[:int(0.8 * len(X))], idx[int(0.8 * len(X)):]
    for name, cls in (("fastnn", RBM), ("sklearn", BernoulliRBM)):
        accs = [Pipeline([("rbm", cls(n_components=100, learning_rate=0.06, n_iter=10, random_state=s)),
                          ("logistic", LogisticRegression(C=6000, max_iter=3000))]
                         ).fit(X[tr], y[tr]).score(X[te], y[te])
                for s in range(a.seeds)]
        out["pipeline"][name] = {"median": float(np.median(accs)), "all": accs}
        print(f"pipeline RBM -> logistic regression ({name}): {np.median(accs):.4f} (median; {min(accs):.4f} .. "
              f"{max(accs):.4f})")
    write_json(a.json, out)


if __name__ == "__main__":
    main()
