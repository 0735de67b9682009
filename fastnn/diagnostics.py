"""Seeing why training fails: per-layer statistics of one forward and backward pass, and the chapter's
diagnosis of them -- vanishing or exploding gradients, saturated sigmoids and tanhs, dead ReLUs, an
initialisation that lets the activations' scale drift -- each with the remedy the chapter gives.

    report = fastnn.diagnostics.diagnose(model, X, y, loss=nn.CrossEntropyLoss())
    print(report)             # a table per layer, then the findings
    report.problems           # [Finding(kind="vanishing", layers=[...], evidence="...", remedy="...")]
    report.plot("diag.png")

The model is left bitwise unchanged: parameters, gradients, buffers, training modes and the random
generators are restored afterwards.
"""
import math
from dataclasses import dataclass, field

import numpy as np

from . import nn
from ._state import restore, snapshot
from .autograd import enable_grad
from .tensor import Tensor, _wrap

__all__ = ["diagnose", "Report", "Finding", "REMEDIES"]

# (threshold values: the chapter's symptoms made measurable; chosen on the tests' reference networks)
SATURATION_MARGIN = 0.02      # sigmoid within 2 % of 0 or 1, tanh within 2 % of +-1
SATURATED_FRACTION = 0.5      # a layer is "saturated" when half its outputs sit at a bound
DEAD_FRACTION = 0.5           # a layer is "dead" when half its units never activate on the batch
VANISHING_RATIO = 1e-3        # the lowest layer's gradient norm / the top layer's
EXPLODING_RATIO = 1e3
DRIFT_FACTOR = 10.0           # activation std of the last hidden layer vs the first (either way)

REMEDIES = {
    "vanishing": "the lower layers barely learn: use He initialization with ReLU/ELU (Xavier/Glorot with "
                 "tanh or sigmoid), a non-saturating activation (ELU, LeakyReLU, SELU), or batch normalization",
    "exploding": "gradients grow toward the lower layers: clip them (fit(clip_grad_norm=1.0) or "
                 "nn.utils.clip_grad_norm_), lower the learning rate, add batch normalization, check the "
                 "initialization scale",
    "saturated": "sigmoid/tanh outputs sit at their bounds, where the gradient is ~0: use Xavier/Glorot "
                 "initialization (not N(0, 1)), normalize the inputs, add batch normalization, or switch to "
                 "ReLU/ELU",
    "dead": "ReLU units output 0 for every input and never recover: use LeakyReLU/ELU/SELU, He "
            "initialization, a lower learning rate, and check that biases are not strongly negative",
    "bad_init": "the activations' scale drifts layer by layer: match the initialization to the activation "
                "(He for ReLU/ELU, Xavier for tanh/sigmoid, LeCun for SELU) or use fastnn.nn.init.lsuv_",
}

_SATURATING = (nn.Sigmoid, nn.Tanh)
_RECTIFIERS = (nn.ReLU, nn.ReLU6)
_TRAINABLE = (nn.Linear, nn.Conv1d, nn.Conv2d)


@dataclass
class Finding:
    kind: str                 # "vanishing" | "exploding" | "saturated" | "dead" | "bad_init"
    layers: list              # the layers' names
    evidence: str
    remedy: str

    def __str__(self):
        return f"{self.kind}: {', '.join(self.layers)} -- {self.evidence}. Remedy: {self.remedy}."


