"""Module: the explicit forward/backward building block, and Sequential.

``forward(x)`` computes the output and caches what backward needs; ``backward(grad_out)`` returns
the gradient with respect to the input and *accumulates* parameter gradients into ``p.grad`` (call
``zero_grad()`` between steps, as in PyTorch). Outputs and gradients are per-shape workspace arrays
that a layer reuses on its next call at the same shape: a steady training step allocates nothing.
Copy an output (``y.copy()``) to keep it past the next forward.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .parameter import Parameter, pack

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
_MAX_WORKSPACES = 32


class Module:
    def __init__(self):
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_params", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_ws", {})
        object.__setattr__(self, "_last", {})
        object.__setattr__(self, "training", True)

    # ---- registration (attribute assignment, as in PyTorch) ----
    def __setattr__(self, name, value):
        if name[0] == "_":  # private caches (hot path): never parameters or modules
            object.__setattr__(self, name, value)
            return
        if "_params" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call Module.__init__() before assigning attributes")
        for d in (self._params, self._modules, self._buffers):
            d.pop(name, None)
        if isinstance(value, Parameter):
            self._params[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name, array):
        """State that is saved in state_dict but not trained (running statistics)."""
        object.__setattr__(self, name, array)
        self._buffers[name] = array

    def _set_buffer(self, name, array):
        object.__setattr__(self, name, array)
        self._buffers[name] = array

    def add_module(self, name, module):
        if not isinstance(module, Module):
            raise TypeError(f"module: expected a fastnn Module, got {type(module).__name__}")
        setattr(self, name, module)

    # ---- the computation ----
    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def backward(self, grad_out, need_input_grad=True):
        raise NotImplementedError(f"{type(self).__name__} has no backward()")

    def __call__(self, x):
        return self.forward(x)

    # ---- workspaces ----
    def _buf(self, key, shape, dtype):
        """A reusable array for (key, shape, dtype): allocated on first use only."""
        a = self._last.get(key)  # fast path: the same shape as last time
        if a is not None and a.shape == shape and a.dtype == dtype:
            return a
        k = (key, shape, dtype)
        a = self._ws.get(k)
        if a is None:
            if len(self._ws) >= _MAX_WORKSPACES:
                self._ws.clear()
                self._last.clear()
            a = self._ws[k] = np.empty(shape, dtype)
        self._last[key] = a
        return a

    def _input(self, x, dtype):
        """x as an array of `dtype`: converted once into a workspace (ints and other floats), else
        a clear TypeError."""
        if type(x) is np.ndarray and x.dtype == dtype:
            return x
        x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            raise TypeError(f"{self._name()}: expected a numeric array, got dtype {x.dtype}")
        buf = self._buf("_in", x.shape, dtype)
        np.copyto(buf, x, casting="unsafe")
        return buf

    def _name(self):
        return repr(self).split("\n")[0]

    # ---- modes ----
    def train(self, mode=True):
        """Training mode: batch statistics in BatchNorm, dropout and random RReLU slopes active."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Inference mode: running statistics, no dropout, mean RReLU slope."""
        return self.train(False)

    # ---- traversal ----
    def children(self):
        return list(self._modules.values())

    def named_children(self):
        return list(self._modules.items())

    def modules(self):
        return [m for _, m in self.named_modules()]

    def named_modules(self, prefix=""):
        out = [(prefix, self)]
        for name, m in self._modules.items():
            out.extend(m.named_modules(f"{prefix}.{name}" if prefix else name))
        return out

    def named_parameters(self, prefix=""):
        """(dotted name, Parameter) pairs, each parameter once, in registration order."""
        seen, out = set(), []
        for mname, m in self.named_modules(prefix):
            for pname, p in m._params.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    out.append((f"{mname}.{pname}" if mname else pname, p))
        return out

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        out = []
        for mname, m in self.named_modules(prefix):
            for bname, b in m._buffers.items():
                if b is not None:
                    out.append((f"{mname}.{bname}" if mname else bname, b))
        return out

    # ---- parameters in bulk ----
    def arena(self):
        """The ArenaRange holding this module's parameters (packing them into one if needed)."""
        return pack(self.parameters())

    def zero_grad(self):
        """Zero every parameter gradient (one fill over the arena range when packed)."""
        params = self.parameters()
        if not params:
            return
        a = params[0]._arena
        if a is not None and all(p._arena is a for p in params):
            lo = min(p._offset for p in params)
            hi = max(p._offset + p.size for p in params)
            if hi - lo == sum(p.size for p in params):
                a.grad[lo:hi] = 0
                return
        for p in params:
            p.grad[...] = 0

    def manual_seed(self, seed):
        """The model's own generator: reseed every random layer below (Dropout, RReLU) from `seed` and
        its position, so the same seed replays the same masks whatever else used the global generator."""
        from .._random import stream_seed

        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
        for i, m in enumerate(self.modules()):
            if hasattr(m, "_base") and hasattr(m, "_calls"):
                object.__setattr__(m, "_base", stream_seed(int(seed), 1000 + i))
                object.__setattr__(m, "_calls", 0)
        return self

    def freeze(self):
        """Stop training this module's parameters (requires_grad = False)."""
        for p in self.parameters():
            p.requires_grad = False
        return self

    def unfreeze(self):
        for p in self.parameters():
            p.requires_grad = True
        return self

    @property
    def regularizer(self):
        ws = [p for n, p in self._params.items() if p is not None and p.kind == "weight"]
        return ws[0].regularizer if ws else None

    @regularizer.setter
    def regularizer(self, reg):
        """Attach a penalty to this module's weights (every weight below it; biases are exempt)."""
        for p in self.parameters():
            if p.kind == "weight":
                p.regularizer = reg

    def has_trainable(self):
        """Any parameter with requires_grad (a short-circuit walk: Sequential.backward asks every step)."""
        for p in self._params.values():
            if p is not None and p.requires_grad:
                return True
        return any(m.has_trainable() for m in self._modules.values())

    def num_parameters(self, trainable_only=False):
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    @property
    def dtype(self):
        ps = self.parameters()
        return ps[0].dtype if ps else None

    def to(self, dtype):
        """Convert parameters and floating buffers to `dtype` (float32 or float64), repacked into a
        fresh arena; gradients are zeroed and workspaces dropped."""
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype: expected float32 or float64, got {dtype}")
        for m in self.modules():
            for p in m._params.values():
                if p is not None:
                    p.data = np.ascontiguousarray(p.data, dtype=dtype).copy()
                    p.grad = np.zeros_like(p.data)
                    p._arena = None
            for name, b in list(m._buffers.items()):
                if b is not None and b.dtype.kind == "f":
                    m._set_buffer(name, b.astype(dtype))
            m._ws.clear()
            m._last.clear()
            if hasattr(m, "_dtype"):
                object.__setattr__(m, "_dtype", dtype)
        if self.parameters():
            pack(self.parameters())
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    # ---- state ----
    def state_dict(self):
        """Flat dotted keys -> copies of parameters and buffers, exactly PyTorch's keys
        ("0.weight", "1.running_mean", "1.num_batches_tracked", ...)."""
        sd = OrderedDict()
        for mname, m in self.named_modules():
            for pname, p in m._params.items():
                if p is not None:
                    sd[f"{mname}.{pname}" if mname else pname] = p.data.copy()
            for bname, b in m._buffers.items():
                if b is not None:
                    sd[f"{mname}.{bname}" if mname else bname] = np.array(b, copy=True)
        return sd

    def _state_targets(self):
        t = OrderedDict()
        for mname, m in self.named_modules():
            for pname, p in m._params.items():
                if p is not None:
                    t[f"{mname}.{pname}" if mname else pname] = (m, pname, p.data)
            for bname, b in m._buffers.items():
                if b is not None:
                    t[f"{mname}.{bname}" if mname else bname] = (m, bname, b)
        return t

    def load_state_dict(self, state_dict, strict=True):
        """Copy values in by key. strict=True: missing or unexpected keys raise KeyError; any shape
        mismatch raises ValueError naming the key. Everything is checked before anything is written,
        so a refused load changes nothing. Returns (missing_keys, unexpected_keys)."""
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        plan = []
        for k, (m, name, dst) in targets.items():
            if k not in state_dict:
                continue
            src = np.asarray(state_dict[k])
            if src.shape != dst.shape:
                raise ValueError(f"load_state_dict: {k}: expected shape {dst.shape}, got {src.shape}")
            if src.dtype.kind not in "fiub":
                raise TypeError(f"load_state_dict: {k}: expected a numeric array, got dtype {src.dtype}")
            plan.append((dst, src))
        for dst, src in plan:
            np.copyto(dst, src, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # ---- architecture (what a checkpoint stores to rebuild the model) ----
    _config_keys = ()

    def get_config(self):
        """Constructor arguments that rebuild this module (``type(m)(**m.get_config())``)."""
        if type(self).__module__.split(".")[0] != "fastnn" and not self._config_keys:
            raise TypeError(f"{type(self).__name__}: a custom module has no architecture config; define "
                            "_config_keys (constructor argument names) or save its state_dict instead")
        return {k: getattr(self, k) for k in self._config_keys}

    # ---- description ----
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")

    def summary(self, input_shape=None, dtype=None):
        """A table of layers, output shapes (given the shape of one sample) and parameter counts."""
        rows = []
        shape_of = {}
        if input_shape is not None:
            was = self.training
            self.eval()
            try:
                x = np.zeros((2,) + tuple(input_shape), dtype or self.dtype or np.float32)
                for name, m in self.named_modules():
                    if m is not self and not m._modules:
                        shape_of[id(m)] = None
                _trace_shapes(self, x, shape_of)
            finally:
                self.train(was)
        for name, m in self.named_modules():
            if m is self and self._modules:
                continue
            if m._modules:
                continue
            n = sum(p.size for p in m._params.values() if p is not None)
            shp = shape_of.get(id(m))
            rows.append((name or type(m).__name__, type(m).__name__,
                         "" if shp is None else str((None,) + tuple(shp[1:])), n))
        w = [max(len(r[i]) for r in rows + [("Layer", "Type", "Output shape")]) for i in range(3)]
        out = [f"{'Layer':{w[0]}}  {'Type':{w[1]}}  {'Output shape':{w[2]}}  {'Params':>10}"]
        out.append("-" * len(out[0]))
        out += [f"{a:{w[0]}}  {b:{w[1]}}  {c:{w[2]}}  {n:>10,}" for a, b, c, n in rows]
        out.append("-" * len(out[0]))
        total = self.num_parameters()
        out.append(f"Total params: {total:,}  (trainable {self.num_parameters(True):,}, "
                   f"frozen {total - self.num_parameters(True):,})")
        return "\n".join(out)


def _trace_shapes(model, x, shape_of):
    if isinstance(model, Sequential):
        for m in model._modules.values():
            x = _trace_shapes(m, x, shape_of)
        return x
    y = model.forward(x)
    shape_of[id(model)] = y.shape
    return y


class Sequential(Module):
    """Modules applied in order. Indexing gives a layer; slicing gives a Sequential that shares the
    same Parameter objects (``model[:3]``: the transfer-learning case). Building one packs its
    parameters into one arena (a slice of a packed model keeps the parent's arena range)."""

    def get_config(self):
        return {"layers": [{"name": n, "class": type(m).__name__, "config": m.get_config()}
                           for n, m in self._modules.items()]}

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            modules = list(modules[0].items())
        else:
            modules = [(str(i), m) for i, m in enumerate(modules)]
        for name, m in modules:
            self.add_module(name, m)
        if self.parameters():
            pack(self.parameters())

    def forward(self, x):
        for m in self._modules.values():
            x = m.forward(x)
        return x

    def backward(self, grad_out, need_input_grad=True):
        """Back through the layers in reverse. Without need_input_grad it stops at the lowest layer
        with trainable parameters: frozen lower layers cost forward time only. Returns the input
        gradient (None when not asked for)."""
        mods = list(self._modules.values())
        lowest = 0
        if not need_input_grad:
            lowest = next((i for i, m in enumerate(mods) if m.has_trainable()), len(mods))
        g = grad_out
        for i in range(len(mods) - 1, lowest - 1, -1):
            g = mods[i].backward(g, need_input_grad=need_input_grad or i > lowest)
        return g if need_input_grad else None

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return Sequential(*mods[idx])
        return mods[idx]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        pack(self.parameters())
        return self


class Identity(Module):
    """y = x."""

    def forward(self, x):
        return x

    def backward(self, grad_out, need_input_grad=True):
        return grad_out


class Flatten(Module):
    """Flattens dims start_dim..end_dim (default: everything but the batch axis), as a view."""

    _config_keys = ("start_dim", "end_dim")

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        x = np.asarray(x)
        self._shape = x.shape
        nd = x.ndim
        s = self.start_dim % nd if nd else 0
        e = self.end_dim % nd if nd else 0
        if nd == 0 or s >= e:
            return x
        return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:])

    def backward(self, grad_out, need_input_grad=True):
        return grad_out.reshape(self._shape)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
