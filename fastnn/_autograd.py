"""The autograd engine: grad modes, the graph's nodes and the backward pass (fastnn.autograd is its
public face, with custom Functions and gradcheck).

What it records and how backward runs is told in fastnn.autograd's documentation (the public face).

The engine works on tensors without importing fastnn.tensor (which imports it): it reads their graph
fields (``_node``, ``requires_grad``, ``_a``, the view fields) and calls their ``_accumulate``; where it
hands a gradient to user code (hooks, retained grads, grad()'s results) the caller passes ``wrap``, the
function that makes a tensor of an array.
"""
import functools
import threading
import warnings

import numpy as np


class _Mode(threading.local):
    enabled = True
    capture = None  # {id(tensor or node): [grads]} while autograd.grad runs (nothing is accumulated)


_mode = _Mode()


def is_grad_enabled():
    return _mode.enabled


class _GradMode:
    """Context manager and decorator that sets grad mode for its block (the thread's previous mode is
    restored on exit). ``@no_grad`` and ``@no_grad()`` both decorate."""

    _value = None

    def __new__(cls, *args):
        if len(args) == 1 and callable(args[0]) and cls._value is not None and not isinstance(args[0], bool):
            return cls()(args[0])  # bare decorator: @no_grad
        return super().__new__(cls)

    def __init__(self, *args):
        self._prev = []

    def __enter__(self):
        self._prev.append(_mode.enabled)
        _mode.enabled = self._value
        return self

    def __exit__(self, *exc):
        _mode.enabled = self._prev.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            with type(self)():
                return fn(*a, **k)
        return wrapper

    def clone(self):
        return type(self)()


class no_grad(_GradMode):
    """Operations inside record no graph (inference, parameter updates by hand)."""
    _value = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a no_grad block."""
    _value = True


class inference_mode(_GradMode):
    """As no_grad (fastnn has no separate inference tensors). inference_mode(False) records as usual."""
    _value = False

    def __new__(cls, *args):
        if len(args) == 1 and callable(args[0]) and not isinstance(args[0], bool):
            return cls()(args[0])
        return object.__new__(cls)

    def __init__(self, mode=True):
        super().__init__()
        self._value = not bool(mode)

    def __call__(self, fn):
        value = self._value

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with inference_mode(not value):
                return fn(*a, **k)
        return wrapper


class set_grad_enabled:
    """``set_grad_enabled(False)`` switches grad mode off at once; as a context manager it restores the
    previous mode on exit."""

    def __init__(self, mode):
        self._prev = _mode.enabled
        _mode.enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _mode.enabled = self._prev
        return False

    def __call__(self, fn):
        mode = _mode.enabled

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with set_grad_enabled(mode):
                return fn(*a, **k)
        return wrapper


# ---------------------------------------------------------------------------------------------------
# the graph

def _freed(ctx, g, edges):
    raise RuntimeError("Trying to backward through the graph a second time (or to directly access saved "
                       "tensors after they have already been freed). Specify retain_graph=True when calling "
                       ".backward() the first time if you need to backward through it again.")


class Node:
    """One recorded call: ``fn(ctx, grad_out, edges) -> tuple of input gradients`` (one per edge; None
    where an input needs none), its per-call context, and its edges: for each input, the Node that
    produced it, the leaf tensor that accumulates its gradient, or None (no gradient needed)."""

    __slots__ = ("fn", "ctx", "edges", "g", "hooks", "retained", "saved", "__weakref__")

    def __init__(self, fn, ctx, edges):
        self.fn, self.ctx, self.edges = fn, ctx, edges
        self.g = self.hooks = self.retained = self.saved = None

    def name(self):
        n = getattr(self.fn, "__name__", "Op").strip("_")
        n = n[:-4] if n.endswith("_bwd") else n
        return "".join(w[:1].upper() + w[1:] for w in n.split("_")) + "Backward"

    @property
    def next_functions(self):
        return tuple((e if isinstance(e, Node) else None, 0) for e in self.edges)

    def register_hook(self, fn):
        """fn(grad_out) -> None or a replacement gradient, called before this node's backward."""
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(fn)
        return _Handle(self.hooks, fn)

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class _Handle:
    def __init__(self, lst, item):
        self._lst, self._item = lst, item

    def remove(self):
        try:
            self._lst.remove(self._item)
        except ValueError:
            pass


