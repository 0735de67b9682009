"""A property-based sweep of tensor ops against PyTorch: random shapes (broadcasting included), dtypes and
arguments; the values, dtypes and float64 gradients must agree, and so must in-place variants applied to a
view of a tensor inside a graph (the base's values and the leaf's gradient)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastnn

torch = pytest.importorskip("torch")

UNARY = {
    "exp": lambda L, x: x.exp(), "log": lambda L, x: (x.abs() + 0.5).log(), "sqrt": lambda L, x: (x.abs() + 0.1).sqrt(),
    "sin": lambda L, x: x.sin(), "cos": lambda L, x: x.cos(), "tanh": lambda L, x: x.tanh(),
    "sigmoid": lambda L, x: x.sigmoid(), "relu": lambda L, x: x.relu(), "abs": lambda L, x: x.abs(),
    "neg": lambda L, x: -x, "square": lambda L, x: x.square(), "reciprocal": lambda L, x: (x.abs() + 1).reciprocal(),
    "floor": lambda L, x: x.floor() + x, "ceil": lambda L, x: x.ceil() * x, "round": lambda L, x: x.round() + x,
    "sign": lambda L, x: x.sign() * x, "frac": lambda L, x: x.frac(), "trunc": lambda L, x: x.trunc() - x,
    "clamp": lambda L, x: x.clamp(-0.5, 0.7), "clamp_min": lambda L, x: x.clamp_min(0.1),
    "expm1": lambda L, x: x.expm1(), "log1p": lambda L, x: (x.abs()).log1p(), "erf": lambda L, x: x.erf(),
    "softmax": lambda L, x: x.softmax(-1), "log_softmax": lambda L, x: x.log_softmax(-1),
    "pow_scalar": lambda L, x: (x.abs() + 0.5) ** 1.7, "rpow": lambda L, x: 1.5 ** x,
    "mod": lambda L, x: x % 0.7, "fmod": lambda L, x: L.fmod(x, 0.7), "cumsum": lambda L, x: x.cumsum(-1),
    "cumprod": lambda L, x: x.cumprod(-1), "flip": lambda L, x: x.flip(-1), "roll": lambda L, x: x.roll(1, -1),
    "t_view_chain": lambda L, x: x.reshape(-1).unsqueeze(0).t().squeeze(1) * 2,
}
BINARY = {
    "add": lambda L, a, b: a + b, "sub": lambda L, a, b: a - b, "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / (b.abs() + 0.5), "pow": lambda L, a, b: (a.abs() + 0.5) ** b,
    "maximum": lambda L, a, b: L.maximum(a, b), "minimum": lambda L, a, b: L.minimum(a, b),
    "where": lambda L, a, b: L.where(a > b, a, b * 2), "remainder": lambda L, a, b: L.remainder(a, b.abs() + 0.5),
    "fmod": lambda L, a, b: L.fmod(a, b.abs() + 0.5), "rsub_scalar": lambda L, a, b: 2.0 - a * b,
}
REDUCE = ["sum", "mean", "std", "var", "amax", "amin", "logsumexp", "norm", "prod"]

shape = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _run(fn, *arrays):
    """fn on fastnn and torch float64 leaves; (values, grads) of each."""
    out = []
    for L in (fastnn, torch):
        xs = [L.tensor(a, requires_grad=True) for a in arrays]
        y = fn(L, *xs)
        g = np.random.default_rng(7).standard_normal(tuple(y.shape))
        y.backward(L.tensor(g))
        out.append((y.detach().numpy(), [x.grad.numpy() if x.grad is not None else np.zeros_like(a)
                                        for x, a in zip(xs, arrays)]))
    return out


def _close(a, b, what):
    assert a.shape == b.shape, (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10, err_msg=what)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(UNARY)), shp=shape, seed=st.integers(0, 2 ** 16))
def test_unary_ops_values_and_gradients(name, shp, seed):
    a = np.random.default_rng(seed).standard_normal(shp) * 2
    (yf, gf), (yt, gt) = _run(UNARY[name], a)
    _close(yf, yt, name)
    _close(gf[0], gt[0], name + " grad")


def _broadcast_pair(draw_shape, rng):
    s = list(draw_shape)
    t = [1 if rng.random() < 0.4 else d for d in s]
    t = t[rng.integers(0, len(t)):] if rng.random() < 0.3 else t  # fewer leading dims
    return tuple(s), tuple(t) or (1,)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(BINARY)), shp=shape, seed=st.integers(0, 2 ** 16), swap=st.booleans())
def test_binary_ops_broadcast_values_and_gradients(name, shp, seed, swap):
    rng = np.random.default_rng(seed)
    s, t = _broadcast_pair(shp, rng)
    if swap:
        s, t = t, s
    a, b = rng.standard_normal(s), rng.standard_normal(t)
    (yf, gf), (yt, gt) = _run(BINARY[name], a, b)
    _close(yf, yt, name)
    _close(gf[0], gt[0], name + " grad a")
    _close(gf[1], gt[1], name + " grad b")


@settings(max_examples=50, deadline=None)
@given(name=st.sampled_from(REDUCE), shp=shape, seed=st.integers(0, 2 ** 16), keep=st.booleans(),
       spelling=st.sampled_from(["dim", "axis", "none"]))
def test_reductions_values_and_gradients(name, shp, seed, keep, spelling):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shp) + (2.0 if name == "prod" else 0.0)
    d = int(rng.integers(0, len(shp)))
    if name in ("std", "var") and shp[d] < 2:
        return
    if spelling == "none" and name != "logsumexp":
        fn = (lambda L, x: getattr(x, name)())
    else:
        kw = {"dim" if spelling != "axis" or name == "norm" else "axis": d,
              "keepdim" if name == "norm" else ("keepdims" if spelling == "axis" else "keepdim"): keep}
        fn = (lambda L, x: getattr(x, name)(**kw))
    (yf, gf), (yt, gt) = _run(fn, a)
    _close(yf, yt, name)
    _close(gf[0], gt[0], name + " grad")


@settings(max_examples=40, deadline=None)
@given(shp=st.tuples(st.integers(1, 4), st.integers(1, 5)), seed=st.integers(0, 2 ** 16),
       op=st.sampled_from(["add_", "sub_", "mul_", "div_", "clamp_", "fill_", "zero_", "copy_", "relu_", "exp_"]),
       where=st.sampled_from(["row", "col", "slice", "whole"]))
def test_inplace_on_views_inside_a_graph(shp, seed, op, where):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shp)
    res = []
    for L in (fastnn, torch):
        x = L.tensor(a, requires_grad=True)
        y = x * 1.5
        v = {"row": lambda: y[0], "col": lambda: y[:, 0], "slice": lambda: y[:, ::2], "whole": lambda: y}[where]()
        other = L.tensor(np.full(v.shape, 0.75))
        if op in ("add_", "sub_", "mul_", "div_", "copy_"):
            getattr(v, op)(other)
        elif op == "clamp_":
            v.clamp_(-0.5, 0.5)
        elif op == "fill_":
            v.fill_(3.0)
        else:
            getattr(v, op)()
        (y * L.tensor(np.arange(y.numel(), dtype=np.float64).reshape(y.shape))).sum().backward()
        res.append((y.detach().numpy().copy(), x.grad.numpy().copy()))
    _close(res[0][0], res[1][0], f"{op} on {where}: base values")
    _close(res[0][1], res[1][1], f"{op} on {where}: gradient")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 16), dt=st.sampled_from(["int64", "int32", "float32", "float64", "bool"]),
       dt2=st.sampled_from(["int64", "float32", "float64", "py_int", "py_float"]),
       op=st.sampled_from(["add", "mul", "truediv", "sub"]))
def test_type_promotion_matches_torch(seed, dt, dt2, op):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(3) * 3).astype(dt) if dt != "bool" else rng.random(3) > 0.5
    if dt == "bool" and op == "sub":
        return  # torch refuses bool subtraction
    b = {"py_int": 3, "py_float": 1.5}.get(dt2)
    outs = []
    for L in (fastnn, torch):
        x = L.tensor(a)
        y = b if b is not None else L.tensor((np.arange(3) + 1).astype(dt2))
        r = {"add": lambda: x + y, "mul": lambda: x * y, "truediv": lambda: x / y, "sub": lambda: x - y}[op]()
        outs.append(r)
    assert str(outs[0].dtype).split(".")[-1] == str(outs[1].dtype).split(".")[-1], (dt, dt2, op)
    np.testing.assert_allclose(outs[0].numpy().astype(np.float64), outs[1].numpy().astype(np.float64), rtol=1e-6)
