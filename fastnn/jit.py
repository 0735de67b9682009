"""fastnn.jit: ``script``, ``trace``, ``save``, ``load``, ``freeze`` and ``optimize_for_inference`` with
torch.jit's names -- what the textbook uses to ship a trained model.

This is not TorchScript. ``script(model)`` and ``trace(model, example)`` record the model's ``forward`` as a
*graph*: the calls it makes to fastnn layers, tensor methods, operators and fastnn functions, with the
tensor shapes left symbolic (``x.view(x.size(0), -1)`` keeps working for any batch size). They record it
the same way, by running ``forward`` once on symbolic inputs (torch.fx's method); ``trace`` then also runs
the graph and the original on the example and checks that they agree. The result is a
:class:`GraphModule`: it computes what the original computes, with the same layers and parameters (a
model of built-in layers, such as a ``Sequential``, runs its fused compiled chain), trains, and switches
``train()`` / ``eval()`` like any module.

``jit.save(m, path)`` (or ``m.save(path)``) writes the graph, the layers' architectures and the weights in
fastnn's checkpoint format; ``jit.load(path)`` rebuilds the module from the file alone, without the model's
Python class and without running any code from the file: a graph names only fastnn layers, tensor methods
and fastnn functions, checked against allow-lists before anything runs.

What cannot be recorded, and says so: ``forward`` code whose path depends on tensor *values* (``if
x.sum() > 0``), Python loops over a tensor, and calls into libraries other than fastnn on tensors. Loops
and branches on Python values (``for layer in self.layers``, ``if self.use_bn``) are unrolled, as
torch.jit.trace does.
"""
import functools
import inspect
import numbers
import sys

import numpy as np

from . import _archive, _safetensors, _torchfile
from ._version import __version__
from ._random import default_generator
from .autograd import no_grad
from .nn import functional as _functional
from .nn.module import Module
from .nn.parameter import Parameter
from .tensor import Tensor, _wrap

__all__ = ["script", "trace", "save", "load", "freeze", "optimize_for_inference", "GraphModule", "ScriptModule",
           "TracingError", "is_scripting", "is_tracing", "ignore", "unused", "export", "annotate"]


class TracingError(RuntimeError):
    """forward cannot be recorded as a graph (see the module documentation)."""


# ---------------------------------------------------------------------------------------------------
# what a graph may call: fastnn's own functions and tensor methods, nothing else

@functools.lru_cache(maxsize=1)
def _fastnn_functions():
    """{qualified name: (module, attribute)} of every public fastnn function a graph may call: the
    top-level names (as the package face shows them to a forward that calls ``torch.cat``; the face is
    already loaded, being this module's parent package) and nn.functional's."""
    face = sys.modules[__name__.partition(".")[0]]
    out = {}
    for mod, prefix in ((face, "fastnn."), (_functional, "fastnn.nn.functional.")):
        for k in dir(mod):
            f = getattr(mod, k, None)
            if k.startswith("_") or isinstance(f, type) or not callable(f):
                continue
            if getattr(f, "__module__", "") and str(getattr(f, "__module__", "")).startswith("fastnn"):
                out[prefix + k] = (mod, k)
    return out


_DUNDERS = ("__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__ "
            "__rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ __neg__ __pos__ __abs__ "
            "__invert__ __and__ __rand__ __or__ __ror__ __xor__ __rxor__ __lt__ __le__ __gt__ __ge__ __eq__ "
            "__ne__ __getitem__").split()
_ATTRS = ("shape", "T", "mT", "dtype", "ndim", "data", "device", "is_cuda", "requires_grad")
_UNSAFE_METHODS = {"apply_", "register_hook", "backward", "retain_grad", "share_memory_", "numpy", "tolist",
                   "item", "data_ptr", "detach_", "requires_grad_"}


