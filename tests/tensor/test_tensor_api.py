"""The Tensor API against torch: creation, dtypes and promotion, memory sharing, indexing, reductions,
conversions, printing, and NumPy interoperability."""
import copy
import pickle

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def same(f, t, exact=True):
    """fastnn and torch tensors hold the same values, shape and dtype name."""
    fa, ta = np.asarray(f.detach().numpy() if isinstance(f, fastnn.Tensor) else f), t.detach().numpy()
    assert fa.shape == ta.shape, (fa.shape, ta.shape)
    assert str(fa.dtype) == str(ta.dtype), (fa.dtype, ta.dtype)
    if exact:
        np.testing.assert_array_equal(fa, ta)
    else:
        np.testing.assert_allclose(fa, ta, rtol=1e-5, atol=1e-6)


def test_creation_defaults_match_torch():
    for L in (fastnn, torch):
        pass
    same(fastnn.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]))
    same(fastnn.tensor([1, 2]), torch.tensor([1, 2]))
    same(fastnn.tensor([True, False]), torch.tensor([True, False]))
    same(fastnn.tensor(np.arange(3.0)), torch.tensor(np.arange(3.0)))  # float64 kept
    same(fastnn.tensor([[1, 2]], dtype=fastnn.float32), torch.tensor([[1, 2]], dtype=torch.float32))
    same(fastnn.zeros(2, 3), torch.zeros(2, 3))
    same(fastnn.ones((2, 3), dtype=fastnn.long), torch.ones((2, 3), dtype=torch.long))
    same(fastnn.full((2,), 7), torch.full((2,), 7))
    same(fastnn.full((2,), 7.0), torch.full((2,), 7.0))
    same(fastnn.arange(5), torch.arange(5))
    same(fastnn.arange(0, 1, 0.25), torch.arange(0, 1, 0.25))
    same(fastnn.linspace(0, 1, 5), torch.linspace(0, 1, 5), exact=False)
    same(fastnn.eye(3), torch.eye(3))
    same(fastnn.zeros_like(fastnn.ones(2, dtype=fastnn.int32)), torch.zeros_like(torch.ones(2, dtype=torch.int32)))
    same(fastnn.FloatTensor([1, 2]), torch.FloatTensor([1, 2]))
    same(fastnn.LongTensor([1, 2]), torch.LongTensor([1, 2]))
    assert fastnn.Tensor(2, 3).shape == (2, 3) and fastnn.Tensor(2, 3).dtype == fastnn.float32
    for f, shape in ((fastnn.rand, (2, 3)), (fastnn.randn, (4,))):
        t = f(*shape)
        assert tuple(t.shape) == shape and t.dtype == fastnn.float32
    r = fastnn.randint(0, 10, (50,))
    assert r.dtype == fastnn.int64 and 0 <= r.min().item() and r.max().item() < 10
    assert sorted(fastnn.randperm(6).tolist()) == list(range(6))
    assert fastnn.randint(5, (3,)).shape == (3,)


def test_seeding_reproduces_random_tensors():
    fastnn.manual_seed(3)
    a = fastnn.randn(5), fastnn.rand(2), fastnn.randperm(7)
    fastnn.manual_seed(3)
    b = fastnn.randn(5), fastnn.rand(2), fastnn.randperm(7)
    for x, y in zip(a, b):
        assert fastnn.equal(x, y)
    g = fastnn.Generator().manual_seed(1)
    g2 = fastnn.Generator().manual_seed(1)
    assert fastnn.equal(fastnn.randn(4, generator=g), fastnn.randn(4, generator=g2))


def test_type_promotion_matches_torch():
    cases = [
        lambda L: L.tensor([1, 2]) * 0.5,
        lambda L: L.tensor([1, 2]) / 2,
        lambda L: L.tensor([1, 2]) + 1,
        lambda L: L.tensor([True, False]) + 1,
        lambda L: L.tensor([1.0, 2.0]) * np.float64(2.0),
        lambda L: L.tensor([1.0, 2.0]) + L.tensor(3.0, dtype=L.float64),
        lambda L: L.tensor([1.0, 2.0], dtype=L.float64) * L.tensor([2.0]),
        lambda L: L.tensor([3, 4]) // 2,
        lambda L: (L.tensor([1.0, 2.0]) > 1).sum(),
        lambda L: L.tensor([1, 2]).float().mean(),
    ]
    for c in cases:
        same(c(fastnn), c(torch), exact=False)