def edge(t):
    """The edge to input tensor t: its producing node, t itself for a leaf that requires grad, else None.
    A view whose base changed in place since takes the base's current history first."""
    if t._base is not None and t._vver != t._ver[0]:
        refresh_view(t)
    n = t._node
    if n is not None:
        return n
    return t if t.requires_grad else None


def _topo(root):
    """Nodes reachable from root, each before every node it feeds from (reverse post-order)."""
    post = []
    seen = {id(root)}
    stack = [(root, iter(root.edges))]
    while stack:
        node, it = stack[-1]
        for e in it:
            if type(e) is Node and id(e) not in seen:
                seen.add(id(e))
                stack.append((e, iter(e.edges)))
                break
        else:
            stack.pop()
            post.append(node)
    post.reverse()
    return post


def deliver(leaf, g, capture):
    """A leaf's gradient: into autograd.grad's capture when one runs (nothing accumulated), else into
    leaf.grad."""
    if capture is not None:
        slot = capture.get(id(leaf))
        if slot is not None:
            slot.append(g)
    else:
        leaf._accumulate(g)


def _run(roots, grads, retain_graph, wrap, capture=None):
    """Propagate grads from root nodes. capture: {id(leaf tensor or node): slot} -- gradients for
    autograd.grad are stored there instead of accumulated into leaves. wrap: array -> tensor, for what
    user code sees (hooks, retained gradients)."""
    if len(roots) == 1:
        order = _topo(roots[0])
    else:
        hub = Node(None, None, tuple(roots))
        order = _topo(hub)[1:]
    for r, g in zip(roots, grads):
        r.g = g if r.g is None else r.g + g
    prev_capture, _mode.capture = _mode.capture, capture
    try:
        for n in order:
            g = n.g
            if g is None:
                continue
            n.g = None
            if n.hooks:
                for h in list(n.hooks):
                    r = h(wrap(g))
                    if r is not None:
                        g = np.asarray(r)
            if n.retained is not None:
                t = n.retained()
                if t is not None:
                    t._grad = wrap(np.array(g, copy=True)) if t._grad is None else t._grad + wrap(g)
            if capture is not None and id(n) in capture:
                capture[id(n)].append(g)
            edges = n.edges
            if n.saved is not None:
                check_saved(n)
            out = n.fn(n.ctx, g, edges)
            if not retain_graph:
                n.fn, n.ctx = _freed, None
            for e, gi in zip(edges, out):
                if e is None or gi is None:
                    continue
                if type(e) is Node:
                    e.g = gi if e.g is None else e.g + gi
                else:
                    deliver(e, gi, capture)
    except BaseException:
        for n in order:  # leave no half-propagated gradient behind on the graph
            n.g = None
        raise
    finally:
        _mode.capture = prev_capture


def check_saved(node):
    """Raise PyTorch's error when a tensor this node's backward reads was changed in place since (the
    version counters: fastnn.tensor)."""
    for v, ver, t in node.saved:
        if v[0] != ver:
            raise RuntimeError(f"one of the variables needed for gradient computation has been modified by an "
                               f"inplace operation: [fastnn.Tensor {list(t._a.shape)} {t._a.dtype}], which is an "
                               f"input of {node.name()}, is at version {v[0]}; expected version {ver} instead. "
                               "Hint: clone() the tensor before changing it in place, or call backward() before "
                               "the change (an optimizer step between a forward and its backward is one).")


def _root_grad(t, grad):
    a = t._a
    if grad is None:
        if a.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs (got shape {tuple(a.shape)})")
        return np.ones(a.shape, a.dtype)
    g = np.asarray(getattr(grad, "_a", grad))
    if g.shape != a.shape:
        if g.size == a.size:
            g = g.reshape(a.shape)
        else:
            raise RuntimeError(f"gradient: expected shape {tuple(a.shape)} (the tensor's), got {tuple(g.shape)}")
    return g.astype(a.dtype, copy=False) if a.dtype.kind == "f" else g