def _method_ok(name):
    if name in _DUNDERS:
        return True
    if name.startswith("_") or name in _UNSAFE_METHODS:
        return False
    return callable(getattr(Tensor, name, None)) or name in ("numel",)


# ---------------------------------------------------------------------------------------------------
# the graph: nodes are dicts (JSON); arguments reference earlier nodes by index

class Graph:
    """A recorded forward: ``inputs`` (names and defaults) and ``nodes`` (input / module / method /
    function / getattr / state / const / output)."""

    def __init__(self):
        self.nodes = []
        self.inputs = []  # [name, has_default, default]

    def add(self, **node):
        self.nodes.append(node)
        return len(self.nodes) - 1

    def __str__(self):
        lines = [f"graph({', '.join(n for n, _, _ in self.inputs)}):"]
        for i, n in enumerate(self.nodes):
            op = n["op"]
            if op in ("input", "state"):
                lines.append(f"  %{i} = {op}[{n['target']}]")
            elif op == "const":
                lines.append(f"  %{i} = const")
            elif op == "output":
                lines.append(f"  return {_show(n['args'])}")
            else:
                lines.append(f"  %{i} = {op}[{n['target']}]({_show(n.get('args', []))}"
                             f"{', ' + _show(n['kwargs']) if n.get('kwargs') else ''})")
        return "\n".join(lines)


