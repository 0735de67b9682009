"""Learning-rate schedules with torch.optim.lr_scheduler's names and the same lr sequences.

Call ``scheduler.step()`` once per epoch (or per batch for OneCycleLR and warm-ups), after
``optimizer.step()``; ``ReduceLROnPlateau.step(metric)`` takes the validation metric. Senior et al.
2013 (as the course reports): exponential > performance-based > piecewise constant.
"""
import math
from .._checks import positive_int
from bisect import bisect_right

_INF = float("inf")


__all__ = [
    "LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "ExponentialDecay", "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts", "ConstantLR", "MultiplicativeLR", "PolynomialLR", "ChainedScheduler", "LinearLR",
    "SequentialLR", "OneCycleLR", "ReduceLROnPlateau"
]


class LRScheduler:
    """Base: sets group["initial_lr"], records base_lrs, and takes the initial step (last_epoch 0).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"optimizer: expected a fastnn optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"])
        else:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self.step()

    def get_lr(self):
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rates the last step() set, one per parameter group."""
        return list(self._last_lr)

    def step(self, epoch=None):
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = self._closed_form() if hasattr(self, "_closed_form") else self.get_lr()
        for g, lr in zip(self.optimizer.param_groups, values):
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def _lrs(self):
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas", "_schedulers")}

    def load_state_dict(self, state_dict):
        """Restore what state_dict() gave. Checked whole first (only this scheduler's own attributes, each
        of the kind it holds, values the constructor would accept); a refused state changes nothing."""
        self.__dict__.update(_checked_state(self, state_dict))

    def _check(self, st):
        """Hook: refuse settings the constructor refuses (st: the attributes after loading)."""


def _same_kind(cur, new):
    if cur is None or new is None:
        return True
    if isinstance(cur, bool) or isinstance(new, bool):
        return isinstance(cur, bool) and isinstance(new, bool)
    if isinstance(cur, (int, float)):
        return isinstance(new, (int, float)) and math.isfinite(new) if isinstance(new, float) else \
            isinstance(new, (int, float))
    if isinstance(cur, str):
        return isinstance(new, str)
    if isinstance(cur, (list, tuple)):
        return isinstance(new, (list, tuple)) and len(new) == len(cur) and all(
            _same_kind(a, b) for a, b in zip(cur, new)) or (isinstance(new, (list, tuple)) and not cur)
    if isinstance(cur, dict):
        return isinstance(new, dict)
    return type(cur) is type(new)


def _checked_state(sched, state_dict):
    if not isinstance(state_dict, dict):
        raise TypeError(f"state_dict: expected a dict, got {type(state_dict).__name__}")
    cur = sched.state_dict()
    unknown = sorted(set(state_dict) - set(cur))
    if unknown:
        raise ValueError(f"state_dict: unknown entries {unknown} for {type(sched).__name__}")
    bad = [k for k, v in state_dict.items() if not _same_kind(cur[k], v)]
    if bad:
        raise ValueError(f"state_dict: entries {bad} of {type(sched).__name__} have the wrong kind of value "
                         f"(expected like {[cur[k] for k in bad]})")
    st = dict(sched.__dict__)
    st.update(state_dict)
    sched._check(st)
    return state_dict


def _positive(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name}: expected a positive number, got {v!r}")
    return v


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(epoch) (one function, or one per group).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    lr_lambda : callable or list of callables
        f(epoch) -> a factor (one per parameter group, or one for all).
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        self.lr_lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(self.lr_lambdas) != n or not all(callable(f) for f in self.lr_lambdas):
            raise ValueError(f"lr_lambda: expected a callable or {n} callables")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [b * f(self.last_epoch) for f, b in zip(self.lr_lambdas, self.base_lrs)]


