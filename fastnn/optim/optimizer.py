"""Optimizers with torch.optim's names, arguments and update formulas, on fused kernels.

All parameters an optimizer drives live in one arena (fastnn.nn.parameter); ``step()`` makes one
fused kernel call per maximal contiguous run of parameters that share a group, an effective weight
decay, a penalty and a step count -- for a plain model, one call for the whole model. Frozen
parameters (``requires_grad=False``) are skipped and do not advance their step count.
"""
import copy
import math

import numpy as np

from .. import ops
from ..nn.module import Module
from ..nn.parameter import Parameter, generation, in_arena, pack
from ..tensor import Tensor, _bump

_NO_DECAY_KINDS = ("bias", "norm")


def _check_nonneg(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not v >= 0 or math.isnan(v):
        raise ValueError(f"{name}: expected a number >= 0, got {v!r}")


def _check_beta(name, v):
    if not isinstance(v, (int, float, np.floating)) or not 0.0 <= v < 1.0:
        raise ValueError(f"{name}: expected a value in [0, 1), got {v!r}")


class Optimizer:
    """Base class: ``param_groups`` (a list of dicts: "params" plus the hyperparameters),
    ``add_param_group``, ``zero_grad()``, ``step()``, ``state_dict()`` / ``load_state_dict()``.

    params: a Module, an iterable of Parameters (or leaf tensors that require grad, as PyTorch), or an
    iterable of dicts (parameter groups with their own lr, weight_decay, regularizer, ...).
    no_decay_bias=True exempts biases and batch-norm / PReLU parameters from weight decay.

    Parameters live in their model's arena and are updated by one fused kernel call per contiguous run;
    if a parameter moves (its layer was put into another model, the model was converted with
    .to(dtype)), the optimizer notices and follows it, state included. Plain leaf tensors are updated one
    by one and skipped while their .grad is None, as PyTorch. Every call checks all of its input before
    it changes anything: a refused step() or load_state_dict() leaves parameters and state untouched.

    Parameters
    ----------
    params : iterable of Parameter or dicts, or a Module
        What to optimize: parameters, parameter groups (dicts with their own options), or a model.
    defaults : dict
        The default options of every parameter group.
    no_decay_bias : bool, default False
        Exempt biases and norm parameters from weight decay.
    """

    _state_names = ()  # per-element state arrays, e.g. ("exp_avg", "exp_avg_sq")

    def __init__(self, params, defaults, no_decay_bias=False):
        self.defaults = dict(defaults)
        self.no_decay_bias = bool(no_decay_bias)
        self.param_groups = []
        self._params = []
        self._steps = {}
        self._range = None
        self._state = {}
        self._state_buf = {}
        self._loose_state = {}
        self._plan = None
        self._plan_key = None
        self._gen = -1
        self._checked = []
        if isinstance(params, Module):
            params = params.parameters()
        elif isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got a single tensor")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for g in groups:
            self.add_param_group(g)

    # ---- copies and pickles: state travels by parameter position (ids do not survive a copy) ----
    def __getstate__(self):
        return {"defaults": self.defaults, "no_decay_bias": self.no_decay_bias,
                "groups": [dict(g) for g in self.param_groups], "state": self.state_dict()}

    def __setstate__(self, st):
        Optimizer.__init__(self, st["groups"], st["defaults"], st["no_decay_bias"])
        self.load_state_dict(st["state"])

    # ---- groups ----
    def _validate(self, group):
        _check_nonneg("lr", group["lr"])
        if "weight_decay" in group:
            _check_nonneg("weight_decay", group["weight_decay"])
        reg = group.get("regularizer")
        if reg is not None and not hasattr(reg, "grad_coefficients"):
            raise TypeError(f"regularizer: expected a fastnn.regularizers penalty, got {type(reg).__name__}")

    def add_param_group(self, param_group):
        """Add a group (checked whole first: on error nothing changes)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group: expected a dict, got {type(param_group).__name__}")
        g = dict(param_group)
        ps = g.get("params")
        if isinstance(ps, Tensor):
            ps = [ps]
        elif isinstance(ps, Module):
            ps = list(ps.parameters())
        ps = list(ps) if ps is not None else []
        if not ps:
            raise ValueError("params: a parameter group needs at least one parameter")
        for p in ps:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not isinstance(p, Parameter):
                if p._node is not None:
                    raise ValueError("can't optimize a non-leaf Tensor")
                if p._a.dtype not in (np.float32, np.float64):
                    raise TypeError(f"params: expected float32 or float64 tensors, got {p._a.dtype}")
        ids = [id(p) for p in ps]
        known = {id(p) for p in self._params}
        if len(set(ids)) != len(ids) or known & set(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        unknown = set(g) - set(self.defaults) - {"params", "regularizer", "initial_lr"}
        if unknown:
            raise ValueError(f"param_group: unknown option(s) {sorted(unknown)} for {type(self).__name__}")
        arena_dtypes = {p._a.dtype for p in self._params + ps if isinstance(p, Parameter)}
        if len(arena_dtypes) > 1:
            raise TypeError(f"params: one optimizer drives parameters of one dtype, got "
                            f"{sorted(map(str, arena_dtypes))} (convert the model with .to(dtype))")
        for k, v in self.defaults.items():
            g.setdefault(k, v)
        g.setdefault("regularizer", None)
        g["params"] = ps
        self._validate(g)
        self.param_groups.append(g)
        self._params.extend(ps)
        for p in ps:
            self._steps[id(p)] = 0
        self._rebind()

    # ---- storage: the parameters' arena and a state arena of the same layout per state name ----
    def _arena_params(self):
        return [p for p in self._params if isinstance(p, Parameter)]

    def _rebind(self):
        old = self._state
        ap = self._arena_params()
        self._range = pack(ap) if ap else None
        new_buf = {}
        if self._range is not None:
            arena = self._range.arena
            for name in self._state_names:
                buf = np.zeros_like(arena.data)
                for p in ap:  # carry each parameter's state over (a repacked model)
                    src = old.get(name, {}).get(id(p))
                    if src is not None:
                        buf[p._offset:p._offset + p._a.size] = src.reshape(-1)
                new_buf[name] = buf
        self._state_buf = new_buf
        self._state = {name: {} for name in self._state_names}
        for name in self._state_names:
            for p in self._params:
                if isinstance(p, Parameter):
                    b = new_buf[name]
                    self._state[name][id(p)] = b[p._offset:p._offset + p._a.size].reshape(p._a.shape)
                else:
                    src = old.get(name, {}).get(id(p))
                    self._state[name][id(p)] = src if src is not None else np.zeros_like(p._a)
        self._init_state()
        self._plan = None
        self._gen = generation()

    def _init_state(self):
        """Hook: initial values of state arrays (Adagrad's initial accumulator)."""

    def _follow(self):
        """Rebind when any parameter moved since the last look (checked only when some arena changed)."""
        if self._gen == generation():
            return
        r = self._range
        if r is not None and any(p._arena is not r.arena or not in_arena(p) for p in r.params):
            self._rebind()
        elif r is None and self._arena_params():
            self._rebind()
        self._gen = generation()

    def _group_of(self):
        return {id(p): gi for gi, g in enumerate(self.param_groups) for p in g["params"]}

    def _coefficients(self, g, p):
        """(coupled weight decay, decoupled weight decay, l1) for parameter p in group g."""
        wd = g.get("weight_decay", 0.0)
        kind = getattr(p, "kind", "weight")
        if self.no_decay_bias and kind in _NO_DECAY_KINDS:
            wd = 0.0
        preg = getattr(p, "regularizer", None)
        reg = preg if preg is not None else (g["regularizer"] if kind == "weight" else None)
        l1, l2c = reg.grad_coefficients if reg is not None else (0.0, 0.0)
        if self._decoupled(g):
            return l2c, wd, l1
        return wd + l2c, 0.0, l1

    def _decoupled(self, g):
        return False

    def _make_plan(self):
        runs = self._runs()
        arena = self._range.arena if self._range is not None else None
        for r in runs:  # the run's arrays, sliced once per plan rather than every step
            if "loose" in r:
                continue
            lo, hi = r["lo"], r["hi"]
            r["views"] = (arena.data[lo:hi], arena.grad[lo:hi], {n: b[lo:hi] for n, b in self._state_buf.items()})
        return runs

    def _runs(self):
        gof = self._group_of()
        runs = []
        for p in sorted(self._arena_params(), key=lambda q: q._offset):
            if not p.requires_grad:
                continue
            gi = gof[id(p)]
            key = (gi, self._coefficients(self.param_groups[gi], p), self._steps[id(p)])
            if runs and runs[-1]["key"] == key and runs[-1]["hi"] == p._offset:
                runs[-1]["hi"] += p._a.size
                runs[-1]["params"].append(p)
            else:
                runs.append({"key": key, "lo": p._offset, "hi": p._offset + p._a.size, "params": [p]})
        for p in self._params:
            if not isinstance(p, Parameter) and p.requires_grad:
                gi = gof[id(p)]
                runs.append({"key": (gi, self._coefficients(self.param_groups[gi], p), self._steps[id(p)]),
                             "params": [p], "loose": p})
        return runs

    def _check_groups(self):
        """Validate every group whose settings changed since it was last checked (a scheduler or the
        user may have edited them): a bad value refuses the whole step before any update."""
        checked = self._checked
        if len(checked) != len(self.param_groups):
            checked[:] = [None] * len(self.param_groups)
        for i, g in enumerate(self.param_groups):
            sig = tuple([v for k, v in g.items() if k != "params"])
            if checked[i] != sig:
                self._validate(g)
                checked[i] = sig

    # ---- the public API ----
    def zero_grad(self, set_to_none=True):
        """Zero the gradients (one fill over the arena range). Plain tensors get .grad = None
        (set_to_none=True, PyTorch's default) or zeros."""
        self._follow()
        r = self._range
        if r is not None:
            r.arena.grad[r.lo:r.hi] = 0
        for p in self._params:
            if not isinstance(p, Parameter) and p._grad is not None:
                if set_to_none:
                    p._grad = None
                else:
                    p._grad._a[...] = 0

    def step(self, closure=None):
        """One update of every trainable parameter. closure: re-evaluates the model and returns the
        loss (PyTorch's convention); its value is returned."""
        loss = None
        if closure is not None:
            from ..autograd import enable_grad

            with enable_grad():
                loss = closure()
        self._check_groups()
        self._follow()
        # what the run layout depends on; rebuilt (cheaply) when any of it changes
        key = (tuple([(p.requires_grad, getattr(p, "regularizer", None)) for p in self._params]),
               tuple([(g.get("weight_decay"), g["regularizer"]) for g in self.param_groups]))
        if self._plan is None or self._plan_key != key:
            self._plan, self._plan_key = self._make_plan(), key
        for run in self._plan:
            gi, (cwd, dwd, l1), step = run["key"]
            t = run.get("loose")
            if t is not None:
                if t._grad is None:
                    continue
                grad = np.ascontiguousarray(t._grad._a, t._a.dtype)
                views = (t._a, grad, {n: self._state[n][id(t)] for n in self._state_names})
            else:
                views = run["views"]
            step += 1
            run["key"] = (gi, (cwd, dwd, l1), step)
            data, grad, state = views
            self._update(self.param_groups[gi], data, grad, state, step, cwd, dwd, l1, run)
            for p in run["params"]:
                self._steps[id(p)] = step
            if run["params"]:  # the parameters changed in place: graphs that read them must not backward
                _bump(run["params"][0])
                for p in run["params"][1:]:
                    if p._ver is not run["params"][0]._ver:
                        _bump(p)
        return loss

    def _update(self, group, p, g, state, step, cwd, dwd, l1, run):
        raise NotImplementedError

    # ---- exact snapshots (fit's recovery from a non-finite step) ----
    def _snapshot(self):
        return ({k: v.copy() for k, v in self._state_buf.items()},
                {id(p): {n: self._state[n][id(p)].copy() for n in self._state_names}
                 for p in self._params if not isinstance(p, Parameter)},
                dict(self._steps), self._extra_snapshot(), [dict(g) for g in self.param_groups])

    def _restore(self, snap):
        bufs, loose, steps, extra, groups = snap
        self._follow()
        for k, v in bufs.items():
            if k in self._state_buf and self._state_buf[k].shape == v.shape:
                self._state_buf[k][...] = v
        for pid, st in loose.items():
            for n, v in st.items():
                self._state[n][pid][...] = v
        self._steps.clear()
        self._steps.update(steps)
        self._restore_extra(extra)
        for g, saved in zip(self.param_groups, groups):
            g.update({k: v for k, v in saved.items() if k != "params"})
        self._plan = None

    def _extra_snapshot(self):
        return None

    def _restore_extra(self, extra):
        pass

    # ---- state ----
    def state_dict(self):
        """PyTorch's layout: {"state": {index: {"step": n, name: array}}, "param_groups": [{..., "params":
        [indices]}]}; arrays are copies."""
        self._follow()
        index = {id(p): i for i, p in enumerate(self._params)}
        state = {}
        for p in self._params:
            i = index[id(p)]
            st = {"step": self._steps[id(p)]}
            for name in self._state_names:
                st[name] = self._state[name][id(p)].copy()
            st.update(self._extra_state(p))
            state[i] = st
        groups = []
        for g in self.param_groups:
            d = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
            d["params"] = [index[id(p)] for p in g["params"]]
            groups.append(d)
        return {"state": state, "param_groups": groups}

    def _extra_state(self, p):
        return {}

    def _load_extra_state(self, p, st):
        pass

    def _check_extra_state(self, i, st):
        pass

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state (resuming then gives bit-identical results). Everything
        is checked first: a mismatch raises ValueError and changes nothing."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("state_dict: expected a dict with exactly the keys 'state' and 'param_groups'")
        groups, states = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or not isinstance(states, dict):
            raise ValueError("state_dict: 'param_groups' must be a list and 'state' a dict")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"state_dict: has {len(groups)} parameter groups, the optimizer {len(self.param_groups)}")
        new_groups = []
        for g, sg in zip(self.param_groups, groups):
            if not isinstance(sg, dict) or len(sg.get("params", ())) != len(g["params"]):
                raise ValueError("state_dict: a parameter group's size differs from the optimizer's")
            unknown = set(sg) - set(self.defaults) - {"params", "regularizer", "initial_lr"}
            if unknown:
                raise ValueError(f"state_dict: unknown key(s) {sorted(unknown)} in a parameter group")
            cand = dict(g)
            cand.update({k: copy.deepcopy(v) for k, v in sg.items() if k != "params"})
            try:
                self._validate(cand)
            except (TypeError, ValueError) as e:
                raise ValueError(f"state_dict: invalid parameter group: {e}") from None
            new_groups.append(cand)
        allowed = set(self._state_names) | {"step"} | set(self._extra_state_names())
        plan = []
        for i, p in enumerate(self._params):
            st = states.get(i, states.get(str(i)))
            if st is None:
                continue
            if not isinstance(st, dict):
                raise ValueError(f"state_dict: state of parameter {i} must be a dict")
            unknown = set(st) - allowed
            if unknown:
                raise ValueError(f"state_dict: unknown state key(s) {sorted(unknown)} for parameter {i}")
            step = st.get("step", 0)
            try:
                step = int(np.asarray(getattr(step, "_a", step)).item())
            except (TypeError, ValueError):
                raise ValueError(f"state_dict: 'step' of parameter {i} must be an integer, got {step!r}") from None
            if step < 0:
                raise ValueError(f"state_dict: 'step' of parameter {i} must be >= 0, got {step}")
            arrays = {}
            for name in self._state_names:
                if name in st:
                    v = np.asarray(getattr(st[name], "_a", st[name]))
                    if v.shape != tuple(p._a.shape):
                        raise ValueError(f"state_dict: state {name!r} of parameter {i} has shape "
                                         f"{v.shape}, expected {tuple(p._a.shape)}")
                    if v.dtype.kind not in "fiu":
                        raise ValueError(f"state_dict: state {name!r} of parameter {i} is not numeric ({v.dtype})")
                    arrays[name] = v
            self._check_extra_state(i, st)
            plan.append((p, step, arrays, st))
        # everything checked: commit
        self._follow()
        for g, cand in zip(self.param_groups, new_groups):
            g.update({k: v for k, v in cand.items() if k != "params"})
        for p, step, arrays, st in plan:
            self._steps[id(p)] = step
            for name, v in arrays.items():
                self._state[name][id(p)][...] = v
            self._load_extra_state(p, st)
        self._plan = None
        self._checked = []

    def _extra_state_names(self):
        return ()

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines + [")"])