def _show(v):
    if isinstance(v, dict):
        if "node" in v and len(v) == 1:
            return f"%{v['node']}"
        return "{" + ", ".join(f"{k}: {_show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return ", ".join(_show(x) for x in v)
    return repr(v)


# ---------------------------------------------------------------------------------------------------
# recording

class _Proxy:
    """A symbolic value while forward is recorded: every operation on it adds a node."""

    __slots__ = ("_rec", "_i")

    def __init__(self, rec, i):
        self._rec, self._i = rec, i

    def __getattr__(self, name):
        if name in _ATTRS:
            return self._rec.node("getattr", name, [self])
        if not _method_ok(name):
            raise TracingError(f"jit: forward uses .{name} on a tensor, which a graph cannot record")
        return lambda *a, **k: self._rec.node("method", name, [self, *a], k)

    def __bool__(self):
        raise TracingError("jit: forward branches on a tensor's value (if/while on a tensor, or bool(tensor)): a "
                           "graph cannot record data-dependent control flow; keep such code out of forward or "
                           "compute the condition from Python values")

    def __iter__(self):
        raise TracingError("jit: forward iterates over a tensor (for x in t, or unpacking t): unknown length when "
                           "recording; index it explicitly (t[0], t[1]) or use t.unbind()")

    def __len__(self):
        raise TracingError("jit: len() of a tensor in forward: use x.size(0) / x.shape[0]")

    def __index__(self):
        raise TracingError("jit: a tensor value used as a Python int in forward (range(), list index): not "
                           "recordable")

    def __repr__(self):
        return f"<jit value %{self._i}>"

    def __hash__(self):
        return id(self)

    def __setitem__(self, key, value):
        self._rec.node("method", "__setitem__", [self, key, value], {})


def _dunder(name):
    def f(self, *args):
        return self._rec.node("method", name, [self, *args], {})
    f.__name__ = name
    return f


for _n in _DUNDERS:
    setattr(_Proxy, _n, _dunder(_n))


def _has_proxy(v, depth=0):
    if isinstance(v, _Proxy):
        return True
    if depth < 8 and isinstance(v, (list, tuple)):
        return any(_has_proxy(x, depth + 1) for x in v)
    if depth < 8 and isinstance(v, dict):
        return any(_has_proxy(x, depth + 1) for x in v.values())
    return False


class _Recorder:
    """Runs forward on proxies with fastnn's functions, Module.__call__ and Tensor's operators redirected
    to record nodes (restored afterwards)."""

    def __init__(self, root):
        self.root, self.g = root, Graph()
        self.state_ids = {}
        for name, t in list(root.named_parameters()) + list(root.named_buffers()):
            self.state_ids.setdefault(id(t), name)
        self.paths = {id(m): name for name, m in root.named_modules()}
        self.consts = []  # arrays captured from forward
        self.state_nodes = {}

    def node(self, op, target, args, kwargs=None):
        i = self.g.add(op=op, target=target, args=self.enc(list(args)),
                       kwargs={k: self.enc(v) for k, v in (kwargs or {}).items()})
        return _Proxy(self, i)

    def enc(self, v, depth=0):
        """A call argument as JSON: node refs, constants, and tensors (model state by name, others copied)."""
        if depth > 16:
            raise TracingError("jit: arguments nested too deeply")
        if isinstance(v, _Proxy):
            return {"node": v._i}
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, numbers.Integral):
            return int(v)
        if isinstance(v, numbers.Real):
            x = float(v)
            return x if np.isfinite(x) else {"float": repr(x)}
        if isinstance(v, Tensor):
            return {"node": self.tensor_node(v)}
        if isinstance(v, np.ndarray):
            return {"node": self.const_node(v, False)}
        if isinstance(v, slice):
            return {"slice": [self.enc(v.start, depth + 1), self.enc(v.stop, depth + 1), self.enc(v.step, depth + 1)]}
        if v is Ellipsis:
            return {"ellipsis": True}
        if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
            return {"dtype": str(np.dtype(v))}
        if isinstance(v, tuple):
            return {"tuple": [self.enc(x, depth + 1) for x in v]}
        if isinstance(v, list):
            return [self.enc(x, depth + 1) for x in v]
        if isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                raise TracingError("jit: dicts in forward need string keys")
            return {"dict": {k: self.enc(x, depth + 1) for k, x in v.items()}}
        raise TracingError(f"jit: forward passes a {type(v).__name__} to a recorded call; only tensors, numbers, "
                           "strings, slices, dtypes and containers of them can be recorded")

    def tensor_node(self, t):
        name = self.state_ids.get(id(t))
        if name is not None:
            if name not in self.state_nodes:
                self.state_nodes[name] = self.g.add(op="state", target=name)
            return self.state_nodes[name]
        return self.const_node(t._a, t.requires_grad)

    def const_node(self, a, requires_grad):
        self.consts.append(np.array(a))
        return self.g.add(op="const", target=len(self.consts) - 1, requires_grad=bool(requires_grad))

    # ---- the redirections ----
    def run(self):
        params = _signature(self.root)
        proxies = []
        for name, has_default, default in params:
            i = self.g.add(op="input", target=name)
            proxies.append(_Proxy(self, i))
            self.g.inputs.append([name, has_default, self.enc(default) if has_default else None])
        saved = []
        rec = self

        def wrap_fn(mod, k, qual):
            orig = getattr(mod, k)

            def f(*a, **kw):
                if _has_proxy(a) or _has_proxy(kw):
                    return rec.node("function", qual, a, kw)
                return orig(*a, **kw)
            saved.append((mod, k, orig))
            setattr(mod, k, f)

        for qual, (mod, k) in _fastnn_functions().items():
            wrap_fn(mod, k, qual)
        orig_call = Module.__call__

        def call(m, *a, **kw):
            if not (_has_proxy(a) or _has_proxy(kw)):
                return orig_call(m, *a, **kw)
            path = rec.paths.get(id(m))
            if path is None:
                raise TracingError(f"jit: forward calls a {type(m).__name__} that is not a submodule of the model "
                                   "(create layers in __init__, not in forward)")
            if _leaf(m) and (m is not rec.root or not _custom_forward(m)):
                return rec.node("module", path, a, kw)
            if m._forward_hooks or m._forward_pre_hooks:
                raise TracingError(f"jit: {path or 'the model'} has forward hooks, which a graph cannot record")
            return type(m).forward(m, *a, **kw)

        Module.__call__ = call
        saved.append((Module, "__call__", orig_call))
        for name in _DUNDERS:  # tensor (op) proxy: let the proxy's reflected operator record it
            orig = getattr(Tensor, name, None)
            if orig is None:
                continue
            saved.append((Tensor, name, orig))
            setattr(Tensor, name, _defer(orig))
        try:
            with no_grad():
                out = call(self.root, *proxies)
        finally:
            for obj, k, orig in reversed(saved):
                setattr(obj, k, orig)
        self.g.add(op="output", target=None, args=[self.enc(out)])
        return self.g


