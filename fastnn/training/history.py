"""History: what fit records per epoch."""
import csv
import os


class History:
    """Per-epoch records: loss, metrics, val_loss, val metrics, lr, seconds, samples_per_sec and the
    generalization gap (validation error - training error, the course's definition; error is
    1 - accuracy when accuracy is tracked, else the loss). ``history["val_loss"]`` gives a column."""

    def __init__(self):
        self.epochs = []
        self.stopped_early = False
        self.interrupted = False
        self.terminated_on_nan = False

    def append(self, logs):
        self.epochs.append(dict(logs))

    def __len__(self):
        return len(self.epochs)

    def __getitem__(self, key):
        return [e.get(key) for e in self.epochs]

    def keys(self):
        ks = []
        for e in self.epochs:
            ks += [k for k in e if k not in ks]
        return ks

    def to_dict(self):
        return {k: self[k] for k in self.keys()}

    def to_csv(self, path):
        keys = self.keys()
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(keys)
            for e in self.epochs:
                w.writerow(["" if e.get(k) is None else e.get(k) for k in keys])
        return path

    def plot(self, path):
        """Learning curves (loss, accuracy) and the generalization gap, as a PNG (needs matplotlib:
        pip install 'fastnn-cpu[demo]')."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("History.plot needs matplotlib: pip install matplotlib "
                              "(or pip install 'fastnn-cpu[demo]')") from None
        ep = self["epoch"]
        panels = [("loss", ["loss", "val_loss"])]
        if any(v is not None for v in self["accuracy"]):
            panels.append(("accuracy", ["accuracy", "val_accuracy"]))
        if any(v is not None for v in self["gap"]):
            panels.append(("generalization gap (val - train error)", ["gap"]))
        fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8))
        axes = axes if len(panels) > 1 else [axes]
        for ax, (title, keys) in zip(axes, panels):
            for k in keys:
                vals = self[k]
                if any(v is not None for v in vals):
                    ax.plot(ep, [float("nan") if v is None else v for v in vals], marker=".", label=k)
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path

    def __repr__(self):
        last = self.epochs[-1] if self.epochs else {}
        return f"History({len(self)} epochs, last={ {k: v for k, v in last.items() if v is not None} })"
