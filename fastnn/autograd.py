"""Define-by-run automatic differentiation, PyTorch's ``torch.autograd``.

Every differentiable operation on a :class:`fastnn.Tensor` that requires a gradient records a
:class:`Node`: the backward function of the op, the op's *per-call context* (what its backward needs:
saved inputs, outputs, masks, random seeds) and one edge per input (the node that produced that input,
or the leaf tensor itself). The context belongs to the call, not to a module instance, so one module
or one tensor may be used any number of times in a forward pass and each use gets its own gradient.

``loss.backward()`` walks the graph from the loss in reverse topological order, sums the gradients that
reach each node, and accumulates leaf gradients into ``leaf.grad`` -- for parameters, straight into the
model's gradient arena, so optimizers and clipping keep their one-fused-call-per-arena design. The
graph's contexts are freed afterwards (``retain_graph=True`` keeps them).

Grad mode is per thread, as in PyTorch: ``no_grad()``, ``enable_grad()``, ``set_grad_enabled(mode)``
and ``inference_mode()`` work as context managers and as decorators. The engine itself is
fastnn._autograd (below fastnn.tensor); this module adds what needs tensors: custom Functions, grad()
and backward() on tensors, gradcheck.
"""
import numpy as np

from . import _autograd
from ._autograd import Node, _mode, edge, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .tensor import Tensor, _wrap

__all__ = ["Node", "Function", "FunctionCtx", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "backward", "grad", "gradcheck"]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(sum of tensors * grad_tensors)/d(leaf) into every leaf's .grad."""
    _autograd.backward(tensors, grad_tensors, retain_graph, create_graph, inputs, wrap=_wrap)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of outputs with respect to inputs, returned (not accumulated into .grad)."""
    return _autograd.grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, wrap=_wrap)


# ---------------------------------------------------------------------------------------------------
# custom differentiable functions (torch.autograd.Function)

class FunctionCtx:
    """The ctx of a custom Function: save_for_backward / saved_tensors, needs_input_grad, and any
    attribute the forward sets."""

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass


def _function_bwd(ctx, g, edges):
    cls, fctx, n_in, slots = ctx
    with no_grad():
        res = cls.backward(fctx, _wrap(g))
    if not isinstance(res, tuple):
        res = (res,)
    grads = [None] * n_in
    for k, i in enumerate(slots):
        if i < len(res) and res[i] is not None:
            grads[k] = np.asarray(getattr(res[i], "_a", res[i]))
    return grads


class Function:
    """Custom differentiable operations, as torch.autograd.Function::

        class Square(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x
            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad
        y = Square.apply(x)

    forward runs without recording a graph; backward returns one gradient per forward argument
    (None for non-tensors). One output tensor is supported."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        fctx = FunctionCtx()
        tens = [(i, a) for i, a in enumerate(args) if isinstance(a, Tensor)]
        fctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad():
            out = cls.forward(fctx, *args)
        if isinstance(out, tuple):
            raise NotImplementedError(f"{cls.__name__}.apply: custom Functions with several outputs")
        if not isinstance(out, Tensor):
            out = _wrap(np.asarray(out))
        if _mode.enabled and any(a.requires_grad for _, a in tens):
            node = Node(_function_bwd, (cls, fctx, len(tens), [i for i, _ in tens]),
                        tuple(edge(a) for _, a in tens))
            res = _wrap(out._a)
            res._node, res.requires_grad = node, True
            return res
        return out


# ---------------------------------------------------------------------------------------------------
# numerical gradient check

def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare the analytic gradients of ``func(*inputs)`` (float64 tensors that require grad) with central
    finite differences, as torch.autograd.gradcheck. Returns True, or raises / returns False."""
    inputs = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    diff = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    for t in diff:
        if t.dtype != np.float64:
            raise ValueError("gradcheck: inputs that require grad must be float64")

    def outputs():
        r = func(*inputs)
        return list(r) if isinstance(r, (tuple, list)) else [r]

    first = outputs()
    slots = [i for i, o in enumerate(first) if isinstance(o, Tensor) and o.requires_grad]
    rng = np.random.default_rng(0)
    for k in slots:
        o = first[k]
        w = rng.standard_normal(o.shape)
        ga = grad([o], diff, grad_outputs=[w], retain_graph=True, allow_unused=True)
        for t, g in zip(diff, ga):
            ana = np.zeros(t.shape) if g is None else np.asarray(g._a, np.float64)
            num = np.zeros(t.shape)
            flat, nf = t._a.reshape(-1), num.reshape(-1)
            for i in range(flat.size):
                old = flat[i]
                with no_grad():
                    flat[i] = old + eps
                    fp = np.array(outputs()[k]._a, np.float64, copy=True)
                    flat[i] = old - eps
                    fm = np.array(outputs()[k]._a, np.float64, copy=True)
                    flat[i] = old
                nf[i] = np.sum(w * (fp - fm)) / (2 * eps)
            if not np.allclose(ana, num, atol=atol, rtol=rtol):
                err = float(np.abs(ana - num).max())
                if raise_exception:
                    raise AssertionError(f"gradcheck: analytic and numerical gradients differ (max abs error "
                                         f"{err:.3e})\nanalytic:\n{ana}\nnumerical:\n{num}")
                return False
    return True