def _defer(orig):
    def f(self, *args):
        if any(isinstance(a, _Proxy) for a in args):
            return NotImplemented
        return orig(self, *args)
    return f


def _signature(model):
    try:
        sig = inspect.signature(type(model).forward)
    except (TypeError, ValueError):
        raise TracingError(f"jit: cannot read the signature of {type(model).__name__}.forward") from None
    out = []
    for i, (name, p) in enumerate(sig.parameters.items()):
        if i == 0:
            continue  # self
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TracingError(f"jit: {type(model).__name__}.forward(*{name}) / (**{name}): give forward named "
                               "parameters to record it")
        has = p.default is not p.empty
        out.append((name, has, p.default if has else None))
    return out


def _leaf(m):
    """A module recorded as one call: a fastnn layer (or container of them) that saves its architecture."""
    return type(m).__module__.startswith("fastnn.") and _archive._serializable(m)


def _custom_forward(m):
    return not type(m).__module__.startswith("fastnn.")


# ---------------------------------------------------------------------------------------------------
# running a graph

def _decode(v, vals):
    if isinstance(v, list):
        return [_decode(x, vals) for x in v]
    if not isinstance(v, dict):
        return v
    if "node" in v:
        return vals[v["node"]]
    if "tuple" in v:
        return tuple(_decode(x, vals) for x in v["tuple"])
    if "dict" in v:
        return {k: _decode(x, vals) for k, x in v["dict"].items()}
    if "slice" in v:
        return slice(*(_decode(x, vals) for x in v["slice"]))
    if "ellipsis" in v:
        return Ellipsis
    if "dtype" in v:
        return np.dtype(v["dtype"])
    if "float" in v:
        return float(v["float"])
    raise ValueError(f"jit graph: unknown argument {sorted(v)}")


