"""Autograd: float64 finite-difference checks of every differentiable tensor op (broadcasting included),
gradients against torch, and the graph's semantics (accumulation, reuse, retain_graph, no_grad, hooks,
autograd.grad, custom Functions, in-place ops)."""
import numpy as np
import pytest

import fastnn
from fastnn import autograd

torch = pytest.importorskip("torch")
torch.set_default_dtype(torch.float32)


def T(a, grad=True):
    return fastnn.tensor(np.asarray(a, np.float64), requires_grad=grad)


def rnd(*shape, seed=0, lo=None):
    a = np.random.default_rng(seed).standard_normal(shape)
    if lo is not None:
        a = np.abs(a) + lo
    return a


# (name, function of (library, tensors...), input arrays) -- every differentiable op; L is fastnn or torch
OPS = [
    ("add", lambda L, a, b: a + b, [rnd(3, 4), rnd(4, seed=1)]),
    ("add-scalar", lambda L, a: 2.5 + a, [rnd(3, 4)]),
    ("sub", lambda L, a, b: a - b, [rnd(3, 1), rnd(1, 4, seed=1)]),
    ("rsub", lambda L, a: 1 - a, [rnd(5)]),
    ("mul", lambda L, a, b: a * b, [rnd(2, 3, 4), rnd(3, 1, seed=1)]),
    ("div", lambda L, a, b: a / b, [rnd(3, 4), rnd(4, seed=1, lo=0.5)]),
    ("rdiv", lambda L, a: 2 / a, [rnd(5, lo=0.5)]),
    ("pow-scalar", lambda L, a: a ** 3, [rnd(4)]),
    ("pow-tensor", lambda L, a, b: a ** b, [rnd(4, lo=0.5), rnd(4, seed=1)]),
    ("rpow", lambda L, a: 2 ** a, [rnd(4)]),
    ("neg", lambda L, a: -a, [rnd(4)]),
    ("matmul-2d", lambda L, a, b: a @ b, [rnd(3, 4), rnd(4, 5, seed=1)]),
    ("matmul-vec", lambda L, a, b: a @ b, [rnd(3, 4), rnd(4, seed=1)]),
    ("matmul-vecmat", lambda L, a, b: a @ b, [rnd(4), rnd(4, 2, seed=1)]),
    ("matmul-batched", lambda L, a, b: a @ b, [rnd(2, 3, 4), rnd(4, 2, seed=1)]),
    ("bmm", lambda L, a, b: a.bmm(b), [rnd(2, 3, 4), rnd(2, 4, 2, seed=1)]),
    ("dot", lambda L, a, b: a.dot(b), [rnd(4), rnd(4, seed=1)]),
    ("sum", lambda L, a: a.sum(), [rnd(3, 4)]),
    ("sum-dim", lambda L, a: a.sum(dim=1), [rnd(3, 4)]),
    ("sum-dims-keep", lambda L, a: a.sum((0, 2), keepdim=True), [rnd(2, 3, 4)]),
    ("mean", lambda L, a: a.mean(0), [rnd(3, 4)]),
    ("var", lambda L, a: a.var(1), [rnd(3, 4)]),
    ("std", lambda L, a: a.std(), [rnd(3, 4)]),
    ("std-biased-keep", lambda L, a: a.std(0, unbiased=False, keepdim=True), [rnd(3, 4)]),
    ("max", lambda L, a: a.max(), [rnd(3, 4)]),
    ("max-dim", lambda L, a: a.max(dim=1).values, [rnd(3, 4)]),
    ("min-dim-keep", lambda L, a: a.min(0, keepdim=True)[0], [rnd(3, 4)]),
    ("amax", lambda L, a: a.amax(1), [rnd(3, 4)]),
    ("norm", lambda L, a: a.norm(), [rnd(3, 4)]),
    ("norm-1-dim", lambda L, a: a.norm(1, dim=1), [rnd(3, 4)]),
    ("norm-3", lambda L, a: a.norm(3), [rnd(5)]),
    ("prod", lambda L, a: a.prod(), [rnd(5)]),
    ("prod-dim", lambda L, a: a.prod(1), [rnd(2, 3)]),
    ("logsumexp", lambda L, a: a.logsumexp(1), [rnd(3, 4)]),
    ("cumsum", lambda L, a: a.cumsum(1), [rnd(3, 4)]),
    ("exp", lambda L, a: a.exp(), [rnd(4)]),
    ("log", lambda L, a: a.log(), [rnd(4, lo=0.5)]),
    ("log1p", lambda L, a: a.log1p(), [rnd(4, lo=0.1)]),
    ("sqrt", lambda L, a: a.sqrt(), [rnd(4, lo=0.5)]),
    ("rsqrt", lambda L, a: a.rsqrt(), [rnd(4, lo=0.5)]),
    ("sin-cos", lambda L, a: a.sin() * a.cos(), [rnd(4)]),
    ("tanh", lambda L, a: a.tanh(), [rnd(4)]),
    ("sigmoid", lambda L, a: a.sigmoid(), [rnd(4)]),
    ("relu", lambda L, a: a.relu(), [rnd(6) + 0.05]),
    ("abs", lambda L, a: a.abs(), [rnd(6) + 0.05]),
    ("square-reciprocal", lambda L, a: a.square() + a.reciprocal(), [rnd(4, lo=0.5)]),
    ("erf", lambda L, a: a.erf(), [rnd(4)]),
    ("clamp", lambda L, a: a.clamp(-0.5, 0.7), [rnd(8) * 2 + 0.013]),
    ("maximum", lambda L, a, b: a.maximum(b), [rnd(5), rnd(5, seed=1)]),
    ("minimum-bcast", lambda L, a, b: L.minimum(a, b), [rnd(3, 4), rnd(4, seed=1)]),
    ("softmax", lambda L, a: a.softmax(1), [rnd(3, 4)]),
    ("softmax-dim0", lambda L, a: a.softmax(0), [rnd(3, 4)]),
    ("log_softmax", lambda L, a: a.log_softmax(-1), [rnd(2, 3, 4)]),
    ("reshape-view", lambda L, a: a.view(4, 3).reshape(2, 6) * 1, [rnd(3, 4)]),
    ("flatten-unsqueeze", lambda L, a: a.flatten().unsqueeze(0) * 2, [rnd(2, 3)]),
    ("squeeze", lambda L, a: a.squeeze(1) * 2, [rnd(3, 1, 2)]),
    ("permute", lambda L, a: a.permute(2, 0, 1) * 1, [rnd(2, 3, 4)]),
    ("transpose-T", lambda L, a: a.transpose(0, 1) + a.T, [rnd(3, 3)]),
    ("expand", lambda L, a: a.expand(3, 4) * 1, [rnd(1, 4)]),
    ("repeat", lambda L, a: a.repeat(2, 3), [rnd(2, 2)]),
    ("flip-roll", lambda L, a: a.flip(0).roll(1, 1) * 1, [rnd(3, 4)]),
    ("getitem-basic", lambda L, a: a[1:, ::2] * 1, [rnd(3, 4)]),
    ("getitem-int", lambda L, a: a[1] * 1, [rnd(3, 4)]),
    ("getitem-adv-dup", lambda L, a: a[[0, 2, 0]] * 1, [rnd(3, 4)]),
    ("getitem-mask", lambda L, a: a[a > 0] * 1, [rnd(3, 4)]),
    ("gather", lambda L, a: a.gather(1, L.tensor([[0, 0], [1, 0], [2, 1]])), [rnd(3, 3)]),
    ("index_select", lambda L, a: a.index_select(0, L.tensor([2, 0, 2])), [rnd(3, 2)]),
    ("masked_fill", lambda L, a: a.masked_fill(a > 0.5, 0.0), [rnd(3, 4)]),
    ("where", lambda L, a, b: L.where(a > 0, a, b), [rnd(3, 4), rnd(3, 4, seed=1)]),
    ("cat", lambda L, a, b: L.cat([a, b, a], 1), [rnd(2, 3), rnd(2, 1, seed=1)]),
    ("stack", lambda L, a, b: L.stack([a, b], 1), [rnd(2, 3), rnd(2, 3, seed=1)]),
    ("chunk-split", lambda L, a: a.chunk(2, 1)[1] * a.split([1, 2], 0)[1].sum(), [rnd(3, 4)]),
    ("unbind", lambda L, a: a.unbind(1)[2] * 3, [rnd(2, 3)]),
    ("topk-sort", lambda L, a: a.topk(2, 1).values + a.sort(1).values[:, :2], [rnd(3, 4)]),
    ("einsum", lambda L, a, b: L.einsum("ij,jk->ik", a, b), [rnd(3, 4), rnd(4, 2, seed=1)]),
    ("cast-roundtrip", lambda L, a: a.float().double() * 1, [rnd(3)]),
    ("clone-contiguous", lambda L, a: a.T.contiguous().clone(), [rnd(2, 3)]),
    ("scatter", lambda L, a, b: a.scatter(1, L.tensor([[0], [2]]), b), [rnd(2, 3), rnd(2, 1, seed=1)]),
    ("outer", lambda L, a, b: a.outer(b), [rnd(3), rnd(2, seed=1)]),
]