def test_memory_sharing_as_torch():
    a = np.zeros(3, np.float32)
    t = fastnn.from_numpy(a)
    t[0] = 1
    assert a[0] == 1
    a[1] = 2
    assert t[1].item() == 2
    n = t.numpy()
    n[2] = 3
    assert t.tolist() == [1, 2, 3]
    v = t.view(3, 1)
    v[0, 0] = 9
    assert t[0].item() == 9
    c = fastnn.tensor(a)  # tensor() copies
    c[0] = -1
    assert a[0] == 9
    assert fastnn.as_tensor(a).numpy() is a


def test_indexing_read_write_like_torch():
    base = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    f, t = fastnn.tensor(base), torch.tensor(base)
    for idx in [(0,), (slice(None), 1), (Ellipsis, 2), (0, slice(1, None), slice(None, None, 2)), (None, 1)]:
        same(f[idx], t[idx])
    same(f[f > 10], t[t > 10])
    same(f[[1, 0]], t[[1, 0]])
    same(f[:, fastnn.tensor([2, 0])], t[:, torch.tensor([2, 0])])
    f[0, 1] = 5.0
    t[0, 1] = 5.0
    f[f > 20] = 0
    t[t > 20] = 0
    f[:, :, 0] = fastnn.tensor([1.0, 2.0, 3.0])
    t[:, :, 0] = torch.tensor([1.0, 2.0, 3.0])
    same(f, t)


def test_reductions_like_torch():
    a = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    f, t = fastnn.tensor(a), torch.tensor(a)
    for fn in [lambda x: x.sum(), lambda x: x.sum(1), lambda x: x.sum((0, 2), keepdim=True),
               lambda x: x.mean(dim=-1), lambda x: x.std(), lambda x: x.var(0), lambda x: x.std(1, unbiased=False),
               lambda x: x.var(1, correction=0), lambda x: x.max(), lambda x: x.argmax(), lambda x: x.argmax(1),
               lambda x: x.argmin(dim=2, keepdim=True), lambda x: x.norm(), lambda x: x.prod(0),
               lambda x: x.amax(1), lambda x: x.logsumexp(2), lambda x: x.cumsum(1), lambda x: (x > 0).all(),
               lambda x: (x > 0).any(1), lambda x: x.abs().sqrt().mean()]:
        same(fn(f), fn(t), exact=False)
    vf, if_ = f.max(dim=1)
    vt, it = t.max(dim=1)
    same(vf, vt)
    same(if_, it)
    same(f.max(1)[1], t.max(1)[1])
    same(f.min(dim=0, keepdim=True).values, t.min(dim=0, keepdim=True).values)
    same(fastnn.max(f, 2).indices, torch.max(t, 2).indices)
    same(fastnn.max(f, f * 0).clone(), torch.max(t, t * 0))
    same(f.sort(1, descending=True).values, t.sort(1, descending=True).values)
    same(f.topk(2, dim=2).values, t.topk(2, dim=2).values)
    same(fastnn.tensor([3, 1, 3, 2]).unique(), torch.tensor([3, 1, 3, 2]).unique())
    with pytest.raises(RuntimeError, match="mean"):
        fastnn.tensor([1, 2]).mean()


def test_shape_ops_like_torch():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    f, t = fastnn.tensor(a), torch.tensor(a)
    for fn in [lambda x: x.view(6, 4), lambda x: x.view(-1), lambda x: x.reshape(4, -1), lambda x: x.flatten(1),
               lambda x: x.flatten(), lambda x: x.unsqueeze(1), lambda x: x[:, :1].squeeze(), lambda x: x.permute(2, 0, 1),
               lambda x: x.transpose(0, 2), lambda x: x[0].T, lambda x: x[:1].expand(3, 3, 4),
               lambda x: x.repeat(1, 2, 1), lambda x: x.flip(2), lambda x: x.chunk(2, 2)[1],
               lambda x: x.split(2, 1)[1], lambda x: x.narrow(2, 1, 2), lambda x: x.unflatten(2, (2, 2)),
               lambda x: x.movedim(0, 2), lambda x: x.roll(1, 2), lambda x: x.unbind(1)[2]]:
        same(fn(f), fn(t))
    same(fastnn.cat([f, f], 1), torch.cat([t, t], 1))
    same(fastnn.stack([f, f], 3), torch.stack([t, t], 3))
    same(fastnn.where(f > 5, f, fastnn.zeros(1)), torch.where(t > 5, t, torch.zeros(1)))
    assert f.size() == (2, 3, 4) and f.size(1) == 3 and f.dim() == 3 and f.numel() == 24
    assert f.shape.numel() == 24 and list(f.shape) == [2, 3, 4]
    with pytest.raises(RuntimeError, match="invalid for input of size"):
        f.view(5, 5)