class GraphModule(Module):
    """A recorded model: runs its graph with the original's layers and parameters (see fastnn.jit).

    Attributes: ``graph`` (printable), ``code`` (the graph as text), ``original_name``. ``save(path)``
    writes it; :func:`fastnn.jit.load` reads it back."""

    def __init__(self, graph, root, consts, original_name="Module"):
        super().__init__()
        self._graph, self._consts, self.original_name = graph, list(consts), original_name
        _validate(graph, len(self._consts), _fastnn_functions())
        for k, m in root._modules.items():
            self.add_module(k, m)
        for k, p in root._parameters.items():
            self.register_parameter(k, p)
        for k, b in root._buffers.items():
            self.register_buffer(k, b, persistent=k not in root._non_persistent)
        self._root = root
        self.training = root.training

    @property
    def graph(self):
        return self._graph

    @property
    def code(self):
        return str(self._graph)

    def _state(self, name):
        obj = self._root
        *path, last = name.split(".")
        for p in path:
            obj = obj._modules[p]
        t = obj._parameters.get(last)
        return t if t is not None else obj._buffers[last]

    def forward(self, *args, **kwargs):
        g = self._graph
        names = [n for n, _, _ in g.inputs]
        if len(args) > len(names):
            raise TypeError(f"forward() takes {len(names)} inputs ({', '.join(names)}), got {len(args)}")
        bound = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in names or k in bound:
                raise TypeError(f"forward() got an unexpected or repeated argument {k!r}")
            bound[k] = v
        vals = []
        for n in g.nodes:
            op, t = n["op"], n.get("target")
            if op == "input":
                if t in bound:
                    v = bound[t]
                else:
                    spec = next(s for s in g.inputs if s[0] == t)
                    if not spec[1]:
                        raise TypeError(f"forward() missing the input {t!r}")
                    v = _decode(spec[2], vals)
                vals.append(_wrap(v) if isinstance(v, np.ndarray) else v)
            elif op == "state":
                vals.append(self._state(t))
            elif op == "const":
                c = _wrap(self._consts[t])
                vals.append(c.requires_grad_(True) if n.get("requires_grad") and c._a.dtype.kind == "f" else c)
            elif op == "getattr":
                vals.append(getattr(_decode(n["args"], vals)[0], t))
            elif op == "output":
                return _decode(n["args"], vals)[0]
            else:
                a, k = _decode(n["args"], vals), {key: _decode(v, vals) for key, v in n["kwargs"].items()}
                if op == "module":
                    m = self._root
                    for p in (t.split(".") if t else []):
                        m = m._modules[p]
                    vals.append(m(*a, **k))
                elif op == "method":
                    vals.append(getattr(a[0], t)(*a[1:], **k))
                else:
                    mod, name = _fastnn_functions()[t]
                    vals.append(getattr(mod, name)(*a, **k))
        raise ValueError("jit graph: no output node")

    def train(self, mode=True):
        super().train(mode)
        self._root.train(mode)
        return self

    def save(self, f, _extra_files=None):
        """Write this module (graph, layers, weights) to f; fastnn.jit.load reads it back."""
        return save(self, f)

    def extra_repr(self):
        return f"original_name={self.original_name}"


ScriptModule = GraphModule
RecursiveScriptModule = GraphModule


def _validate(g, n_consts, fns):
    """Refuse a graph that names anything outside the allow-lists (before anything runs)."""
    if not isinstance(g.nodes, list) or not g.nodes or g.nodes[-1].get("op") != "output":
        raise ValueError("jit graph: malformed (no output node)")
    for i, n in enumerate(g.nodes):
        if not isinstance(n, dict):
            raise ValueError("jit graph: malformed node")
        op, t = n.get("op"), n.get("target")
        if op == "method" and not _method_ok(str(t)):
            raise ValueError(f"jit graph: node {i} calls the method {t!r}, which graphs may not call")
        elif op == "function" and t not in fns:
            raise ValueError(f"jit graph: node {i} calls {t!r}, which is not a fastnn function")
        elif op == "getattr" and t not in _ATTRS:
            raise ValueError(f"jit graph: node {i} reads the attribute {t!r}, which graphs may not read")
        elif op == "const" and not (isinstance(t, int) and 0 <= t < n_consts):
            raise ValueError(f"jit graph: node {i} names a constant the file does not hold")
        elif op not in ("input", "module", "method", "function", "getattr", "state", "const", "output"):
            raise ValueError(f"jit graph: node {i} has an unknown operation {op!r}")
        if not isinstance(n.get("args", []), list) or not isinstance(n.get("kwargs", {}), dict):
            raise ValueError(f"jit graph: node {i} is malformed")
        _check_refs(n.get("args", []), i)
        _check_refs(n.get("kwargs", {}), i)


def _check_refs(v, i, depth=0):
    if depth > 32:
        raise ValueError("jit graph: arguments nested too deeply")
    if isinstance(v, list):
        for x in v:
            _check_refs(x, i, depth + 1)
    elif isinstance(v, dict):
        if "node" in v and not (isinstance(v["node"], int) and 0 <= v["node"] < i):
            raise ValueError(f"jit graph: node {i} refers to a later or missing node")
        for x in v.values():
            _check_refs(x, i, depth + 1)


# ---------------------------------------------------------------------------------------------------
# the public functions

