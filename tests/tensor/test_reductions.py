"""Every reduction accepts the spellings PyTorch accepts (dim=/axis=, keepdim=/keepdims=, tuples and lists
of dims), as a method and as a fastnn.<name> function, and agrees with torch in values, shapes and
gradients (float64)."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((3, 4, 5))

# name, kwargs in every spelling torch accepts for it
CASES = [
    ("sum", [dict(dim=1), dict(axis=1), dict(dim=(0, 2), keepdim=True), dict(axis=[0, 2], keepdims=True)]),
    ("mean", [dict(dim=0, keepdims=True), dict(axis=(1, 2)), dict(dim=[0, 1])]),
    ("std", [dict(dim=0, keepdims=True), dict(axis=(0, 1)), dict(dim=1, unbiased=False), dict(dim=2, correction=0),
             dict()]),
    ("var", [dict(dim=0, keepdims=True), dict(axis=(1, 2), keepdim=True), dict(dim=[0, 2], unbiased=False)]),
    ("amax", [dict(dim=1), dict(axis=(0, 1), keepdims=True), dict(dim=[1, 2])]),
    ("amin", [dict(dim=1, keepdims=True), dict(axis=(0, 2))]),
    ("argmax", [dict(dim=1), dict(axis=0, keepdims=True), dict()]),
    ("argmin", [dict(dim=2, keepdims=True), dict(axis=1)]),
    ("prod", [dict(dim=1), dict(axis=0, keepdims=True)]),
    ("logsumexp", [dict(dim=1), dict(axis=(0, 1)), dict(dim=[1, 2], keepdims=True)]),
    ("nansum", [dict(dim=1), dict(axis=(0,)), dict(dim=0, keepdims=True)]),
    ("nanmean", [dict(axis=0, keepdims=True), dict(dim=(1, 2))]),
    ("median", [dict(dim=1), dict(axis=0, keepdims=True)]),
    ("max", [dict(dim=1), dict(axis=1, keepdims=True), dict()]),
    ("min", [dict(dim=0, keepdims=True), dict(axis=2)]),
    ("cumsum", [dict(dim=1), dict(axis=2)]),
    ("cumprod", [dict(dim=1), dict(axis=0)]),
    ("quantile", [dict(q=0.3, dim=1), dict(q=0.5, axis=0, keepdims=True), dict(q=0.25)]),
    ("norm", [dict(dim=1), dict(dim=(0, 1), keepdim=True), dict(p=1, dim=2)]),
]


def _vals(r):
    if isinstance(r, tuple):
        return [np.asarray(x.detach().numpy()) for x in r]
    return [np.asarray(r.detach().numpy())]


@pytest.mark.parametrize("name,kws", CASES, ids=[c[0] for c in CASES])
def test_reduction_spellings_match_torch(name, kws):
    for kw in kws:
        for form in ("method", "function"):
            xf = fastnn.tensor(X, requires_grad=True)
            xt = torch.tensor(X, requires_grad=True)
            if form == "method":
                rf, rt = getattr(xf, name)(**kw), getattr(xt, name)(**kw)
            else:
                rf, rt = getattr(fastnn, name)(xf, **kw), getattr(torch, name)(xt, **kw)
            for a, b in zip(_vals(rf), _vals(rt)):
                assert a.shape == b.shape, (name, kw, form)
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"{name} {kw} {form}")
            main_f = rf[0] if isinstance(rf, tuple) else rf
            main_t = rt[0] if isinstance(rt, tuple) else rt
            if main_t.dtype.is_floating_point:
                g = np.random.default_rng(1).standard_normal(tuple(main_t.shape))
                main_f.backward(fastnn.tensor(g))
                main_t.backward(torch.tensor(g))
                np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12,
                                           err_msg=f"grad {name} {kw} {form}")


def test_reductions_refuse_both_spellings_and_bad_dims():
    x = fastnn.randn(3, 4)
    with pytest.raises(TypeError, match="both 'dim' and its alias 'axis'"):
        x.sum(dim=0, axis=1)
    with pytest.raises(TypeError, match="one int"):
        x.max(dim=(0, 1))
    with pytest.raises(TypeError, match="one int"):
        x.prod(dim=(0, 1))
    with pytest.raises(RuntimeError, match="floating point"):
        fastnn.tensor([1, 2, 3]).std()


def test_numpy_functions_on_tensors_still_give_values():
    x = fastnn.tensor(X)
    np.testing.assert_allclose(np.max(x, axis=0), X.max(0))
    np.testing.assert_allclose(np.sum(x, axis=1), X.sum(1))
    np.testing.assert_allclose(np.mean(x), X.mean())


def test_aminmax_std_mean_var_mean_match_torch():
    xf, xt = fastnn.tensor(X), torch.tensor(X)
    for a, b in zip(xf.aminmax(dim=1), xt.aminmax(dim=1)):
        np.testing.assert_allclose(a.numpy(), b.numpy())
    for f, t in ((fastnn.std_mean, torch.std_mean), (fastnn.var_mean, torch.var_mean)):
        for a, b in zip(f(xf, dim=0, keepdim=True), t(xt, dim=0, keepdim=True)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_quantile_interpolations_match_torch(interpolation):
    q = [0.0, 0.1, 0.5, 0.77, 1.0]
    a = fastnn.tensor(X).quantile(fastnn.tensor(q, dtype=fastnn.float64), dim=2, interpolation=interpolation)
    b = torch.tensor(X).quantile(torch.tensor(q, dtype=torch.float64), dim=2, interpolation=interpolation)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_cumprod_gradient_with_zeros_matches_torch():
    v = np.array([[1.5, 2.0, 0.0, 3.0, -1.0], [0.0, 0.0, 2.0, 1.0, 4.0]])
    xf, xt = fastnn.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    xf.cumprod(1).sum().backward()
    xt.cumprod(1).sum().backward()
    np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy())


def test_clamp_min_max_and_inplace_function_forms_match_torch():
    v = np.array([-2.0, -0.5, 0.5, 3.0])
    assert np.array_equal(fastnn.tensor(v).clamp_min(0).numpy(), torch.tensor(v).clamp_min(0).numpy())
    assert np.array_equal(fastnn.clamp_max(fastnn.tensor(v), 1).numpy(), torch.clamp_max(torch.tensor(v), 1).numpy())
    t = fastnn.tensor(v)
    assert fastnn.zero_(t) is t and not t.numpy().any()
    t = fastnn.tensor(v)
    t.clamp_min_(0.0)
    assert np.array_equal(t.numpy(), np.maximum(v, 0))
