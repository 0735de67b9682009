"""Module: the building block, with PyTorch's contract, plus fastnn's explicit kernel pair.

Two ways to run a model, on the same kernels:

* **Tensors (autograd).** ``out = model(x_tensor)`` records one graph node per call, holding that
  call's own context; ``loss.backward()`` accumulates parameter gradients into the model's arena. A
  module may be called any number of times in one forward (a shared activation, tied weights): each
  call gets its own context and its own gradient. A user module defines only ``forward``.
* **Arrays (the explicit chain).** ``out = model(x_array)`` returns an array and keeps the call's
  context for ``model.backward(grad_out)`` (accumulating parameter gradients, returning the input
  gradient) -- what ``fit`` uses for a Sequential of built-in layers.

Built-in layers implement the kernel pair ``_fwd(x) -> (y, ctx)`` and ``_bwd(ctx, grad_out,
need_input_grad) -> grad_in``; a Sequential of them runs as one fused graph node. Outputs come from
per-layer workspaces that are reused only when nobody outside the engine holds them (their reference
count says so): whatever a call returns stays yours, and a steady training step allocates no arrays.
"""
import copy
from collections import OrderedDict, namedtuple

import numpy as np

from .._workspace import Workspace
from .._autograd import Node, _mode, deliver, edge
from .._tensor_base import wrote_raw
from ..tensor import Tensor, _arr, _check_device, _counter, _dtype, _saved, _wrap
from .parameter import Parameter, generation, hooked, pack

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
_NOCTX = object()  # no array-mode forward yet (a None context is legitimate: Identity, eval Dropout)