@pytest.mark.parametrize("name,fn,inputs", OPS, ids=[o[0] for o in OPS])
def test_gradcheck_every_op(name, fn, inputs):
    ts = [T(a) for a in inputs]
    if name == "cast-roundtrip":  # a float32 round trip: central differences need float64 throughout
        assert fn(fastnn, *ts).dtype == fastnn.float64
        return
    assert autograd.gradcheck(lambda *a: fn(fastnn, *a), ts, eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name,fn,inputs", OPS, ids=[o[0] for o in OPS])
def test_values_and_gradients_match_torch(name, fn, inputs):
    """The same expression on torch tensors gives the same values and gradients (float32)."""
    f = [fastnn.tensor(a.astype(np.float32), requires_grad=True) for a in inputs]
    t = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in inputs]
    yf = fn(fastnn, *f)
    yt = fn(torch, *t)
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), rtol=2e-5, atol=2e-6)
    g = np.random.default_rng(5).standard_normal(tuple(yf.shape)).astype(np.float32)
    yf.backward(fastnn.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(f, t):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=2e-4, atol=2e-5)


def test_gradients_accumulate_and_reused_tensors_sum():
    x = T([1.0, 2.0, 3.0])
    y = (x * x).sum() + (3 * x).sum()  # x used twice
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1, 2, 3]) + 3)
    (x * 2).sum().backward()  # accumulates, as torch
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1, 2, 3]) + 5)
    x.grad = None
    (x ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 4, 6])