def _check_adam(g):
    b = g["betas"]
    if not isinstance(b, (tuple, list)) or len(b) != 2:
        raise ValueError(f"betas: expected a pair (beta1, beta2), got {b!r}")
    _check_beta("betas[0]", b[0])
    _check_beta("betas[1]", b[1])
    if not g["eps"] > 0:
        raise ValueError(f"eps: expected > 0, got {g['eps']!r}")


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum (Polyak) and Nesterov momentum (torch.optim.SGD).

    g = grad + weight_decay w; with momentum: b = g at the first step, b = momentum b + (1 - dampening) g
    afterwards; g = g + momentum b (nesterov) or b; w -= lr g.

    The course writes momentum as m = beta m + lr g; w -= m. With a constant lr the two are the same
    trajectory (the course's m is lr times PyTorch's b); they differ only when lr changes mid-run,
    where PyTorch's form applies the new lr to the whole accumulated velocity.

    Parameters
    ----------
    params : iterable of Parameter or dicts, or a Module
        What to optimize: parameters, parameter groups (dicts with their own options), or a model.
    lr : float, default 0.001
        Learning rate.
    momentum : float, default 0.0
        Momentum factor.
    dampening : float, default 0.0
        Dampening of the momentum.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (decoupled in AdamW).
    nesterov : bool, default False
        Nesterov momentum (needs momentum > 0 and dampening = 0).
    no_decay_bias : bool, default False
        Exempt biases and norm parameters from weight decay.

    Examples
    --------
    >>> opt = fastnn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    _state_names = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 no_decay_bias=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov), no_decay_bias)

    def _validate(self, g):
        super()._validate(g)
        _check_nonneg("momentum", g["momentum"])
        _check_nonneg("dampening", g["dampening"])
        if g["nesterov"] and (g["momentum"] <= 0 or g["dampening"] != 0):
            raise ValueError("nesterov: Nesterov momentum requires momentum > 0 and dampening = 0")

    def _update(self, g, p, grad, st, step, cwd, dwd, l1, run):
        ops.sgd_step(p, grad, st["momentum_buffer"], step=step, lr=g["lr"], momentum=g["momentum"],
                     dampening=g["dampening"], weight_decay=cwd, nesterov=g["nesterov"], l1=l1)