@dataclass
class Report:
    layers: list = field(default_factory=list)     # one dict per layer, in forward order
    problems: list = field(default_factory=list)   # Findings
    loss: float = float("nan")

    def __str__(self):
        cols = [("layer", 22, "s"), ("kind", 11, "s"), ("act mean", 9, ".3g"), ("act std", 9, ".3g"),
                ("saturated", 9, ".0%"), ("dead", 6, ".0%"), ("|grad W|", 9, ".2e"), ("ratio", 8, ".2e"),
                ("|grad out|", 10, ".2e"), ("|W|", 8, ".3g"), ("upd/W", 8, ".2e")]
        keys = ["name", "kind", "act_mean", "act_std", "saturated", "dead", "grad_norm", "grad_ratio",
                "out_grad_norm", "weight_norm", "update_ratio"]

        def fmt(v, w, f):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return "-".rjust(w)
            return f"{v:{w}{f}}" if f != "s" else f"{str(v)[:w]:<{w}}"
        lines = [" ".join(f"{c:<{w}}" if f == "s" else f"{c:>{w}}" for c, w, f in cols)]
        for row in self.layers:
            lines.append(" ".join(fmt(row.get(k), w, f) for k, (c, w, f) in zip(keys, cols)))
        lines.append(f"loss {self.loss:.4g}" if not math.isnan(self.loss) else "(no loss: activations only)")
        if self.problems:
            lines += ["problems:"] + [f"  - {p}" for p in self.problems]
        else:
            lines.append("no problems found")
        return "\n".join(lines)

    def kinds(self):
        return sorted({p.kind for p in self.problems})

    def plot(self, path):
        """Per-layer bars: activation std, saturated / dead fractions, gradient norm (log scale)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = [r["name"] for r in self.layers]
        fig, ax = plt.subplots(1, 3, figsize=(14, 4))
        x = np.arange(len(names))
        ax[0].bar(x, [r["act_std"] for r in self.layers])
        ax[0].set_title("activation std")
        ax[1].bar(x - 0.2, [r.get("saturated") or 0 for r in self.layers], 0.4, label="saturated")
        ax[1].bar(x + 0.2, [r.get("dead") or 0 for r in self.layers], 0.4, label="dead")
        ax[1].set_title("fraction saturated / dead")
        ax[1].legend()
        g = [r.get("grad_norm") for r in self.layers]
        ax[2].bar(x, [v if v else np.nan for v in g])
        ax[2].set_yscale("log")
        ax[2].set_title("|grad W| per layer")
        for a in ax:
            a.set_xticks(x)
            a.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
        kinds = ", ".join(self.kinds()) or "none"
        fig.suptitle(f"diagnosis: {kinds}")
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        return path


def _leaf_layers(model):
    out = []
    for name, m in model.named_modules():
        if m is model and list(model.children()):
            continue
        if not list(m.children()):
            out.append((name or type(m).__name__, m))
    return out


def _norm(a):
    return float(np.sqrt(np.sum(np.square(np.asarray(a, np.float64)))))


def _stats(model, X, y, loss):
    """One forward (and backward) pass on tensors, every leaf layer's output captured."""
    layers = _leaf_layers(model)
    outs = {}

    def hook_for(name):
        def hook(mod, inputs, output):
            if isinstance(output, Tensor):
                if output.requires_grad:
                    output.retain_grad()
                outs[name] = output
        return hook
    handles = [m.register_forward_hook(hook_for(name)) for name, m in layers]
    try:
        x = _wrap(np.asarray(X))
        with enable_grad():
            out = model(x)
            lval = float("nan")
            if loss is not None and y is not None:
                model.zero_grad()
                lt = loss(out, _wrap(np.asarray(y)))
                lt.backward()
                lval = float(lt.item())
    finally:
        for h in handles:
            h.remove()
    rows = []
    for name, m in layers:
        if name not in outs:
            continue
        o = outs[name]
        a = o.detach().numpy().astype(np.float64)
        row = {"name": name, "kind": type(m).__name__, "module": m, "act_mean": float(a.mean()),
               "act_std": float(a.std()), "saturated": None, "dead": None, "grad_norm": None,
               "out_grad_norm": None, "weight_norm": None, "grad_ratio": None, "update_ratio": None}
        if isinstance(m, nn.Sigmoid):
            row["saturated"] = float(np.mean((a < SATURATION_MARGIN) | (a > 1 - SATURATION_MARGIN)))
        elif isinstance(m, nn.Tanh):
            row["saturated"] = float(np.mean(np.abs(a) > 1 - 2 * SATURATION_MARGIN))
        elif isinstance(m, _RECTIFIERS):
            units = a.reshape(a.shape[0], a.shape[1], -1).max(axis=2) if a.ndim > 2 else a
            row["dead"] = float(np.mean(units.max(axis=0) <= 0))
        if o.grad is not None:
            row["out_grad_norm"] = _norm(o.grad.numpy())
        w = getattr(m, "weight", None)
        if isinstance(m, _TRAINABLE) and w is not None:
            row["weight_norm"] = _norm(w.detach().numpy())
            if w.requires_grad and w.grad is not None and not math.isnan(lval):
                row["grad_norm"] = _norm(w.grad.numpy())
        rows.append(row)
    return rows, lval


