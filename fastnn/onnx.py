"""ONNX export: ``fastnn.onnx.export(model, example_input, "model.onnx")`` writes a trained model as an ONNX
graph that onnxruntime (or any ONNX runtime) runs, with a dynamic batch dimension.

The model's ``forward`` is recorded as :mod:`fastnn.jit` records it (layers, tensor methods, operators
and fastnn functions; no branch on tensor values), run once on the example to learn each value's shape,
and each step is written as ONNX operators, the layers' parameters as initializers. The model is
exported in eval mode: dropout is the identity and batch norm uses its running statistics. What has no
ONNX form here (a layer, function or method outside the tables below) is refused with a ValueError
naming it, before anything is written. Needs the ``onnx`` package (``pip install onnx``).
"""
import numpy as np

from . import jit
from . import nn
from .autograd import no_grad
from .tensor import Tensor

__all__ = ["export", "OPSET"]

OPSET = 17
_ACT = {nn.ReLU: "Relu", nn.Sigmoid: "Sigmoid", nn.Tanh: "Tanh", nn.Softsign: "Softsign", nn.SELU: "Selu"}
_ACT_F = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softsign": "Softsign", "selu": "Selu"}
_BINARY = {"__add__": "Add", "__sub__": "Sub", "__mul__": "Mul", "__truediv__": "Div", "__matmul__": "MatMul",
           "add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "matmul": "MatMul", "__pow__": "Pow"}
_RBINARY = {"__radd__": "Add", "__rsub__": "Sub", "__rmul__": "Mul", "__rtruediv__": "Div"}
_IDENTITY_METHODS = {"contiguous", "clone", "detach", "float"}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("fastnn.onnx.export needs the onnx package: pip install onnx") from None
    return onnx


class _Graph:
    """The ONNX graph being built: nodes, initializers and unique names."""

    def __init__(self, onnx):
        self.onnx, self.h = onnx, onnx.helper
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, prefix):
        self.n += 1
        return f"{prefix}_{self.n}"

    def init(self, a, prefix="c"):
        name = self.name(prefix)
        self.inits.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(a), name))
        return name

    def op(self, op_type, inputs, n_out=1, **attrs):
        outs = [self.name(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(self.h.make_node(op_type, list(inputs), outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def ints(self, values):
        return self.init(np.asarray(values, np.int64), "i")


class _Exporter:
    """Turns a recorded graph (fastnn.jit) into ONNX, one node at a time, knowing each value's concrete
    example value (its shape, and the Python value of what is not a tensor)."""

    def __init__(self, g, dtype):
        self.g, self.dtype = g, dtype

    # ---- values: ("t", name) a tensor, ("i", name) a symbolic int as a 1-element int64 tensor ----
    def tensor(self, v, ex):
        if isinstance(v, tuple) and v and v[0] == "t":
            return v[1]
        if isinstance(v, tuple) and v and v[0] == "i":
            return self.g.op("Cast", [v[1]], to=self._onnx_dtype())
        return self.g.init(np.asarray(ex if ex is not None else v, self.dtype))

    def _onnx_dtype(self):
        return self.g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(self.dtype))

    def shape_vector(self, parts):
        """A 1-D int64 tensor from a list of ints and symbolic ints."""
        pieces = [p[1] if isinstance(p, tuple) else self.g.ints([int(p)]) for p in parts]
        return pieces[0] if len(pieces) == 1 else self.g.op("Concat", pieces, axis=0)

    # ---- modules ----
    def module(self, m, x, ex):
        """The ONNX of a fastnn layer applied to value x (example ex); returns the output value."""
        if not type(m).__module__.startswith("fastnn."):  # a user's module: its forward, recorded
            return self.inline(m, [x], [ex])
        for cls in type(m).__mro__:
            f = getattr(self, "_m_" + cls.__name__, None)
            if f is not None and cls.__module__.startswith("fastnn."):
                return f(m, x, ex)
        raise ValueError(f"onnx.export: the layer {type(m).__name__} has no ONNX form here (supported: Linear, "
                         "Conv1d/2d, pooling, batch and layer norm, the activations, dropout, Flatten, containers)")

    def inline(self, m, xs, exs):
        gm = jit._record(m)
        return self.run(gm, xs, exs)

    def _m_Sequential(self, m, x, ex):
        with no_grad():
            for layer in m:
                y = layer(ex)
                x, ex = self.module(layer, x, ex), y
        return x

    def _m_Identity(self, m, x, ex):
        return x

    _m_Dropout = _m_Dropout1d = _m_Dropout2d = _m_Identity

    def _m_RReLU(self, m, x, ex):  # in eval mode: the mean slope
        return ("t", self.g.op("LeakyRelu", [self.tensor(x, ex)], alpha=(m.lower + m.upper) / 2))

    def _m_Linear(self, m, x, ex):
        y = self.g.op("MatMul", [self.tensor(x, ex), self.g.init(m.weight.detach().numpy().T, "weight")])
        if m.bias is not None:
            y = self.g.op("Add", [y, self.g.init(m.bias.detach().numpy(), "bias")])
        return ("t", y)

    def _m__ConvNd(self, m, x, ex):
        if m.padding_mode != "zeros":
            raise ValueError(f"onnx.export: {type(m).__name__} with padding_mode={m.padding_mode!r} (only 'zeros')")
        ins = [self.tensor(x, ex), self.g.init(m.weight.detach().numpy(), "weight")]
        if m.bias is not None:
            ins.append(self.g.init(m.bias.detach().numpy(), "bias"))
        pads = [p[0] for p in m._pads] + [p[1] for p in m._pads]
        return ("t", self.g.op("Conv", ins, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                               dilations=list(m.dilation), pads=pads, group=m.groups))

    def _m__MaxPool(self, m, x, ex):
        if m.return_indices:
            raise ValueError("onnx.export: MaxPool with return_indices=True")
        return ("t", self.g.op("MaxPool", [self.tensor(x, ex)], kernel_shape=list(m.kernel_size),
                               strides=list(m.stride), pads=list(m.padding) * 2, dilations=list(m.dilation),
                               ceil_mode=int(m.ceil_mode)))

    def _m__AvgPool(self, m, x, ex):
        if m.divisor_override is not None:
            raise ValueError("onnx.export: AvgPool with divisor_override")
        return ("t", self.g.op("AveragePool", [self.tensor(x, ex)], kernel_shape=list(m.kernel_size),
                               strides=list(m.stride), pads=list(m.padding) * 2, ceil_mode=int(m.ceil_mode),
                               count_include_pad=int(m.count_include_pad)))

    def _m__Adaptive(self, m, x, ex):
        spatial = ex.shape[2:]
        out = [n if o is None else o for n, o in zip(spatial, m.output_size)]
        mx = "Max" in type(m).__name__
        if all(o == 1 for o in out):
            return ("t", self.g.op("GlobalMaxPool" if mx else "GlobalAveragePool", [self.tensor(x, ex)]))
        if any(n % o for n, o in zip(spatial, out)) or m.return_indices:
            raise ValueError(f"onnx.export: {type(m).__name__} to {tuple(out)} from {tuple(spatial)} (only output "
                             "sizes that divide the input evenly, or 1)")
        k = [n // o for n, o in zip(spatial, out)]
        return ("t", self.g.op("MaxPool" if mx else "AveragePool", [self.tensor(x, ex)], kernel_shape=k, strides=k))

    def _m__BatchNorm(self, m, x, ex):
        if m.running_mean is None:
            raise ValueError(f"onnx.export: {type(m).__name__} without running statistics")
        c = m.num_features
        w = m.weight.detach().numpy() if m.weight is not None else np.ones(c, self.dtype)
        b = m.bias.detach().numpy() if m.bias is not None else np.zeros(c, self.dtype)
        ins = [self.tensor(x, ex), self.g.init(w), self.g.init(b), self.g.init(m.running_mean.numpy()),
               self.g.init(m.running_var.numpy())]
        return ("t", self.g.op("BatchNormalization", ins, epsilon=m.eps))

    def _m_LayerNorm(self, m, x, ex):
        shape = m.normalized_shape
        w = m.weight.detach().numpy() if m.weight is not None else np.ones(shape, self.dtype)
        ins = [self.tensor(x, ex), self.g.init(w)]
        if m.bias is not None:
            ins.append(self.g.init(m.bias.detach().numpy()))
        return ("t", self.g.op("LayerNormalization", ins, axis=-len(shape), epsilon=m.eps))

    def _m_Flatten(self, m, x, ex):
        return self.flatten(x, ex, m.start_dim, m.end_dim)

    def _m_Unflatten(self, m, x, ex):
        dim = m.dim % ex.ndim
        parts = [self.dim(x, i) for i in range(dim)] + list(m.unflattened_size)
        parts += [self.dim(x, i) for i in range(dim + 1, ex.ndim)]
        return ("t", self.g.op("Reshape", [self.tensor(x, ex), self.shape_vector(parts)]))

    def _m_PReLU(self, m, x, ex):
        slope = m.weight.detach().numpy()
        if ex.ndim > 2 and slope.size > 1:
            slope = slope.reshape((-1,) + (1,) * (ex.ndim - 2))
        return ("t", self.g.op("PRelu", [self.tensor(x, ex), self.g.init(slope)]))

    def _m__Elementwise(self, m, x, ex):
        t = self.tensor(x, ex)
        name = type(m).__name__
        if type(m) in _ACT:
            return ("t", self.g.op(_ACT[type(m)], [t]))
        if name == "LeakyReLU":
            return ("t", self.g.op("LeakyRelu", [t], alpha=m.negative_slope))
        if name == "ELU":
            return ("t", self.g.op("Elu", [t], alpha=m.alpha))
        if name == "GELU":
            return self.gelu(t, m.approximate)
        if name == "SiLU":
            return ("t", self.g.op("Mul", [t, self.g.op("Sigmoid", [t])]))
        if name == "Softplus":
            return self.softplus(t, m.beta, m.threshold)
        raise ValueError(f"onnx.export: the activation {name} has no ONNX form here")

    def _m__Functional(self, m, x, ex):
        t, name = self.tensor(x, ex), type(m).__name__
        if name in ("Hardtanh", "ReLU6"):
            return ("t", self.g.op("Clip", [t, self.g.init(np.asarray(m.min_val, self.dtype)),
                                            self.g.init(np.asarray(m.max_val, self.dtype))]))
        if name == "Softsign":
            return ("t", self.g.op("Softsign", [t]))
        if name == "LogSigmoid":
            return ("t", self.g.op("Neg", [self.softplus(("t", self.g.op("Neg", [t])), 1.0, 20.0)[1]]))
        if name == "Mish":
            return ("t", self.g.op("Mul", [t, self.g.op("Tanh", [self.softplus(("t", t), 1.0, 20.0)[1]])]))
        if name == "CELU":
            return ("t", self.g.op("Celu", [t], alpha=m.alpha))
        if name == "Hardsigmoid":
            return ("t", self.g.op("HardSigmoid", [t], alpha=1 / 6, beta=0.5))
        if name == "Hardswish":
            return ("t", self.g.op("HardSwish", [t]))
        if name in ("Softmax", "LogSoftmax", "Softmin"):
            axis = m.dim if m.dim is not None else (0 if ex.ndim in (0, 1, 3) else 1)
            src = self.g.op("Neg", [t]) if name == "Softmin" else t
            return ("t", self.g.op("LogSoftmax" if name == "LogSoftmax" else "Softmax", [src], axis=axis))
        raise ValueError(f"onnx.export: the layer {name} has no ONNX form here")

    # ---- shared pieces ----
    def gelu(self, t, approximate):
        half = self.g.init(np.asarray(0.5, self.dtype))
        one = self.g.init(np.asarray(1.0, self.dtype))
        if approximate == "tanh":
            c = self.g.init(np.asarray(np.sqrt(2 / np.pi), self.dtype))
            k = self.g.init(np.asarray(0.044715, self.dtype))
            cube = self.g.op("Mul", [self.g.op("Mul", [t, t]), t])
            inner = self.g.op("Mul", [c, self.g.op("Add", [t, self.g.op("Mul", [k, cube])])])
            gate = self.g.op("Add", [one, self.g.op("Tanh", [inner])])
        else:
            r = self.g.init(np.asarray(1 / np.sqrt(2.0), self.dtype))
            gate = self.g.op("Add", [one, self.g.op("Erf", [self.g.op("Mul", [t, r])])])
        return ("t", self.g.op("Mul", [self.g.op("Mul", [half, t]), gate]))

    def softplus(self, t, beta, threshold):
        t = t[1] if isinstance(t, tuple) else t
        b = self.g.init(np.asarray(beta, self.dtype))
        bx = self.g.op("Mul", [t, b])
        soft = self.g.op("Div", [self.g.op("Softplus", [bx]), b])
        big = self.g.op("Greater", [bx, self.g.init(np.asarray(threshold, self.dtype))])
        return ("t", self.g.op("Where", [big, t, soft]))  # linear above the threshold, as PyTorch

    def dim(self, x, i):
        """Dimension i of tensor value x as a symbolic int."""
        shape = self.g.op("Shape", [x[1] if isinstance(x, tuple) else x])
        return ("i", self.g.op("Gather", [shape, self.g.ints([i])], axis=0))

    def flatten(self, x, ex, start, end):
        nd = ex.ndim
        start, end = start % nd, end % nd
        if end == nd - 1:
            if start == 0:
                return ("t", self.g.op("Reshape", [self.tensor(x, ex), self.g.ints([-1])]))
            parts = [self.dim(x, i) for i in range(start)] + [-1]
        else:
            parts = [self.dim(x, i) for i in range(start)] + [-1] + [self.dim(x, i) for i in range(end + 1, nd)]
        return ("t", self.g.op("Reshape", [self.tensor(x, ex), self.shape_vector(parts)]))

    # ---- a recorded graph ----
    def run(self, gm, xs, exs):
        """Export gm's graph with inputs xs (values) and examples exs; returns the output value(s)."""
        graph, vals, exv = gm._graph, [], []
        names = [n for n, _, _ in graph.inputs]
        bound = dict(zip(names, zip(xs, exs)))
        for node in graph.nodes:
            op, t = node["op"], node.get("target")
            if op == "input":
                if t not in bound:
                    raise ValueError(f"onnx.export: forward's input {t!r} has no example")
                v, e = bound[t]
            elif op == "state":
                e = gm._state(t)
                v = ("t", self.g.init(e.detach().numpy(), "state"))
            elif op == "const":
                e = jit._wrap(gm._consts[t])
                v = ("t", self.g.init(e.numpy(), "const"))
            elif op == "output":
                return self._out(jit._decode(node["args"], vals)[0])
            else:
                a, k = jit._decode(node["args"], vals), {key: jit._decode(x, vals) for key, x in node["kwargs"].items()}
                ea, ek = jit._decode(node["args"], exv), {key: jit._decode(x, exv) for key, x in node["kwargs"].items()}
                e = self._example(gm, node, ea, ek)
                v = self._step(gm, node, a, k, ea, ek, e)
            vals.append(v)
            exv.append(e)
        raise ValueError("onnx.export: the recorded graph has no output")

    def _out(self, v):
        if isinstance(v, tuple) and len(v) == 2 and v[0] == "t" and isinstance(v[1], str):
            return v
        if isinstance(v, (tuple, list)) and v:
            return [self._out(x) for x in v]
        raise ValueError("onnx.export: forward must return tensors")

    @staticmethod
    def _example(gm, node, a, k):
        op, t = node["op"], node["target"]
        with no_grad():
            if op == "module":
                m = gm._root
                for p in (t.split(".") if t else []):
                    m = m._modules[p]
                return m(*a, **k)
            if op == "method":
                return getattr(a[0], t)(*a[1:], **k)
            if op == "getattr":
                return getattr(a[0], t)
            mod, name = jit._fastnn_functions()[t]
            return getattr(mod, name)(*a, **k)

    def _step(self, gm, node, a, k, ea, ek, e):
        op, t = node["op"], node["target"]
        if op == "module":
            m = gm._root
            for p in (t.split(".") if t else []):
                m = m._modules[p]
            if len(a) != 1 or k:
                raise ValueError(f"onnx.export: layer {t!r} called with {len(a)} inputs (one tensor expected)")
            return self.module(m, a[0], ea[0])
        if op == "getattr":
            if t == "shape":
                return [self.dim(a[0], i) for i in range(ea[0].ndim)]
            if t in ("T", "mT") and ea[0].ndim == 2:
                return ("t", self.g.op("Transpose", [self.tensor(a[0], ea[0])], perm=[1, 0]))
            raise ValueError(f"onnx.export: the attribute .{t} of a tensor")
        if op == "method":
            return self.method(t, a, k, ea, e)
        return self.function(t, a, k, ea, e)

    def method(self, name, a, k, ea, e):
        x, ex = a[0], ea[0]
        if name in _BINARY or name in _RBINARY:
            y, ey = a[1], ea[1]
            if not isinstance(x, tuple) and not isinstance(y, tuple) and not isinstance(ex, Tensor):
                return e  # arithmetic on plain numbers
            if _is_int(x) and _is_int(y):
                return ("i", self.g.op(_BINARY.get(name) or _RBINARY[name], [_int_name(self, x), _int_name(self, y)]))
            l, r = (self.tensor(x, ex), self.tensor(y, ey if isinstance(ey, Tensor) else None))
            if name in _RBINARY:
                l, r = r, l
            return ("t", self.g.op(_BINARY.get(name) or _RBINARY[name], [l, r]))
        if name == "__neg__" or name == "neg":
            return ("t", self.g.op("Neg", [self.tensor(x, ex)]))
        if name in _IDENTITY_METHODS:
            return x
        if name in ("size", "dim") or name == "__getitem__" and isinstance(x, list):
            if name == "dim":
                return ex.ndim
            if name == "__getitem__":
                return x[a[1]]
            i = a[1] if len(a) > 1 else k.get("dim")
            return self.dim(x, i % ex.ndim) if i is not None else [self.dim(x, j) for j in range(ex.ndim)]
        if name in ("view", "reshape"):
            shape = a[1] if len(a) == 2 and isinstance(a[1], (list, tuple)) and not _is_int(a[1]) else a[1:]
            return ("t", self.g.op("Reshape", [self.tensor(x, ex), self.shape_vector(list(shape))]))
        if name == "flatten":
            return self.flatten(x, ex, a[1] if len(a) > 1 else k.get("start_dim", 0),
                                a[2] if len(a) > 2 else k.get("end_dim", -1))
        if name in ("relu", "sigmoid", "tanh"):
            return ("t", self.g.op(_ACT_F[name], [self.tensor(x, ex)]))
        if name in ("permute", "transpose", "t"):
            nd = ex.ndim
            if name == "permute":
                perm = list(a[1]) if len(a) == 2 and isinstance(a[1], (list, tuple)) else list(a[1:])
            else:
                d0, d1 = (a[1] % nd, a[2] % nd) if name == "transpose" else (0, 1)
                perm = list(range(nd))
                perm[d0], perm[d1] = perm[d1], perm[d0]
            return ("t", self.g.op("Transpose", [self.tensor(x, ex)], perm=[p % nd for p in perm]))
        if name in ("mean", "sum"):
            dims = a[1] if len(a) > 1 else k.get("dim", k.get("axis"))
            keep = int(bool(k.get("keepdim", k.get("keepdims", a[2] if len(a) > 2 else False))))
            return self.reduce(name, x, ex, dims, keep)
        if name in ("squeeze", "unsqueeze"):
            d = a[1] if len(a) > 1 else k.get("dim")
            if d is None:
                raise ValueError(f"onnx.export: Tensor.{name}() without a dim")
            d = d % (ex.ndim + (name == "unsqueeze"))
            return ("t", self.g.op("Squeeze" if name == "squeeze" else "Unsqueeze",
                                   [self.tensor(x, ex), self.g.ints([d])]))
        if name in ("softmax", "log_softmax"):
            return ("t", self.g.op("Softmax" if name == "softmax" else "LogSoftmax", [self.tensor(x, ex)],
                                   axis=a[1] if len(a) > 1 else k["dim"]))
        raise ValueError(f"onnx.export: the tensor method {name}() has no ONNX form here")

    def reduce(self, name, x, ex, dims, keep):
        t = self.tensor(x, ex)
        if dims is None:
            dims = list(range(ex.ndim))
        dims = [d % ex.ndim for d in (dims if isinstance(dims, (list, tuple)) else [dims])]
        if name == "mean":
            return ("t", self.g.op("ReduceMean", [t], axes=dims, keepdims=keep))
        return ("t", self.g.op("ReduceSum", [t, self.g.ints(dims)], keepdims=keep))

    def function(self, target, a, k, ea, e):
        name = target.rsplit(".", 1)[1]
        x, ex = (a[0], ea[0]) if a else (None, None)
        if name in _ACT_F:
            return ("t", self.g.op(_ACT_F[name], [self.tensor(x, ex)]))
        if name == "gelu":
            return self.gelu(self.tensor(x, ex), k.get("approximate", "none"))
        if name == "silu":
            t = self.tensor(x, ex)
            return ("t", self.g.op("Mul", [t, self.g.op("Sigmoid", [t])]))
        if name == "leaky_relu":
            slope = a[1] if len(a) > 1 else k.get("negative_slope", 0.01)
            return ("t", self.g.op("LeakyRelu", [self.tensor(x, ex)], alpha=float(slope)))
        if name == "elu":
            alpha = a[1] if len(a) > 1 else k.get("alpha", 1.0)
            return ("t", self.g.op("Elu", [self.tensor(x, ex)], alpha=float(alpha)))
        if name in ("softmax", "log_softmax"):
            dim = a[1] if len(a) > 1 else k.get("dim")
            return ("t", self.g.op("Softmax" if name == "softmax" else "LogSoftmax", [self.tensor(x, ex)], axis=dim))
        if name == "dropout" or name == "alpha_dropout":
            return x
        if name in ("cat", "concat", "concatenate"):
            dim = a[1] if len(a) > 1 else k.get("dim", 0)
            return ("t", self.g.op("Concat", [self.tensor(v, ev) for v, ev in zip(x, ex)], axis=dim % ex[0].ndim))
        if name == "flatten":
            return self.flatten(x, ex, a[1] if len(a) > 1 else k.get("start_dim", 0),
                                a[2] if len(a) > 2 else k.get("end_dim", -1))
        if name in ("add", "sub", "mul", "div", "matmul"):
            return self.method(name, a, k, ea, e)
        raise ValueError(f"onnx.export: the function {target} has no ONNX form here")


def _is_int(v):
    return isinstance(v, tuple) and len(v) == 2 and v[0] == "i" or isinstance(v, int) and not isinstance(v, bool)


def _int_name(ex, v):
    return v[1] if isinstance(v, tuple) else ex.g.ints([v])


def export(model, args, f, *, input_names=None, output_names=None, opset_version=None, dynamic_axes=None,
           dynamic_batch=True, **kwargs):
    """Write a fastnn model as an ONNX graph.

    Parameters
    ----------
    model : fastnn.nn.Module
        A model of fastnn layers and tensor operations (Sequential or a module with its own forward).
        Exported in eval mode (dropout off, batch norm on running statistics); its mode is restored.
    args : Tensor or tuple of Tensors
        Example input(s): their shapes and dtype give the graph's inputs.
    f : str, path or writable binary file
        Where the .onnx file goes.
    input_names, output_names : list of str, optional
        Names of the graph's inputs and outputs (default ``input``/``input_1``..., ``output``...).
    opset_version : int, optional
        The ONNX opset (default and minimum: 17).
    dynamic_axes : dict, optional
        torch.onnx.export's form, ``{name: {axis: "label"}}`` (or a list of axes): those axes are left
        symbolic. Without it, with ``dynamic_batch=True`` (the default), axis 0 of every input and output
        is the symbolic ``batch``.
    dynamic_batch : bool
        See dynamic_axes.

    Returns
    -------
    onnx.ModelProto
        The model written (checked by ``onnx.checker``).

    Raises
    ------
    ValueError
        A layer, function or method with no ONNX form here, named; nothing is written.

    Examples
    --------
    >>> fastnn.onnx.export(model, fastnn.randn(1, 784), "mlp.onnx")
    >>> import onnxruntime as ort
    >>> ort.InferenceSession("mlp.onnx").run(None, {"input": X_test})[0]
    """
    onnx = _onnx()
    opset = OPSET if opset_version is None else int(opset_version)
    if opset < OPSET:
        raise ValueError(f"opset_version: expected >= {OPSET}, got {opset}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a fastnn Module, got {type(model).__name__}")
    exs = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    if not exs or not all(isinstance(x, (Tensor, np.ndarray)) for x in exs):
        raise TypeError("args: expected a Tensor (or a tuple of Tensors) as the example input")
    exs = tuple(x if isinstance(x, Tensor) else jit._wrap(np.asarray(x)) for x in exs)
    dtype = next((x.numpy().dtype for x in exs if x.numpy().dtype.kind == "f"), np.dtype(np.float32))
    names = list(input_names or (["input"] + [f"input_{i}" for i in range(1, len(exs))]))
    if len(names) != len(exs):
        raise ValueError(f"input_names: {len(names)} names for {len(exs)} inputs")
    was = [m.training for m in model.modules()]
    model.eval()
    try:
        g = _Graph(onnx)
        ex = _Exporter(g, dtype)
        gm = jit._record(model)
        outs = ex.run(gm, [("t", n) for n in names], list(exs))
        with no_grad():
            out_ex = gm(*exs)
    finally:
        for m, t in zip(model.modules(), was):
            m.training = t
    outs = outs if isinstance(outs, list) else [outs]
    out_ex = list(out_ex) if isinstance(out_ex, (tuple, list)) else [out_ex]
    onames = list(output_names or (["output"] + [f"output_{i}" for i in range(1, len(outs))]))
    if len(onames) != len(outs):
        raise ValueError(f"output_names: {len(onames)} names for {len(outs)} outputs")
    for o, n in zip(outs, onames):
        g.nodes.append(g.h.make_node("Identity", [o[1]], [n]))
    dyn = _dynamic(dynamic_axes, dynamic_batch, names + onames)
    h = g.h
    inputs = [h.make_tensor_value_info(n, h.np_dtype_to_tensor_dtype(x.numpy().dtype),
                                       _dims(x.shape, dyn.get(n, {}))) for n, x in zip(names, exs)]
    outputs = [h.make_tensor_value_info(n, h.np_dtype_to_tensor_dtype(e.numpy().dtype), _dims(e.shape, dyn.get(n, {})))
               for n, e in zip(onames, out_ex)]
    graph = h.make_graph(g.nodes, type(model).__name__, inputs, outputs, g.inits)
    proto = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)], producer_name="fastnn")
    onnx.checker.check_model(proto)
    if hasattr(f, "write"):
        f.write(proto.SerializeToString())
    else:
        onnx.save(proto, f)
    return proto


def _dynamic(dynamic_axes, dynamic_batch, names):
    if dynamic_axes is None:
        return {n: {0: "batch"} for n in names} if dynamic_batch else {}
    out = {}
    for n, axes in dynamic_axes.items():
        if n not in names:
            raise ValueError(f"dynamic_axes: {n!r} is not an input or output name ({', '.join(names)})")
        out[n] = dict(axes) if isinstance(axes, dict) else {int(a): f"{n}_dim{a}" for a in axes}
    return out


def _dims(shape, dyn):
    return [dyn.get(i, d) if i in dyn else int(d) for i, d in enumerate(shape)]