class StateDictError(KeyError):
    """load_state_dict with strict=True: missing or unexpected keys."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _layer_bwd(ctx, g, edges):
    m, c = ctx
    if _mode.capture is None and not hooked[0]:
        return (m._bwd(c, g, edges[0] is not None),)
    return (_redirected(m, lambda: m._bwd(c, g, edges[0] is not None)),)


def _handwritten_bwd(ctx, g, edges):
    m = ctx
    if _mode.capture is None and not hooked[0]:
        return (m.backward(g),)
    return (_redirected(m, lambda: m.backward(g)),)


def _redirected(m, run):
    """Run a layer's backward with its parameters' gradients going to fresh arrays, then hand those to
    autograd.grad's capture (nothing accumulated) or through the parameters' hooks into .grad."""
    cap = _mode.capture
    params = [p for p in m._param_list() if p.requires_grad and (cap is not None or p._hooks)]
    saved = [p._g for p in params]
    for p in params:
        p._g = np.zeros_like(p._g)
    try:
        gx = run()
    finally:
        fresh = [p._g for p in params]
        for p, old in zip(params, saved):
            p._g = old
    for p, gp in zip(params, fresh):
        deliver(p, gp, cap)
    return gx


def layer_call(m, x):
    """Run a module with a kernel pair on x: a tensor in gives a tensor out (one graph node holding
    this call's context); an array in gives an array out (the context kept for m.backward)."""
    if isinstance(x, Tensor):
        y, ctx = m._fwd(x._a)
        if _mode.enabled:
            e = edge(x)
            if e is not None or m.has_trainable():
                t = _wrap(y)
                n = t._node = Node(type(m)._node_fn, (m, ctx), (e,))
                # backward reads x for the weights' gradients, the weights for x's
                n.saved = ([_saved(x)] if m.has_trainable() else []) + (m._saved_params() if e is not None else [])
                t.requires_grad = True
                return t
        return _wrap(y)
    y, m.__dict__["_ctx"] = m._fwd(x if type(x) is np.ndarray else np.asarray(x))
    return y


class Module:
    """Base class of layers and models (torch.nn.Module's API)."""

    _native = False       # has the kernel pair _fwd/_bwd (built-in layers)
    _chain = 0            # how the explicit chain runs it without Python (fastnn._ext._chain; 0: its _fwd/_bwd)
    _node_impl = staticmethod(_layer_bwd)
    _handwritten = False  # a user module with its own array-level forward and backward (old contract)
    _config_keys = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if ("_fwd" in cls.__dict__ or "_bwd" in cls.__dict__) and "_chain" not in cls.__dict__:
            cls._chain = 0  # its own kernel pair: the chain calls it
        if not cls.__module__.startswith("fastnn."):
            if "forward" in cls.__dict__ or "backward" in cls.__dict__:
                cls._native = False
                cls._handwritten = "backward" in cls.__dict__ and "forward" in cls.__dict__
        impl = cls._node_impl
        fn = lambda ctx, g, edges: impl(ctx, g, edges)  # noqa: E731  (named per class for grad_fn)
        fn.__name__ = f"_{cls.__name__.lower()}_bwd"
        cls._node_fn = staticmethod(fn)

    def __init__(self):
        d = self.__dict__
        d["_modules"] = OrderedDict()
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_ws"] = Workspace()
        d["_ctx"] = _NOCTX
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["training"] = True

    # ---- registration (attribute assignment, as in PyTorch) ----
    def __setattr__(self, name, value):
        d = self.__dict__
        if name[0] == "_" and name not in d.get("_parameters", ()) and name not in d.get("_modules", ()):
            object.__setattr__(self, name, value)  # private caches (hot path)
            return
        if "_parameters" not in d:
            raise AttributeError(f"cannot assign '{name}' before Module.__init__() call "
                                 f"(call super().__init__() first in {type(self).__name__}.__init__)")
        params, mods, bufs = d["_parameters"], d["_modules"], d["_buffers"]
        if isinstance(value, Parameter):
            mods.pop(name, None)
            bufs.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            bufs.pop(name, None)
            mods[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(fastnn.nn.Parameter or None expected)")
            params[name] = None
        elif name in mods:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(fastnn.nn.Module or None expected)")
            mods[name] = None
        elif name in bufs:
            if value is not None and not isinstance(value, (Tensor, np.ndarray)):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(fastnn.Tensor or None expected)")
            value = value if value is None or isinstance(value, Tensor) else _wrap(value)
            bufs[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for k in ("_parameters", "_modules", "_buffers"):
            self.__dict__.get(k, {}).pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name, tensor, persistent=True):
        """State saved in state_dict but not trained (running statistics)."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"buffer name: expected a non-empty string without '.', got {name!r}")
        if tensor is not None and not isinstance(tensor, (Tensor, np.ndarray)):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(fastnn Tensor or None required)")
        t = tensor if tensor is None or isinstance(tensor, Tensor) else _wrap(np.asarray(tensor))
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = t
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, t)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(fastnn.nn.Parameter or None required)")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"module: expected a fastnn Module, got {type(module).__name__}")
        if not isinstance(name, str) or "." in name:
            raise KeyError(f"module name: expected a string without '.', got {name!r}")
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    def get_submodule(self, target):
        m = self
        for part in target.split(".") if target else []:
            if part not in m._modules:
                raise AttributeError(f"{type(m).__name__} has no submodule {part!r}")
            m = m._modules[part]
        return m

    def get_parameter(self, target):
        mod, _, name = target.rpartition(".")
        m = self.get_submodule(mod)
        if name not in m._parameters:
            raise AttributeError(f"{type(m).__name__} has no parameter {name!r}")
        return m._parameters[name]

    def get_buffer(self, target):
        mod, _, name = target.rpartition(".")
        m = self.get_submodule(mod)
        if name not in m._buffers:
            raise AttributeError(f"{type(m).__name__} has no buffer {name!r}")
        return m._buffers[name]

    # ---- the computation ----
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks:
            return self._hooked_call(args, kwargs)
        cls = type(self)
        if not cls._native:
            if cls._handwritten:
                return self._handwritten_call(*args, **kwargs)
            if args and type(args[0]) is np.ndarray:  # arrays into a user module: run it on tensors
                args = tuple(_wrap(a) if type(a) is np.ndarray else a for a in args)
        return self.forward(*args, **kwargs)

    def _hooked_call(self, args, kwargs):
        for h in list(self._forward_pre_hooks.values()):
            r = h(self, args)
            if r is not None:
                args = r if isinstance(r, tuple) else (r,)
        saved = self._forward_hooks, self._forward_pre_hooks
        self.__dict__["_forward_hooks"], self.__dict__["_forward_pre_hooks"] = {}, {}
        try:
            out = self(*args, **kwargs)
        finally:
            self.__dict__["_forward_hooks"], self.__dict__["_forward_pre_hooks"] = saved
        for h in list(self._forward_hooks.values()):
            r = h(self, args, out)
            if r is not None:
                out = r
        return out

    def _handwritten_call(self, x, *rest, **kwargs):
        if not isinstance(x, Tensor):
            return self.forward(x, *rest, **kwargs)
        y = np.asarray(self.forward(x._a, *rest, **kwargs))
        if _mode.enabled and (x.requires_grad or self.has_trainable()):
            t = _wrap(y)
            t._node, t.requires_grad = Node(_handwritten_bwd, self, (edge(x),)), True
            return t
        return _wrap(y)

    def begin_update(self, x):
        """``y, backprop = model.begin_update(x)``: the explicit chain's forward on array x, and its backward
        (thinc's convention): ``backprop(grad_y, need_input_grad=True, accumulate=True) -> grad_x``, the
        parameter gradients accumulated (or assigned with accumulate=False). The context belongs to the
        call, so any number of forwards may precede their backwards (in any order)."""
        if not type(self)._native:
            raise RuntimeError(f"{type(self).__name__}.begin_update(): this module has no explicit backward (it "
                               "defines only forward); call it on a fastnn.Tensor and use loss.backward()")
        y, ctx = self._fwd(x if type(x) is np.ndarray else np.asarray(_arr(x)))

        def backprop(grad_out, need_input_grad=True, accumulate=True):
            return self._bwd(ctx, np.asarray(_arr(grad_out)), need_input_grad, accumulate)
        return y, backprop

    def backward(self, grad_out, need_input_grad=True, *, accumulate=True):
        """The explicit chain of the course: gradient of the last array-mode call's output (``model(x)``)
        -> input gradient, parameter gradients accumulated (call zero_grad() between steps), or assigned
        with accumulate=False (a chain that writes each parameter's gradient once: no zero_grad pass
        needed). Several forwards before their backwards: begin_update. Tensor-mode code calls
        loss.backward() instead."""
        if not type(self)._native:
            raise RuntimeError(f"{type(self).__name__}.backward(): this module has no explicit backward (it "
                               "defines only forward); call it on a fastnn.Tensor and use loss.backward()")
        if self._ctx is _NOCTX:
            raise RuntimeError(f"{type(self).__name__}.backward(): no forward on arrays to differentiate "
                               "(call model(x_array) first, or use loss.backward() with tensors)")
        return self._bwd(self._ctx, np.asarray(_arr(grad_out)), need_input_grad, accumulate)

    def _fusable(self):
        """Whether this module runs through its kernel pair (built-in, no hooks)."""
        return (type(self)._native or type(self)._handwritten) and not (self._forward_hooks or self._forward_pre_hooks)

    def _fwd(self, x):
        if type(self)._handwritten:
            return np.asarray(self.forward(x)), None
        raise NotImplementedError(f"{type(self).__name__} has no kernel pair")

    def _bwd(self, ctx, g, need_input_grad, accumulate=True):
        if type(self)._handwritten:
            return self.backward(g)
        raise NotImplementedError(f"{type(self).__name__} has no kernel pair")

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, inputs, output) -> None or a replacement output, after every call."""
        return _add_hook(self._forward_hooks, hook, prepend)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, inputs) -> None or replacement inputs, before every call."""
        return _add_hook(self._forward_pre_hooks, hook, prepend)

    # ---- workspaces ----
    def _buf(self, key, shape, dtype):
        """An array for (key, shape, dtype) that nobody outside this module's workspace holds."""
        return self._ws.get(key, shape, dtype)

    def _input(self, x, dtype):
        """x as an array of `dtype`: converted once into a workspace (ints and other floats), else a
        clear TypeError."""
        if type(x) is np.ndarray and x.dtype == dtype:
            return x
        x = np.asarray(_arr(x))
        if x.dtype == dtype:
            return x
        if x.dtype.kind not in "fiub":
            raise TypeError(f"{self._name()}: expected a numeric array, got dtype {x.dtype}")
        buf = self._buf("_in", x.shape, dtype)
        np.copyto(buf, x, casting="unsafe")
        return buf

    def _name(self):
        return repr(self).split("\n")[0]

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_ws"], d["_ctx"] = Workspace(), _NOCTX
        d.pop("_pk", None)  # packed weights (Linear's, for inference) are rebuilt on use
        return d

    def __deepcopy__(self, memo):
        """An independent copy (parameters, buffers, settings); its parameters are packed into an arena
        of their own, so the copy trains like the original."""
        root = "_fastnn_root" not in memo
        if root:
            memo["_fastnn_root"] = True
        try:
            new = type(self).__new__(type(self))
            memo[id(self)] = new
            new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        finally:
            if root:
                del memo["_fastnn_root"]
        if root:
            params = new._param_list()
            if params:
                try:
                    pack(params)
                except TypeError:
                    pass
        return new

    def __setstate__(self, state):
        self.__dict__.update(state)
        for k, v in (("_ws", Workspace()), ("_ctx", _NOCTX), ("_forward_hooks", OrderedDict()),
                     ("_forward_pre_hooks", OrderedDict()), ("_non_persistent", set())):
            self.__dict__.setdefault(k, v)

    # ---- modes ----
    def train(self, mode=True):
        """Training mode: batch statistics in BatchNorm, dropout and random RReLU slopes active."""
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
            m.__dict__.pop("_pk", None)  # packed weights re-read the parameters after train() / eval()
        return self

    def eval(self):
        """Inference mode: running statistics, no dropout, mean RReLU slope."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    # ---- traversal ----
    def children(self):
        seen = set()
        for m in self._modules.values():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield m

    def named_children(self):
        seen = set()
        for n, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield n, m

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every submodule, each module once."""
        out, stack, seen = [], [(prefix, self)], set()
        while stack:
            name, m = stack.pop()
            if remove_duplicate:
                if id(m) in seen:
                    continue
                seen.add(id(m))
            out.append((name, m))
            kids = [(f"{name}.{n}" if name else n, c) for n, c in m._modules.items() if c is not None]
            stack.extend(reversed(kids))
        return iter(out)

    def _named_members(self, kind, prefix="", recurse=True, remove_duplicate=True):
        seen, out = set(), []
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for pname, p in getattr(m, kind).items():
                if p is None or (remove_duplicate and id(p) in seen):
                    continue
                seen.add(id(p))
                out.append((f"{mname}.{pname}" if mname else pname, p))
        return out

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs, each parameter once, in registration order."""
        return iter(self._named_members("_parameters", prefix, recurse, remove_duplicate))

    def parameters(self, recurse=True):
        return iter([p for _, p in self._named_members("_parameters", "", recurse)])

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return iter(self._named_members("_buffers", prefix, recurse, remove_duplicate))

    def buffers(self, recurse=True):
        return iter([b for _, b in self._named_members("_buffers", "", recurse)])

    def apply(self, fn):
        """fn(m) for every submodule (children first) and then this module; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- parameters in bulk ----
    def _param_list(self):
        return [p for _, p in self._named_members("_parameters")]

    def _saved_params(self):
        """(version counter, version, parameter) of each distinct counter behind this module's parameters
        (one per arena), for a graph node's version check; cached until parameters move."""
        c = self.__dict__.get("_vsrc")
        if c is None or c[0] != generation():
            seen, srcs = set(), []
            for p in self._param_list():
                v = _counter(p)
                if id(v) not in seen:
                    seen.add(id(v))
                    srcs.append(p)
            c = self.__dict__["_vsrc"] = (generation(), srcs)
        return [_saved(p) for p in c[1]]

    def arena(self):
        """The ArenaRange holding this module's parameters (packing them into one if needed)."""
        return pack(self._param_list())

    def zero_grad(self, set_to_none=True):
        """Zero every parameter gradient (one fill over the arena range when packed). set_to_none is
        accepted for PyTorch compatibility: gradients live in the arena and are zeroed."""
        params = self._param_list()
        if not params:
            return
        a = params[0]._arena
        if a is not None and all(p._arena is a for p in params):
            lo = min(p._offset for p in params)
            hi = max(p._offset + p._a.size for p in params)
            if hi - lo == sum(p._a.size for p in params):
                a.grad[lo:hi] = 0
                return
        for p in params:
            p._g[...] = 0

    def manual_seed(self, seed):
        """The model's own generator: reseed every random layer below (Dropout, RReLU) from `seed` and
        its position, so the same seed replays the same masks whatever else used the global generator."""
        from .._random import stream_seed

        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
        for i, m in enumerate(self.modules()):
            if hasattr(m, "_base") and hasattr(m, "_calls"):
                m._base = stream_seed(int(seed), 1000 + i)
                m._calls = 0
        return self

    def freeze(self):
        """Make this module constant: its parameters stop training (requires_grad = False) and its buffers
        stop changing -- a frozen BatchNorm normalizes with its running statistics even in training mode
        and never updates them. train(), eval() and fit keep it frozen; unfreeze() undoes it. Dropout and
        RReLU inside a frozen module still draw in training mode (freezing stops learning, not
        regularization). PyTorch's idiom, requires_grad_(False), keeps PyTorch's meaning: the parameters
        stop, but a BatchNorm in training mode still uses and updates its batch statistics."""
        for m in self.modules():
            m.__dict__["_frozen"] = True
        for p in self.parameters():
            p.requires_grad = False
        return self

    def unfreeze(self):
        """Undo freeze(): parameters train again and buffers follow the training mode."""
        for m in self.modules():
            m.__dict__["_frozen"] = False
        for p in self.parameters():
            p.requires_grad = True
        return self

    @property
    def frozen(self):
        """True after freeze() (until unfreeze())."""
        return self.__dict__.get("_frozen", False)

    @property
    def regularizer(self):
        ws = [p for n, p in self._parameters.items() if p is not None and p.kind == "weight"]
        return ws[0].regularizer if ws else None

    @regularizer.setter
    def regularizer(self, reg):
        """Attach a penalty to this module's weights (every weight below it; biases are exempt)."""
        for p in self.parameters():
            if p.kind == "weight":
                p.regularizer = reg

    def has_trainable(self):
        """Any parameter with requires_grad (a short-circuit walk)."""
        for p in self._parameters.values():
            if p is not None and p.requires_grad:
                return True
        for m in self._modules.values():
            if m is not None and m.has_trainable():
                return True
        return False

    def num_parameters(self, trainable_only=False):
        return sum(p._a.size for p in self.parameters() if p.requires_grad or not trainable_only)

    @property
    def dtype(self):
        for p in self.parameters():
            return p._a.dtype
        return None

    def to(self, *args, **kwargs):
        """to(dtype) converts parameters and floating buffers (repacked into a fresh arena; gradients
        zeroed); to("cpu") / to(device) is accepted and changes nothing (fastnn runs on the CPU)."""
        dtype = kwargs.pop("dtype", None)
        _check_device(kwargs.pop("device", None))
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to(): unexpected argument(s) {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str) or type(a).__name__ == "device":
                _check_device(a)
            elif a is not None:
                dtype = a
        if dtype is None:
            return self
        dtype = _dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype: expected float32 or float64, got {dtype}")
        if self.dtype == dtype and all(b is None or b._a.dtype.kind != "f" or b._a.dtype == dtype
                                       for b in self.buffers()):
            return self
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    p._a = np.ascontiguousarray(p._a, dtype=dtype).copy()
                    p._g = np.zeros_like(p._a)
                    p._arena, p._gt = None, None
            for name, b in list(m._buffers.items()):
                if b is not None and b._a.dtype.kind == "f":
                    b._a = b._a.astype(dtype)
            m._ws.clear()
            m.__dict__["_ctx"] = _NOCTX
            if "_dtype" in m.__dict__:
                m._dtype = dtype
        params = self._param_list()
        if params:
            pack(params)
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    def half(self):
        raise NotImplementedError("Module.half(): fastnn's kernels compute in float32 or float64")

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        raise NotImplementedError("Module.cuda(): fastnn runs on the CPU only; drop .cuda() or use .to('cpu')")

    def share_memory(self):
        return self

    # ---- state ----
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Flat dotted keys -> tensors sharing memory with the parameters and buffers (as PyTorch; copy
        them, e.g. copy.deepcopy(model.state_dict()), to keep a snapshot while training goes on).
        Keys are PyTorch's ("0.weight", "1.running_mean", "1.num_batches_tracked", ...)."""
        sd = OrderedDict() if destination is None else destination
        for mname, m in self.named_modules(prefix=prefix.rstrip(".")):
            for pname, p in m._parameters.items():
                if p is not None:
                    sd[f"{mname}.{pname}" if mname else pname] = p if keep_vars else _wrap(p._a)
            for bname, b in m._buffers.items():
                if b is not None and bname not in m._non_persistent:
                    sd[f"{mname}.{bname}" if mname else bname] = b if keep_vars else _wrap(b._a)
        return sd

    def _state_targets(self):
        t = OrderedDict()
        for mname, m in self.named_modules():
            for pname, p in m._parameters.items():
                if p is not None:
                    t[f"{mname}.{pname}" if mname else pname] = p._a
            for bname, b in m._buffers.items():
                if b is not None and bname not in m._non_persistent:
                    t[f"{mname}.{bname}" if mname else bname] = b._a
        return t

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values (tensors or arrays) in by key. strict=True: missing or unexpected keys raise
        StateDictError (a KeyError); a shape mismatch raises ValueError naming the key. Everything is
        checked before anything is written, so a refused load changes nothing.
        Returns (missing_keys, unexpected_keys)."""
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"state_dict: expected a mapping, got {type(state_dict).__name__}")
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        if strict and (missing or unexpected):
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__}: missing keys "
                                 f"{missing}, unexpected keys {unexpected}")
        plan = []
        for k, dst in targets.items():
            if k not in state_dict:
                continue
            src = np.asarray(_arr(state_dict[k]))
            if src.shape != dst.shape:
                raise ValueError(f"load_state_dict: size mismatch for {k}: copying a param with shape "
                                 f"{tuple(src.shape)}, the shape in the current model is {tuple(dst.shape)}")
            if src.dtype.kind not in "fiub":
                raise TypeError(f"load_state_dict: {k}: expected a numeric array, got dtype {src.dtype}")
            if dst.dtype.kind in "iu" and src.size:  # counters (num_batches_tracked): whole, in range
                lo = 0 if k.endswith("num_batches_tracked") else np.iinfo(dst.dtype).min
                hi = np.iinfo(dst.dtype).max // 2
                v = src.astype(np.float64) if src.dtype.kind == "f" else src
                if (src.dtype.kind == "f" and not np.all(np.isfinite(v) & (v == np.floor(v)))) or v.min() < lo \
                        or v.max() > hi:
                    raise ValueError(f"load_state_dict: {k}: expected whole numbers in [{lo}, {hi}], got "
                                     f"{src.reshape(-1)[:4].tolist()}")
            plan.append((dst, src))
        for dst, src in plan:
            np.copyto(dst, src, casting="unsafe")
        wrote_raw()
        return IncompatibleKeys(missing, unexpected)

    # ---- architecture (what a checkpoint stores to rebuild the model) ----
    def get_config(self):
        """Constructor arguments that rebuild this module (``type(m)(**m.get_config())``)."""
        if not type(self).__module__.startswith("fastnn.") and not self._config_keys:
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

    def __dir__(self):
        return sorted(set(super().__dir__()))

    def summary(self, input_shape=None, dtype=None):
        """A table of layers, output shapes (given the shape of one sample) and parameter counts."""
        from ..autograd import no_grad

        shape_of = {}
        if input_shape is not None:
            was = [(m, m.training) for m in self.modules()]
            self.eval()

            def record(mod, i, o):
                shape_of[id(mod)] = tuple(np.shape(_arr(o)))
            handles = [m.register_forward_hook(record) for m in self.modules() if not m._modules]
            try:
                with no_grad():
                    self(_wrap(np.zeros((2,) + tuple(input_shape), dtype or self.dtype or np.float32)))
            finally:
                for h in handles:
                    h.remove()
                for m, t in was:
                    m.__dict__["training"] = t
        rows = []
        for name, m in self.named_modules():
            if m._modules:
                continue
            n = sum(p._a.size for p in m._parameters.values() if p is not None)
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


def _add_hook(d, hook, prepend):
    if not callable(hook):
        raise TypeError(f"hook: expected a callable, got {type(hook).__name__}")
    key = object()
    d[key] = hook
    if prepend:
        d.move_to_end(key, last=False)

    class _H:
        def remove(self_):
            d.pop(key, None)

        def __enter__(self_):
            return self_

        def __exit__(self_, *exc):
            self_.remove()
    return _H()