class Adagrad(Optimizer):
    """AdaGrad (Duchi et al. 2011): s += g^2; w -= clr g / (sqrt(s) + eps),
    clr = lr / (1 + (step - 1) lr_decay). The accumulated s only grows, so the effective step size
    keeps shrinking: it can stop too early on deep networks (as the course warns).

    Parameters
    ----------
    params : iterable of Parameter or dicts, or a Module
        What to optimize: parameters, parameter groups (dicts with their own options), or a model.
    lr : float, default 0.01
        Learning rate.
    lr_decay : float, default 0.0
        Learning-rate decay per step.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (decoupled in AdamW).
    initial_accumulator_value : float, default 0.0
        Starting value of the sum of squared gradients.
    eps : float, default 1e-10
        Added to the variance for numerical stability.
    no_decay_bias : bool, default False
        Exempt biases and norm parameters from weight decay.
    """

    _state_names = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, no_decay_bias=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps),
                         no_decay_bias)

    def _validate(self, g):
        super()._validate(g)
        _check_nonneg("lr_decay", g["lr_decay"])
        _check_nonneg("initial_accumulator_value", g["initial_accumulator_value"])
        if not g["eps"] > 0:
            raise ValueError(f"eps: expected > 0, got {g['eps']!r}")

    def _init_state(self):
        for g in self.param_groups:
            for p in g["params"]:
                if self._steps.get(id(p), 0) == 0:
                    self._state["sum"][id(p)][...] = g["initial_accumulator_value"]

    def _update(self, g, p, grad, st, step, cwd, dwd, l1, run):
        ops.adagrad_step(p, grad, st["sum"], step=step, lr=g["lr"], lr_decay=g["lr_decay"],
                         weight_decay=cwd, eps=g["eps"], l1=l1)