class StepLR(LRScheduler):
    """Piecewise constant: multiply by gamma every step_size epochs.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    step_size : int
        Epochs between two decays.
    gamma : float, default 0.1
        Multiplicative factor of the decay.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self._check({"step_size": step_size, "gamma": gamma})
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def _check(self, st):
        positive_int(st["step_size"], "step_size")
        _positive("gamma", st["gamma"])

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _closed_form(self):
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Piecewise constant: multiply by gamma at each milestone epoch.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    milestones : list of int
        Epochs at which the learning rate decays.
    gamma : float, default 0.1
        Multiplicative factor of the decay.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        ms = list(milestones)
        self._check({"milestones": ms, "gamma": gamma})
        self.milestones, self.gamma = ms, gamma
        super().__init__(optimizer, last_epoch)

    def _check(self, st):
        ms = list(st["milestones"])
        if ms != sorted(ms) or any(isinstance(m, bool) or not isinstance(m, int) for m in ms):
            raise ValueError(f"milestones: expected an increasing list of ints, got {ms}")
        _positive("gamma", st["gamma"])

    def get_lr(self):
        k = self.milestones.count(self.last_epoch)
        return [lr * self.gamma ** k for lr in self._lrs()]

    def _closed_form(self):
        return [b * self.gamma ** bisect_right(self.milestones, self.last_epoch) for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = initial_lr * gamma^epoch. The course's exponential schedule eta(t) = eta0 10^(-t/r)
    (a tenth every r steps) is ``ExponentialLR.from_decade(optimizer, r)`` (gamma = 10^(-1/r)).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    gamma : float
        Multiplicative factor of the decay.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        _positive("gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _check(self, st):
        _positive("gamma", st["gamma"])

    @classmethod
    def from_decade(cls, optimizer, r, last_epoch=-1):
        """eta(t) = eta0 * 10^(-t / r): the learning rate drops tenfold every r steps."""
        if not r > 0:
            raise ValueError(f"r: expected > 0, got {r!r}")
        return cls(optimizer, 10.0 ** (-1.0 / r), last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _closed_form(self):
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


class ExponentialDecay(ExponentialLR):
    """The course's exponential schedule: eta(t) = eta0 * 10^(-t / r).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    r : float
        Epochs (or steps) over which the learning rate falls tenfold.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, r, last_epoch=-1):
        if not r > 0:
            raise ValueError(f"r: expected > 0, got {r!r}")
        self.r = r
        super().__init__(optimizer, 10.0 ** (-1.0 / r), last_epoch)


class CosineAnnealingLR(LRScheduler):
    """Cosine from initial_lr down to eta_min over T_max epochs (PyTorch's recursive form).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    T_max : int
        Epochs of one half cosine period.
    eta_min : float, default 0.0
        The lowest learning rate.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def _check(self, st):
        _positive("T_max", st["T_max"])

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not T_max > 0:
            raise ValueError(f"T_max: expected > 0, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, T = self.last_epoch, self.T_max
        if e == 0:
            return self._lrs()
        if self._step_count == 1 and e > 0:
            return self._closed_form()
        if (e - 1 - T) % (2 * T) == 0:
            return [lr + (b - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, b in zip(self._lrs(), self.base_lrs)]
        return [(1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (lr - self.eta_min)
                + self.eta_min for lr in self._lrs()]

    def _closed_form(self):
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for b in self.base_lrs]


def _check_int(name, v, lo):
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter 2017): cosine from initial_lr down to eta_min over T_i epochs, then a
    restart; T_0 epochs for the first cycle, each next one T_mult times longer.
    lr = eta_min + (initial_lr - eta_min) (1 + cos(pi T_cur / T_i)) / 2. ``step(epoch)`` also takes a
    fractional epoch (``step(epoch + i / iters)`` per batch), as PyTorch's.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    T_0 : int
        Epochs until the first restart.
    T_mult : int, default 1
        Factor by which each period grows after a restart.
    eta_min : float, default 0.0
        The lowest learning rate.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        _check_int("T_0", T_0, 1)
        _check_int("T_mult", T_mult, 1)
        if isinstance(eta_min, bool) or not isinstance(eta_min, (int, float)):
            raise ValueError(f"eta_min: expected a number, got {eta_min!r}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for b in self.base_lrs]

    def step(self, epoch=None):
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if not epoch >= 0:
                raise ValueError(f"epoch: expected a non-negative number, got {epoch!r}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i, self.T_cur = self.T_0, epoch
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        for g, lr in zip(self.optimizer.param_groups, self.get_lr()):
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]


class ConstantLR(LRScheduler):
    """lr = initial_lr * factor for the first total_iters epochs, then initial_lr.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    factor : float, default 0.3333333333333333
        The learning rate is multiplied by it until total_iters.
    total_iters : int, default 5
        Steps over which the factor applies or changes.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 <= factor <= 1:
            raise ValueError(f"factor: expected a value in [0, 1], got {factor!r}")
        _check_int("total_iters", total_iters, 0)
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e = self.last_epoch
        if e == 0:
            return [lr * self.factor for lr in self._lrs()]
        if e != self.total_iters:
            return self._lrs()
        return [lr / self.factor for lr in self._lrs()]

    def _closed_form(self):
        return [b * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor)) for b in self.base_lrs]