class _LossWatch:
    """Says once, as a warning naming the step, when the scalar a loop backpropagates (its loss) turns NaN
    or infinite; again only after it has been finite in between. Counts scalar backward() calls."""

    steps = 0
    bad = False

    @classmethod
    def see(cls, t):
        cls.steps += 1
        v = t._a
        finite = v.dtype.kind != "f" or bool(np.isfinite(v).all())
        if not finite and not cls.bad:
            warnings.warn(f"the loss is {v.reshape(-1)[0].item()} at step {cls.steps} (backward() call {cls.steps} "
                          "of this process): the gradients and every parameter they reach are no longer finite, "
                          "and the loss stays NaN from here on. Usual causes: inputs on very different scales "
                          "(standardize them), a learning rate too high, log/division of 0 in the loss.",
                          RuntimeWarning, stacklevel=4)
        cls.bad = not finite


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None, *, wrap):
    """Accumulate d(sum of tensors * grad_tensors)/d(leaf) into every leaf's .grad."""
    if create_graph:
        raise NotImplementedError("backward(create_graph=True): fastnn does not build graphs of gradients "
                                  "(no higher-order derivatives)")
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...): use fastnn.autograd.grad(outputs, inputs) instead")
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]
    if len(grad_tensors) != len(tensors):
        raise ValueError(f"grad_tensors: expected {len(tensors)} gradients, got {len(grad_tensors)}")
    roots, grads = [], []
    for t, g in zip(tensors, grad_tensors):
        if g is None and t._a.size == 1:
            _LossWatch.see(t)
        if t._node is None:
            if not t.requires_grad:
                raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
            t._accumulate(_root_grad(t, g))
            continue
        roots.append(t._node)
        grads.append(_root_grad(t, g))
    if roots:
        _run(roots, grads, bool(retain_graph), wrap)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False, *, wrap):
    """The gradients of outputs with respect to inputs, returned (not accumulated into .grad)."""
    if create_graph:
        raise NotImplementedError("grad(create_graph=True): fastnn has no higher-order derivatives")
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    single = not isinstance(inputs, (list, tuple))
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    capture = {}
    keys = []
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        k = id(t._node) if t._node is not None else id(t)
        capture.setdefault(k, [])
        keys.append(k)
    roots, grads = [], []
    for t, g in zip(outputs, grad_outputs):
        if t._node is None:
            if id(t) in capture:
                capture[id(t)].append(_root_grad(t, g))
                continue
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        roots.append(t._node)
        grads.append(_root_grad(t, g))
    if roots:
        _run(roots, grads, bool(retain_graph), wrap, capture)
    out = []
    for t, k in zip(inputs, keys):
        parts = capture[k]
        if not parts:
            if not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
            out.append(None)
            continue
        g = parts[0]
        for p in parts[1:]:
            g = g + p
        out.append(wrap(np.array(g, dtype=t._a.dtype, copy=True)))
    return tuple(out)


def _apply_view(a, steps):
    """The view of array a that steps describe (each: ("i", index), ("r", shape) or ("p", axes))."""
    for kind, arg in steps:
        if kind == "i":
            a = a[arg]
        elif kind == "r":
            v = a.view()
            v.shape = arg  # raises rather than copying: a view recipe never copies
            a = v
        else:
            a = a.transpose(arg)
    return a


def _viewof_bwd(ctx, g, edges):
    steps, shape, dtype = ctx
    gb = np.zeros(shape, dtype)
    np.add(_apply_view(gb, steps), g, out=_apply_view(gb, steps), casting="unsafe")
    return (gb,)


def refresh_view(t):
    """A view whose base was changed in place since its gradient history was made: take it from the
    base's current history (called by autograd.edge)."""
    base = t._base
    if not (_mode.enabled and base.requires_grad):
        t._node, t.requires_grad, t._vver = None, False, t._ver[0]
        return
    t._node = Node(_viewof_bwd, (t._view, base._a.shape, base._a.dtype), (edge(base),))
    t.requires_grad, t._vver = True, t._ver[0]