def test_second_backward_needs_retain_graph():
    x = T([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_backward_errors_are_torch_like():
    x = T([1.0, 2.0])
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        fastnn.tensor([1.0]).sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype"):
        fastnn.tensor([1, 2]).requires_grad_()


def test_no_grad_enable_grad_set_grad_enabled_inference_mode():
    x = T([1.0, 2.0])
    with fastnn.no_grad():
        y = x * 2
        assert not y.requires_grad and y.grad_fn is None
        with fastnn.enable_grad():
            assert (x * 2).requires_grad

    @fastnn.no_grad()
    def f(a):
        return a * 3

    @fastnn.no_grad
    def g(a):
        return a * 3

    assert not f(x).requires_grad and not g(x).requires_grad
    with fastnn.set_grad_enabled(False):
        assert not (x + 1).requires_grad
    assert fastnn.is_grad_enabled()
    fastnn.set_grad_enabled(False)
    assert not fastnn.is_grad_enabled()
    fastnn.set_grad_enabled(True)
    with fastnn.inference_mode():
        assert not (x + 1).requires_grad
    with fastnn.inference_mode(False):
        assert (x + 1).requires_grad


def test_detach_and_data_share_memory_and_stop_gradients():
    x = T([1.0, 2.0])
    d = x.detach()
    d[0] = 5.0
    assert x[0].item() == 5.0
    y = (x * x.detach()).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 2.0])
    x.data.mul_(2)  # through .data: not recorded
    assert x.tolist() == [10.0, 4.0] and x.is_leaf


def test_inplace_on_graph_tensors_keeps_gradients_exact():
    x = T([1.0, -2.0, 3.0])
    y = x * 2
    y += 1  # functionalized: y now holds a new array and node
    y[0] = 0.0
    y.mul_(x)
    y.sum().backward()
    # y = [0, (2x1+1) x1, (2x2+1) x2] -> dy/dx = [0, 4 x + 1]
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 4 * -2 + 1, 4 * 3 + 1])


def test_hooks_retain_grad_and_autograd_grad():
    x = T([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)  # a leaf hook can replace the gradient
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.detach().numpy())
    np.testing.assert_allclose(seen[0], 2 * h.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), 10 * 3 * 2 * h.detach().numpy())
    a, b = T([1.0, 2.0]), T([3.0])
    ga, gb = autograd.grad((a * b).sum(), [a, b])
    np.testing.assert_allclose(ga.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(gb.numpy(), [3.0])
    assert a.grad is None and b.grad is None  # grad() does not accumulate
    with pytest.raises(RuntimeError, match="not have been used"):
        autograd.grad((a * 2).sum(), [b])
    assert autograd.grad((a * 2).sum(), [b], allow_unused=True) == (None,)


def test_custom_function():
    class Cube(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    x = T([1.0, 2.0])
    y = Cube.apply(x)
    assert y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    assert autograd.gradcheck(Cube.apply, [T([0.3, -1.2])])


def test_l1_penalty_of_parameters_in_the_loss():
    """The course's L1 regularization written as a tensor expression over model.parameters()."""
    fastnn.manual_seed(0)
    m = fastnn.nn.Linear(3, 2)
    x = fastnn.randn(5, 3)
    lam = 0.01
    loss = m(x).pow(2).mean() + lam * sum(p.abs().sum() for p in m.parameters())
    loss.backward()
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    tm = torch.nn.Linear(3, 2)
    tm.load_state_dict({"weight": torch.tensor(w), "bias": torch.tensor(b)})
    tl = tm(torch.tensor(x.numpy())).pow(2).mean() + lam * sum(p.abs().sum() for p in tm.parameters())
    tl.backward()
    np.testing.assert_allclose(loss.item(), tl.item(), rtol=1e-6)
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(m.bias.grad.numpy(), tm.bias.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_graph_is_freed_after_backward():
    import gc
    import weakref

    x = T(rnd(100))
    y = x.exp()
    node = y.grad_fn
    ref = weakref.ref(node)
    (y * 2).sum().backward()
    assert node.ctx is None  # saved arrays released
    del y, node
    gc.collect()
    assert ref() is None