class MultiplicativeLR(LRScheduler):
    """``lr = lr * lr_lambda(epoch)`` at each step (one function, or one per group).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    lr_lambda : callable or list of callables
        f(epoch) -> a factor (one per parameter group, or one for all).
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        self.lr_lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(self.lr_lambdas) != n or not all(callable(f) for f in self.lr_lambdas):
            raise ValueError(f"lr_lambda: expected a callable or {n} callables")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch > 0:
            return [lr * f(self.last_epoch) for f, lr in zip(self.lr_lambdas, self._lrs())]
        return self._lrs()


class PolynomialLR(LRScheduler):
    """lr = initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    total_iters : int, default 5
        Steps over which the factor applies or changes.
    power : float, default 1.0
        The polynomial's power.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        _check_int("total_iters", total_iters, 1)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, T = self.last_epoch, self.total_iters
        if e == 0 or e > T:
            return self._lrs()
        f = ((1.0 - e / T) / (1.0 - (e - 1) / T)) ** self.power
        return [lr * f for lr in self._lrs()]

    def _closed_form(self):
        return [b * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for b in self.base_lrs]


class ChainedScheduler(LRScheduler):
    """Step several schedulers of one optimizer together, each applying its change in turn.

    Parameters
    ----------
    schedulers : list of schedulers
        The schedulers combined.
    optimizer : Optimizer, default None
        The optimizer whose learning rate is scheduled.
    """

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("schedulers: expected at least one scheduler")
        optimizer = optimizer or schedulers[0].optimizer
        for s in schedulers:
            if s.optimizer is not optimizer:
                raise ValueError("schedulers: each must drive the same optimizer")
        self._schedulers, self.optimizer = schedulers, optimizer
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def step(self):
        for s in self._schedulers:
            s.step()
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        d = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        d["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return d

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        subs = state_dict.pop("_schedulers", None)
        if not isinstance(subs, list) or len(subs) != len(self._schedulers):
            raise ValueError(f"state_dict: expected {len(self._schedulers)} sub-scheduler states")
        mine = {k: v for k, v in self.state_dict().items() if k != "_schedulers"}
        unknown = sorted(set(state_dict) - set(mine))
        if unknown:
            raise ValueError(f"state_dict: unknown entries {unknown} for {type(self).__name__}")
        for s, sd in zip(self._schedulers, subs):
            _checked_state(s, sd)
        self.__dict__.update(state_dict)
        for s, sd in zip(self._schedulers, subs):
            s.load_state_dict(sd)


class LinearLR(LRScheduler):
    """Linear warm-up (or decay): the factor goes from start_factor to end_factor over total_iters.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    start_factor : float, default 0.3333333333333333
        Factor of the initial learning rate at the start.
    end_factor : float, default 1.0
        Factor of the initial learning rate at the end.
    total_iters : int, default 5
        Steps over which the factor applies or changes.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError("start_factor, end_factor: expected 0 < start_factor <= 1 and 0 <= end_factor <= 1")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e = self.last_epoch
        if e == 0:
            return [lr * self.start_factor for lr in self._lrs()]
        if e > self.total_iters:
            return self._lrs()
        f = 1.0 + (self.end_factor - self.start_factor) / (
            self.total_iters * self.start_factor + (e - 1) * (self.end_factor - self.start_factor))
        return [lr * f for lr in self._lrs()]

    def _closed_form(self):
        f = self.start_factor + (self.end_factor - self.start_factor) * min(self.total_iters, self.last_epoch) \
            / self.total_iters
        return [b * f for b in self.base_lrs]


class SequentialLR(LRScheduler):
    """Run schedulers one after another, switching at the milestone epochs (PyTorch's semantics).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    schedulers : list of schedulers
        The schedulers combined.
    milestones : list of int
        Epochs at which the next scheduler takes over.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1 or len(milestones) != len(schedulers) - 1:
            raise ValueError(f"milestones: expected {len(schedulers) - 1} milestones for {len(schedulers)} schedulers")
        for s in schedulers:
            if s.optimizer is not optimizer:
                raise ValueError("schedulers: each must drive the same optimizer as SequentialLR")
        self._schedulers, self._milestones = list(schedulers), list(milestones)
        self.optimizer = optimizer
        self.last_epoch = last_epoch + 1
        for g in optimizer.param_groups:
            g["lr"] = g["initial_lr"]
        for s in self._schedulers:
            s.last_epoch -= 1
        self._schedulers[0]._initial_step()
        self._last_lr = self._schedulers[0].get_last_lr()

    def step(self):
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        s = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            s.step(0)
        else:
            s.step()
        self._last_lr = s.get_last_lr()

    def state_dict(self):
        d = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        d["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return d

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        subs = state_dict.pop("_schedulers", None)
        if not isinstance(subs, list) or len(subs) != len(self._schedulers):
            raise ValueError(f"state_dict: expected {len(self._schedulers)} sub-scheduler states")
        mine = {k: v for k, v in self.state_dict().items() if k != "_schedulers"}
        unknown = sorted(set(state_dict) - set(mine))
        if unknown:
            raise ValueError(f"state_dict: unknown entries {unknown} for {type(self).__name__}")
        for s, sd in zip(self._schedulers, subs):
            _checked_state(s, sd)
        self.__dict__.update(state_dict)
        for s, sd in zip(self._schedulers, subs):
            s.load_state_dict(sd)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith 2018): warm up from max_lr/div_factor to max_lr over pct_start of
    total_steps, then anneal to max_lr/(div_factor*final_div_factor); momentum (or beta1) cycles the
    other way. Step it every batch (fit does: per_batch = True).

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    max_lr : float or list
        The peak learning rate.
    total_steps : int, optional
        Steps of the cycle (or epochs and steps_per_epoch).
    epochs : int, optional
        Epochs of the cycle (with steps_per_epoch).
    steps_per_epoch : int, optional
        Steps per epoch (with epochs).
    pct_start : float, default 0.3
        Share of the cycle spent increasing the learning rate.
    anneal_strategy : str, default 'cos'
        "cos" or "linear".
    cycle_momentum : bool, default True
        Cycle the momentum inversely to the learning rate.
    base_momentum : float, default 0.85
        Lowest momentum.
    max_momentum : float, default 0.95
        Highest momentum.
    div_factor : float, default 25.0
        Initial learning rate = max_lr / div_factor.
    final_div_factor : float, default 10000.0
        Final learning rate = initial / final_div_factor.
    three_phase : bool, default False
        A third phase annihilating the learning rate.
    last_epoch : int, default -1
        The index of the last epoch (-1: start afresh).
    """

    per_batch = True

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        if total_steps is None:
            if not epochs or not steps_per_epoch:
                raise ValueError("total_steps: give total_steps, or epochs and steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if total_steps <= 0:
            raise ValueError(f"total_steps: expected > 0, got {total_steps}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"pct_start: expected a value in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy: expected 'cos' or 'linear', got {anneal_strategy!r}")
        self.total_steps = total_steps
        self._anneal = self._cos if anneal_strategy == "cos" else self._linear
        n = len(optimizer.param_groups)
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * n
        if last_epoch == -1:
            for g, m in zip(optimizer.param_groups, max_lrs):
                g["initial_lr"] = m / div_factor
                g["max_lr"] = m
                g["min_lr"] = g["initial_lr"] / final_div_factor
        if three_phase:
            self._phases = [
                {"end_step": float(pct_start * total_steps) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * total_steps) - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": total_steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"}]
        else:
            self._phases = [
                {"end_step": float(pct_start * total_steps) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": total_steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"}]
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            d0 = optimizer.defaults
            if "momentum" not in d0 and "betas" not in d0:
                raise ValueError("cycle_momentum: the optimizer has neither momentum nor betas")
            self._use_beta1 = "betas" in d0
            bms = base_momentum if isinstance(base_momentum, (list, tuple)) else [base_momentum] * n
            mms = max_momentum if isinstance(max_momentum, (list, tuple)) else [max_momentum] * n
            if last_epoch == -1:
                for g, bm, mm in zip(optimizer.param_groups, bms, mms):
                    if self._use_beta1:
                        g["betas"] = (mm, *g["betas"][1:])
                    else:
                        g["momentum"] = mm
                    g["max_momentum"], g["base_momentum"] = mm, bm
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _cos(start, end, pct):
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)

    @staticmethod
    def _linear(start, end, pct):
        return (end - start) * pct + start

    def get_lr(self):
        lrs = []
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, more than total_steps = {self.total_steps}")
        for g in self.optimizer.param_groups:
            start_step = 0.0
            for i, ph in enumerate(self._phases):
                end_step = ph["end_step"]
                if step <= end_step or i == len(self._phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lr = self._anneal(g[ph["start_lr"]], g[ph["end_lr"]], pct)
                    if self.cycle_momentum:
                        mom = self._anneal(g[ph["start_momentum"]], g[ph["end_momentum"]], pct)
                    break
                start_step = ph["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                if self._use_beta1:
                    g["betas"] = (mom, *g["betas"][1:])
                else:
                    g["momentum"] = mom
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Performance scheduling: multiply the lr by factor when the monitored metric has not improved
    (by more than threshold, relative or absolute) for patience epochs; then wait cooldown epochs.
    ``step(metric)`` once per epoch with the validation metric.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose learning rate is scheduled.
    mode : str, default 'min'
        "min" (lower is better) or "max".
    factor : float, default 0.1
        The learning rate is multiplied by it at each reduction.
    patience : int, default 10
        Epochs without improvement before acting.
    threshold : float, default 0.0001
        The smallest change that counts as an improvement.
    threshold_mode : str, default 'rel'
        "rel" or "abs": how an improvement is measured against threshold.
    cooldown : int, default 0
        Epochs to wait after a reduction before counting again.
    min_lr : float or list, default 0
        The learning rate's floor.
    eps : float, default 1e-08
        A reduction smaller than this is skipped.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError(f"factor: expected < 1.0, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode: expected 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode: expected 'rel' or 'abs', got {threshold_mode!r}")
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"optimizer: expected a fastnn optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"min_lr: expected {n} values, got {len(min_lr)}")
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * n
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.eps = threshold, threshold_mode, cooldown, eps
        self.best = _INF if mode == "min" else -_INF
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics):
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for g, mn in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(g["lr"])
                new = max(old * self.factor, mn)
                if old - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self):
        return list(self._last_lr)

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(_checked_state(self, state_dict))

    def _check(self, st):
        if not st["factor"] < 1.0 or not st["factor"] >= 0:
            raise ValueError(f"factor: expected a value in [0, 1), got {st['factor']!r}")
        if st["mode"] not in ("min", "max") or st["threshold_mode"] not in ("rel", "abs"):
            raise ValueError("mode / threshold_mode: expected 'min'/'max' and 'rel'/'abs'")
