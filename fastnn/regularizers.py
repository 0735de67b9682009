"""Weight penalties added to the loss: L1 (lambda sum abs(w)), L2 (lambda sum w^2) and the elastic net
(l1 sum abs(w) + l2 sum w^2; the course writes it sum(beta w^2 + abs(w))).

Attach one to a layer (``Linear(..., regularizer=L2(1e-4))`` or ``layer.regularizer = ...``: its
weights only, not biases) or to a parameter group (``{"params": ..., "regularizer": L1(1e-5)}``).
The optimizer applies the penalty's gradient inside its fused update -- L2: + 2 lambda w, L1:
+ lambda sign(w) -- with no extra pass; ``penalty(model)`` gives the value that fit adds to the
reported loss.

L2 vs weight_decay: ``L2(lam)`` adds lam * sum w^2 to the loss, so its gradient adds 2 lam w:
the same update as ``weight_decay = 2 lam`` for SGD and Adam (coupled decay), but not for AdamW,
whose decoupled decay shrinks the weights outside the adaptive scaling.
"""
import numpy as np

from . import ops


class Regularizer:
    """l1 * sum abs(w) + l2 * sum w^2."""

    def __init__(self, l1=0.0, l2=0.0):
        for name, v in (("l1", l1), ("l2", l2)):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not v >= 0:
                raise ValueError(f"{name}: expected a number >= 0, got {v!r}")
        self.l1, self.l2 = float(l1), float(l2)

    @property
    def grad_coefficients(self):
        """(l1, c2) for the fused update: gradient += l1 sign(w) + c2 w, c2 = 2 l2."""
        return self.l1, 2.0 * self.l2

    def __call__(self, w):
        w = w._a if hasattr(w, "_a") else w
        v = 0.0
        if self.l1:
            v += self.l1 * ops.norm_pow(w, 1.0)
        if self.l2:
            v += self.l2 * ops.norm_pow(w, 2.0)
        return v

    def __repr__(self):
        return f"{type(self).__name__}(l1={self.l1}, l2={self.l2})"


class L1(Regularizer):
    """lambda * sum abs(w) (drives weights to exactly zero: sparse models)."""

    def __init__(self, lam):
        super().__init__(l1=lam)

    def __repr__(self):
        return f"L1({self.l1})"


class L2(Regularizer):
    """lambda * sum w^2 (shrinks weights; 2 lambda as weight_decay)."""

    def __init__(self, lam):
        super().__init__(l2=lam)

    def __repr__(self):
        return f"L2({self.l2})"


class ElasticNet(Regularizer):
    """l1 * sum abs(w) + l2 * sum w^2."""

    def __init__(self, l1=0.01, l2=0.01):
        super().__init__(l1=l1, l2=l2)


def penalty(model_or_params):
    """Total penalty of every parameter that carries a regularizer (what fit adds to the loss)."""
    params = model_or_params.parameters() if hasattr(model_or_params, "parameters") else model_or_params
    return sum(p.regularizer(p._a) for p in params if getattr(p, "regularizer", None) is not None)