def _record(model):
    if isinstance(model, GraphModule):
        return model
    if not isinstance(model, Module):
        raise TypeError(f"jit: expected a fastnn Module, got {type(model).__name__} (functions are not supported: "
                        "wrap the function in a Module's forward)")
    rec = _Recorder(model)
    g = rec.run()
    return GraphModule(g, model, rec.consts, type(model).__name__)


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """A :class:`GraphModule` recorded from obj's forward on symbolic inputs (no example needed): the same
    layers and parameters, shapes kept symbolic. Raises TracingError for forward code a graph cannot hold
    (branches on tensor values)."""
    gm = _record(obj)
    if example_inputs:
        for ex in example_inputs:
            _check_same(obj, gm, ex if isinstance(ex, tuple) else (ex,))
    return gm


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True, example_kwarg_inputs=None, **kwargs):
    """Like script, then run the graph and the model on example_inputs (a tensor or a tuple of them) and
    check that they agree (check_trace=True)."""
    gm = _record(func)
    if example_inputs is None and example_kwarg_inputs is None:
        raise TypeError("trace: example_inputs are required (use jit.script to record without them)")
    ex = example_inputs if isinstance(example_inputs, tuple) else ((example_inputs,) if example_inputs is not None
                                                                    else ())
    if check_trace:
        _check_same(func, gm, ex, example_kwarg_inputs or {}, check_tolerance)
        for extra in check_inputs or ():
            _check_same(func, gm, extra if isinstance(extra, tuple) else (extra,), {}, check_tolerance)
    return gm


def _flat_tensors(v):
    if isinstance(v, Tensor):
        return [v._a]
    if isinstance(v, (list, tuple)):
        return [a for x in v for a in _flat_tensors(x)]
    if isinstance(v, dict):
        return [a for x in v.values() for a in _flat_tensors(x)]
    return [np.asarray(v)]


def _check_same(model, gm, args, kwargs=None, tol=1e-5):
    kwargs = kwargs or {}
    state = default_generator.get_state()
    with no_grad():
        default_generator.set_state(state)
        want = model(*args, **kwargs)
        default_generator.set_state(state)
        got = gm(*args, **kwargs)
    a, b = _flat_tensors(want), _flat_tensors(got)
    if len(a) != len(b) or any(x.shape != y.shape or not np.allclose(x, y, rtol=tol, atol=tol, equal_nan=True)
                               for x, y in zip(a, b)):
        raise TracingError("jit.trace: the recorded graph and the model disagree on the example input (forward "
                           "depends on something the graph cannot see, such as a tensor's value or a global)")


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """An eval-mode copy whose parameters no longer require gradients (torch.jit.freeze)."""
    import copy

    if not isinstance(mod, GraphModule):
        raise TypeError("freeze: expected a module from jit.script or jit.trace")
    m = copy.deepcopy(mod)
    m.eval()
    for p in m.parameters():
        p.requires_grad_(False)
    return m


def optimize_for_inference(mod, other_methods=None):
    """freeze(mod) in eval mode (torch.jit.optimize_for_inference): fastnn's kernels are already compiled."""
    return freeze(mod.eval() if isinstance(mod, GraphModule) else mod)


def is_scripting():
    return False


def is_tracing():
    return False


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    return lambda fn: fn


unused = export = ignore


def annotate(the_type, the_value):
    return the_value


# ---------------------------------------------------------------------------------------------------
# files