class RMSprop(Optimizer):
    """RMSProp (Tieleman & Hinton): v = alpha v + (1 - alpha) g^2; w -= lr g / (sqrt(v) + eps).
    centered: divides by sqrt(v - mean(g)^2) + eps; momentum: b = momentum b + g / denom, w -= lr b.
    PyTorch's default alpha is 0.99; the course uses beta = 0.9.

    Parameters
    ----------
    params : iterable of Parameter or dicts, or a Module
        What to optimize: parameters, parameter groups (dicts with their own options), or a model.
    lr : float, default 0.01
        Learning rate.
    alpha : float, default 0.99
        Smoothing constant of the squared-gradient average.
    eps : float, default 1e-08
        Added to the variance for numerical stability.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (decoupled in AdamW).
    momentum : float, default 0.0
        Momentum factor.
    centered : bool, default False
        Normalize by the gradient's estimated variance instead of its second moment.
    no_decay_bias : bool, default False
        Exempt biases and norm parameters from weight decay.
    """

    _state_names = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 *, no_decay_bias=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered), no_decay_bias)

    def _validate(self, g):
        super()._validate(g)
        _check_nonneg("momentum", g["momentum"])
        if not 0 <= g["alpha"] <= 1:
            raise ValueError(f"alpha: expected a value in [0, 1], got {g['alpha']!r}")
        if not g["eps"] > 0:
            raise ValueError(f"eps: expected > 0, got {g['eps']!r}")

    def _update(self, g, p, grad, st, step, cwd, dwd, l1, run):
        ops.rmsprop_step(p, grad, st["square_avg"], lr=g["lr"], alpha=g["alpha"], eps=g["eps"],
                         weight_decay=cwd, momentum=g["momentum"], centered=g["centered"],
                         momentum_buffer=st["momentum_buffer"], grad_avg=st["grad_avg"], l1=l1)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2014): momentum plus RMSProp scaling, with bias correction.
    m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= lr / (1 - b1^t) m / (sqrt(v / (1 - b2^t)) + eps)
    (PyTorch's exact form: sqrt(v) / sqrt(1 - b2^t) + eps). amsgrad: v replaced by its running max.
    weight_decay is coupled (added to g, i.e. L2); see AdamW for decoupled decay.

    Parameters
    ----------
    params : iterable of Parameter or dicts, or a Module
        What to optimize: parameters, parameter groups (dicts with their own options), or a model.
    lr : float, default 0.001
        Learning rate.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates of the first and second moment estimates.
    eps : float, default 1e-08
        Added to the variance for numerical stability.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (decoupled in AdamW).
    amsgrad : bool, default False
        Use the running maximum of the second moment (AMSGrad).
    no_decay_bias : bool, default False
        Exempt biases and norm parameters from weight decay.

    Examples
    --------
    >>> opt = fastnn.optim.Adam(model.parameters(), lr=1e-3)
    """

    _state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 no_decay_bias=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad), no_decay_bias)

    def _validate(self, g):
        super()._validate(g)
        _check_adam(g)

    def _update(self, g, p, grad, st, step, cwd, dwd, l1, run):
        b1, b2 = g["betas"]
        dec = self._decoupled(g)
        ops.adam_step(p, grad, st["exp_avg"], st["exp_avg_sq"], step=step, lr=g["lr"], beta1=b1, beta2=b2,
                      eps=g["eps"], weight_decay=dwd if dec else cwd, decoupled_weight_decay=dec,
                      max_exp_avg_sq=st["max_exp_avg_sq"] if g["amsgrad"] else None, l1=l1,
                      l2=cwd if dec else 0.0)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``w *= 1 - lr * weight_decay``, then the Adam
    step without decay in the gradient. Default weight_decay 1e-2 (PyTorch's).

    Parameters
    ----------
    params : iterable of Parameter or dicts, or a Module
        What to optimize: parameters, parameter groups (dicts with their own options), or a model.
    lr : float, default 0.001
        Learning rate.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates of the first and second moment estimates.
    eps : float, default 1e-08
        Added to the variance for numerical stability.
    weight_decay : float, default 0.01
        L2 penalty added to the gradient (decoupled in AdamW).
    amsgrad : bool, default False
        Use the running maximum of the second moment (AMSGrad).
    no_decay_bias : bool, default False
        Exempt biases and norm parameters from weight decay.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 no_decay_bias=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, no_decay_bias=no_decay_bias)

    def _decoupled(self, g):
        return True


class Adamax(Optimizer):
    """Adamax (Kingma & Ba 2014, section 7): Adam with the infinity norm in place of the squared average.
    m = b1 m + (1 - b1) g; u = max(b2 u, abs(g) + eps); w -= lr / (1 - b1^t) m / u. Default lr 2e-3
    (PyTorch's); weight_decay is coupled (added to g).

    Parameters
    ----------
    params : iterable of Parameter or dicts, or a Module
        What to optimize: parameters, parameter groups (dicts with their own options), or a model.
    lr : float, default 0.002
        Learning rate.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates of the first and second moment estimates.
    eps : float, default 1e-08
        Added to the variance for numerical stability.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (decoupled in AdamW).
    no_decay_bias : bool, default False
        Exempt biases and norm parameters from weight decay.
    """

    _state_names = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, no_decay_bias=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay),
                         no_decay_bias)

    def _validate(self, g):
        super()._validate(g)
        _check_adam(g)

    def _update(self, g, p, grad, st, step, cwd, dwd, l1, run):
        b1, b2 = g["betas"]
        ops.adamax_step(p, grad, st["exp_avg"], st["exp_inf"], step=step, lr=g["lr"], beta1=b1, beta2=b2,
                        eps=g["eps"], weight_decay=cwd, l1=l1)


class NAdam(Optimizer):
    """NAdam (Dozat 2016): Adam with Nesterov momentum and PyTorch's momentum schedule
    mu_t = b1 (1 - 0.5 * 0.96^(t momentum_decay)).

    Parameters
    ----------
    params : iterable of Parameter or dicts, or a Module
        What to optimize: parameters, parameter groups (dicts with their own options), or a model.
    lr : float, default 0.002
        Learning rate.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates of the first and second moment estimates.
    eps : float, default 1e-08
        Added to the variance for numerical stability.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (decoupled in AdamW).
    momentum_decay : float, default 0.004
        NAdam's momentum decay (psi).
    decoupled_weight_decay : bool, default False
        Decay the weights directly (as AdamW) instead of through the gradient.
    no_decay_bias : bool, default False
        Exempt biases and norm parameters from weight decay.
    """

    _state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, no_decay_bias=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay), no_decay_bias)
        self._mu_product = {id(p): 1.0 for p in self._params}

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        mp = self.__dict__.setdefault("_mu_product", {})
        for p in self.param_groups[-1]["params"]:
            mp.setdefault(id(p), 1.0)

    def _extra_snapshot(self):
        return dict(self._mu_product)

    def _restore_extra(self, extra):
        self._mu_product.clear()
        self._mu_product.update(extra)

    def _validate(self, g):
        super()._validate(g)
        _check_adam(g)
        _check_nonneg("momentum_decay", g["momentum_decay"])

    def _decoupled(self, g):
        return bool(g["decoupled_weight_decay"])

    def _runs(self):
        runs = super()._runs()
        out = []  # parameters in one run must share their mu_product too
        for r in runs:
            if "loose" in r:
                r["mu"] = self._mu_product[id(r["loose"])]
                out.append(r)
                continue
            cur = None
            for p in r["params"]:
                mp = self._mu_product[id(p)]
                if cur is not None and cur["mu"] == mp:
                    cur["hi"] += p._a.size
                    cur["params"].append(p)
                else:
                    cur = {"key": r["key"], "lo": p._offset, "hi": p._offset + p._a.size, "params": [p], "mu": mp}
                    out.append(cur)
        return out

    def _update(self, g, p, grad, st, step, cwd, dwd, l1, run):
        b1, b2 = g["betas"]
        dec = self._decoupled(g)
        prod = ops.nadam_step(p, grad, st["exp_avg"], st["exp_avg_sq"], step=step, lr=g["lr"],
                              mu_product=run["mu"], beta1=b1, beta2=b2, eps=g["eps"],
                              weight_decay=dwd if dec else cwd, momentum_decay=g["momentum_decay"],
                              decoupled_weight_decay=dec, l1=l1, l2=cwd if dec else 0.0)
        run["mu"] = prod
        for q in run["params"]:
            self._mu_product[id(q)] = prod

    def _extra_state(self, p):
        return {"mu_product": self._mu_product[id(p)]}

    def _extra_state_names(self):
        return ("mu_product",)

    def _check_extra_state(self, i, st):
        if "mu_product" in st:
            try:
                float(np.asarray(getattr(st["mu_product"], "_a", st["mu_product"])))
            except (TypeError, ValueError):
                raise ValueError(f"state_dict: 'mu_product' of parameter {i} must be a number") from None

    def _load_extra_state(self, p, st):
        if "mu_product" in st:
            self._mu_product[id(p)] = float(np.asarray(getattr(st["mu_product"], "_a", st["mu_product"])))