def test_inplace_and_random_fills():
    f, t = fastnn.zeros(3), torch.zeros(3)
    for x in (f, t):
        x.add_(1).mul_(3).sub_(1).div_(2)
        x.clamp_(max=0.9)
    same(f, t)
    z = fastnn.empty(1000)
    z.uniform_(2, 3)
    assert 2 <= z.min().item() and z.max().item() <= 3
    z.normal_(5, 0.1)
    assert abs(z.mean().item() - 5) < 0.05
    z.fill_(7).zero_()
    assert not z.any()
    o = fastnn.zeros(2, 3).scatter_(1, fastnn.tensor([[0], [2]]), 1.0)  # one-hot, the course's idiom
    same(o, torch.zeros(2, 3).scatter_(1, torch.tensor([[0], [2]]), 1.0))


def test_conversions_and_python_protocols():
    t = fastnn.tensor([[1.5, 2.0]])
    assert t.float().dtype == fastnn.float32 and t.double().dtype == fastnn.float64
    assert t.long().tolist() == [[1, 2]] and t.int().dtype == fastnn.int32 and t.bool().dtype == fastnn.bool
    assert t.to(fastnn.float64).dtype == fastnn.float64 and t.to("cpu") is t
    assert t.to("cpu", fastnn.float64).dtype == fastnn.float64 and t.to(fastnn.zeros(1, dtype=fastnn.int64)).dtype == fastnn.int64
    assert t.cpu() is t and t.device == fastnn.device("cpu") and not t.is_cuda
    with pytest.raises(NotImplementedError, match="CPU only"):
        t.cuda()
    with pytest.raises(NotImplementedError, match="CPU only"):
        t.to("cuda")
    s = fastnn.tensor(2.5)
    assert float(s) == 2.5 and int(s) == 2 and s.item() == 2.5 and f"{s:.2f}" == "2.50" and bool(s)
    assert len(t) == 1 and [r.tolist() for r in t] == [[1.5, 2.0]]
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        t.item()
    assert np.asarray(t).shape == (1, 2) and np.sum(t) == 3.5
    r = np.ones((1, 2), np.float32) * fastnn.tensor([[2.0, 3.0]], requires_grad=True)
    assert isinstance(r, fastnn.Tensor) and r.requires_grad  # ndarray (op) tensor defers to the tensor
    with pytest.raises(RuntimeError, match="requires grad"):
        fastnn.tensor([1.0], requires_grad=True).numpy()
    assert "tensor([[1.5000, 2.0000]])" == repr(t)
    assert "requires_grad=True" in repr(fastnn.ones(1, requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(fastnn.ones(1, requires_grad=True) * 2)
    assert (t == None) is False and (t != None) is True  # noqa: E711  (as torch)


def test_pickle_and_deepcopy_of_tensors():
    t = fastnn.tensor([1.0, 2.0], requires_grad=True)
    u = pickle.loads(pickle.dumps(t))
    assert u.requires_grad and fastnn.equal(u, t)
    c = copy.deepcopy(t)
    c.data[0] = 5
    assert t[0].item() == 1.0
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(t * 2)


def test_torch_namespace_stand_ins():
    assert fastnn.cuda.is_available() is False and fastnn.cuda.device_count() == 0
    device = fastnn.device("cuda" if fastnn.cuda.is_available() else "cpu")
    assert str(device) == "cpu"
    fastnn.backends.cudnn.deterministic = True
    fastnn.backends.cudnn.benchmark = False
    fastnn.cuda.manual_seed_all(0)
    assert fastnn.compile(fastnn.nn.Linear(2, 2)).__class__.__name__ == "Linear"