def save(m, f, _extra_files=None):
    """Write a GraphModule (graph, the architecture of each layer it calls, weights) to f atomically."""
    if not isinstance(m, GraphModule):
        raise TypeError(f"jit.save: expected a module from jit.script or jit.trace, got {type(m).__name__}")
    arrays, modules = {}, {}
    for n in m._graph.nodes:
        if n["op"] == "module":
            sub = m._root.get_submodule(n["target"])
            modules[n["target"]] = _archive._architecture(sub)
    for name, t in m._root.state_dict().items():
        arrays[f"state/{name}"] = np.array(t._a, order="C")
    for i, c in enumerate(m._consts):
        arrays[f"const/{i}"] = np.array(c, order="C")
    states = sorted({n["target"] for n in m._graph.nodes if n["op"] == "state"})
    manifest = {"format": _archive.FORMAT, "format_version": _archive.FORMAT_VERSION,
                "fastnn_version": __version__, "kind": "graph", "original_name": m.original_name,
                "training": m.training, "graph": {"inputs": m._graph.inputs, "nodes": m._graph.nodes},
                "modules": modules, "states": states, "n_consts": len(m._consts),
                "frozen": [n for n, p in m._root.named_parameters() if not p.requires_grad]}
    return _archive._write(f, arrays, manifest)


def _graph_from(man, files, name):
    g = Graph()
    g.inputs, g.nodes = man["graph"]["inputs"], man["graph"]["nodes"]
    n_consts = int(man.get("n_consts", 0))
    consts = [files[f"const/{i}"] for i in range(n_consts)]
    fns = _fastnn_functions()
    _validate(g, n_consts, fns)
    root = Module()
    state = {k[len("state/"):]: v for k, v in files.items() if k.startswith("state/")}
    mods = man.get("modules", {})
    for path in sorted(mods, key=lambda p: p.count(".")):
        arch = mods[path]
        expected = _archive._expected_state(arch, path + "." if path else "")
        for k, shape in expected.items():
            if k not in state or tuple(state[k].shape) != shape:
                raise ValueError(f"{name}: layer {path!r} needs {k} of shape {shape} (altered file)")
        if not path:
            raise ValueError(f"{name}: a graph's module paths must be named")
        _place(root, path, _archive._build(arch))
    for key in man.get("states", []):
        *path, last = key.split(".")
        holder = root
        for p in path:
            if p not in holder._modules:
                holder.add_module(p, Module())
            holder = holder._modules[p]
        if key not in state:
            raise ValueError(f"{name}: the graph reads {key!r}, which the file does not hold")
        if last not in holder._parameters and last not in holder._buffers:
            if state[key].dtype.kind == "f":
                holder.register_parameter(last, Parameter(state[key]))
            else:
                holder.register_buffer(last, _wrap(state[key]))
    root.load_state_dict({k: v for k, v in state.items()}, strict=False)
    params = dict(root.named_parameters())
    for n in man.get("frozen", []):
        if n in params:
            params[n].requires_grad = False
    gm = GraphModule(g, root, consts, man.get("original_name", "Module"))
    gm.train(bool(man.get("training", False)))
    return gm


def _place(root, path, module):
    *parents, last = path.split(".")
    holder = root
    for p in parents:
        if p not in holder._modules or holder._modules[p] is None:
            holder.add_module(p, Module())
        holder = holder._modules[p]
    holder.add_module(last, module)


def load(f, map_location=None, _extra_files=None):
    """Read a module written by jit.save (or a fastnn model checkpoint) from the file alone; nothing in the
    file is executed. A damaged, altered or foreign file raises ValueError."""
    raw, name = _archive._read_bytes(f)
    if _torchfile.is_torch_file(raw) or _safetensors.is_safetensors(raw):
        raise ValueError(f"{name}: it holds data (a PyTorch or safetensors file of tensors), not a module (jit.load "
                         "reads what jit.save or fastnn.save(model) wrote)")
    man, files = _archive._guard(lambda: _archive._verify(raw, name), name)
    kind = man.get("kind", "model")
    if kind == "graph":
        return _archive._guard(lambda: _graph_from(man, files, name), name)
    if kind == "model":
        return _archive._guard(lambda: _archive._model_from(man, files, name), name)
    raise ValueError(f"{name}: it holds {'a pickled object' if kind == 'pickle' else 'data'}, not a module "
                     "(jit.load reads what jit.save or fastnn.save(model) wrote)")