def _findings(rows, has_grads):
    found = []
    sat = [r for r in rows if r["saturated"] is not None and r["saturated"] >= SATURATED_FRACTION]
    if sat:
        found.append(Finding("saturated", [r["name"] for r in sat], "fraction of outputs at a bound: " +
                             ", ".join(f"{r['name']} {r['saturated']:.0%}" for r in sat), REMEDIES["saturated"]))
    dead = [r for r in rows if r["dead"] is not None and r["dead"] >= DEAD_FRACTION]
    if dead:
        found.append(Finding("dead", [r["name"] for r in dead], "units never active on the batch: " +
                             ", ".join(f"{r['name']} {r['dead']:.0%}" for r in dead), REMEDIES["dead"]))
    grads = [r for r in rows if r["grad_norm"] is not None]
    outg = [r for r in rows if r["out_grad_norm"] is not None]
    if has_grads and len(grads) >= 2 and grads[-1]["grad_norm"] > 0:
        top = grads[-1]["grad_norm"]
        for r in grads:
            r["grad_ratio"] = r["grad_norm"] / top
        # the output gradients carry the explosion (a weight's gradient multiplies a shrinking backward
        # signal with a growing forward one); either measure can carry a vanishing signal
        out_ratio = outg[0]["out_grad_norm"] / outg[-1]["out_grad_norm"] \
            if len(outg) >= 2 and outg[-1]["out_grad_norm"] > 0 else 1.0
        bad = [r for r in grads if not np.isfinite(r["grad_norm"])]
        low = grads[0]["grad_ratio"]
        if bad or low > EXPLODING_RATIO or out_ratio > EXPLODING_RATIO:
            who = bad or [r for r in grads if r["grad_ratio"] > EXPLODING_RATIO] or \
                [r for r in outg if r["out_grad_norm"] > EXPLODING_RATIO * outg[-1]["out_grad_norm"]]
            ev = "non-finite gradients" if bad else (f"the lowest layer's output gradient is {out_ratio:.3g}x the top "
                                                     f"layer's (weight gradients: {low:.3g}x)")
            found.append(Finding("exploding", [r["name"] for r in who], ev, REMEDIES["exploding"]))
        elif low < VANISHING_RATIO:
            who = [r for r in grads if r["grad_ratio"] < VANISHING_RATIO]
            found.append(Finding("vanishing", [r["name"] for r in who],
                                 f"the lowest layer's gradient is {low:.2e} of the top layer's", REMEDIES["vanishing"]))
    # drift: the std of the hidden activations (outputs of activation layers), first vs last
    hidden = [r for r in rows if isinstance(r["module"], (nn.Sigmoid, nn.Tanh, nn.ReLU, nn.ReLU6, nn.ELU, nn.LeakyReLU,
                                                          nn.SELU, nn.GELU, nn.SiLU, nn.Softplus, nn.PReLU, nn.Mish))]
    if len(hidden) >= 3:
        s0, s1 = hidden[0]["act_std"], hidden[-1]["act_std"]
        if s0 > 0 and (s1 / s0 > DRIFT_FACTOR or s1 / s0 < 1 / DRIFT_FACTOR) and not sat and not dead:
            found.append(Finding("bad_init", [hidden[0]["name"], hidden[-1]["name"]],
                                 f"activation std goes from {s0:.3g} ({hidden[0]['name']}) to {s1:.3g} "
                                 f"({hidden[-1]['name']}) across {len(hidden)} layers", REMEDIES["bad_init"]))
    return found


def diagnose(model, X, y=None, *, loss=None, batch_size=256, optimizer=None):
    """Why a network fails to train: per-layer statistics on one batch, and the problems they show.

    The first `batch_size` samples of X go through the model in training mode (batch norm on batch
    statistics, dropout active). The model, its gradients, the optimizer and the random generators are
    left exactly as they were.

    Parameters
    ----------
    model : fastnn.nn.Module
    X : array_like or Tensor
    y : array_like or Tensor, optional
        Targets: with a loss, gradients are measured too.
    loss : Module or {"cross_entropy", "mse"}, optional
    batch_size : int, default 256
        At least 2.
    optimizer : fastnn.optim.Optimizer, optional
        Measures the update-to-weight ratio of one step (the step is undone).

    Returns
    -------
    Report
        ``report.layers``: per layer, activation mean/std, the fraction of sigmoid/tanh outputs within 2 %
        of a bound ("saturated"), the fraction of ReLU units never active ("dead"), the gradient norm of
        its weights and of its output, its weight gradient relative to the top layer's, the weight norm,
        the update ratio. ``report.problems``: Findings of kind "vanishing", "exploding", "saturated",
        "dead" or "bad_init", each naming the layers, the evidence and the chapter's remedy.
        ``print(report)`` is a table; ``report.plot(path)`` draws it.

    Examples
    --------
    >>> report = fastnn.diagnostics.diagnose(model, X, y, loss=nn.CrossEntropyLoss())
    >>> [p.kind for p in report.problems]
    ['saturated']
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 2:
        raise ValueError(f"batch_size: expected an int >= 2, got {batch_size!r}")
    if loss is not None and y is None:
        raise ValueError("y: a loss needs targets")
    if isinstance(loss, str):
        named = {"cross_entropy": nn.CrossEntropyLoss, "mse": nn.MSELoss}
        if loss not in named:
            raise ValueError(f"loss: expected a loss module or one of {sorted(named)}, got {loss!r}")
        loss = named[loss]()
    X = np.asarray(X.numpy() if isinstance(X, Tensor) else X)
    if len(X) < 2:
        raise ValueError(f"X: expected at least 2 samples, got {len(X)}")
    Xb = X[:batch_size]
    yb = None if y is None else np.asarray(y.numpy() if isinstance(y, Tensor) else y)[:batch_size]
    snap = snapshot(model, optimizer, full=True)
    try:
        model.train()
        rows, lval = _stats(model, Xb, yb, loss)
        if optimizer is not None and lval == lval:
            before = {id(r["module"].weight): r["module"].weight.detach().numpy().copy() for r in rows
                      if r["grad_norm"] is not None}
            optimizer.step()
            for r in rows:
                if r["grad_norm"] is not None:
                    w = r["module"].weight.detach().numpy()
                    d = _norm(w - before[id(r["module"].weight)])
                    r["update_ratio"] = d / r["weight_norm"] if r["weight_norm"] else float("nan")
        problems = _findings(rows, lval == lval)
    finally:
        restore(model, optimizer, snap)
    for r in rows:
        r.pop("module", None)
    return Report(rows, problems, lval)
