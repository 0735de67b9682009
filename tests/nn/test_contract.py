"""The module contract: per-call contexts (reused modules, tied weights, residuals), outputs that are
never overwritten while held, deep copies and moved layers that train, torch's container and state API,
and 20-step training trajectories of user modules against torch."""
import copy

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import autograd, nn, optim

torch = pytest.importorskip("torch")


def digits(n=400):
    from sklearn.datasets import load_digits
    d = load_digits()
    return (d.data[:n] / 16.0).astype(np.float32), d.target[:n].astype(np.int64)


class Shared(nn.Module):
    """One activation and one dropout instance used by every layer: the course's habit."""

    def __init__(self, act, p=0.0):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(6, 5), nn.Linear(5, 5), nn.Linear(5, 3)
        self.act, self.drop = act, nn.Dropout(p)

    def forward(self, x):
        x = self.drop(self.act(self.fc1(x)))
        x = self.drop(self.act(self.fc2(x)))
        return self.fc3(x)


@pytest.mark.parametrize("act", [nn.ReLU, nn.ELU, nn.Sigmoid, nn.Tanh, lambda: nn.LeakyReLU(0.1), nn.SELU, nn.GELU,
                                 nn.PReLU, lambda: nn.PReLU(5), nn.Softplus, nn.SiLU])
def test_reused_activation_instance_gets_exact_gradients(act):
    fastnn.manual_seed(0)
    m = Shared(act()).double()
    x = fastnn.tensor(np.random.default_rng(1).standard_normal((4, 6)) + 0.02, requires_grad=True)
    params = list(m.parameters())

    def f(xx, *ps):
        return m(xx)

    assert autograd.gradcheck(f, [x] + params, atol=1e-6, rtol=1e-5)


def test_reused_dropout_and_rrelu_masks_are_per_call():
    """The same Dropout / RReLU used twice: backward regenerates each call's own mask."""
    fastnn.manual_seed(0)
    for layer in (nn.Dropout(0.5), nn.RReLU()):
        m = Shared(nn.Identity()).double()
        m.drop = layer
        x = fastnn.randn(8, 6, dtype=fastnn.float64)
        base = m.drop._calls
        out = m(x)
        out.sum().backward()
        g_auto = [p.grad.numpy().copy() for p in m.parameters()]
        # replay the same two masks by hand, with separate layers seeded as the two calls were
        m.zero_grad()
        d1, d2 = copy.deepcopy(layer), copy.deepcopy(layer)
        d1._calls, d2._calls = base, base + 1
        y = m.fc3(d2(m.fc2(d1(m.fc1(x)))))
        np.testing.assert_array_equal(y.detach().numpy(), out.detach().numpy())
        y.sum().backward()
        for a, p in zip(g_auto, m.parameters()):
            np.testing.assert_allclose(a, p.grad.numpy(), rtol=1e-12)


class TiedResidual(nn.Module):
    """An autoencoder with tied weights (decoder = encoder.T) and a residual connection."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(6, 4)
        self.mid = nn.Linear(4, 4)
        self.dec_bias = nn.Parameter(fastnn.zeros(6))
        self.act = nn.Tanh()

    def forward(self, x):
        h = self.act(self.enc(x))
        h = h + self.act(self.mid(h))  # residual, the activation reused
        return F.linear(h, self.enc.weight.t(), self.dec_bias)


def test_tied_weights_and_residual_gradcheck_and_torch_parity():
    fastnn.manual_seed(0)
    m = TiedResidual().double()
    x = fastnn.tensor(np.random.default_rng(2).standard_normal((5, 6)), requires_grad=True)
    assert autograd.gradcheck(lambda xx, *ps: m(xx), [x] + list(m.parameters()), atol=1e-6, rtol=1e-5)

    class TorchTied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.mid = torch.nn.Linear(6, 4), torch.nn.Linear(4, 4)
            self.dec_bias = torch.nn.Parameter(torch.zeros(6))
            self.act = torch.nn.Tanh()

        def forward(self, x):
            h = self.act(self.enc(x))
            h = h + self.act(self.mid(h))
            return torch.nn.functional.linear(h, self.enc.weight.t(), self.dec_bias)

    m = TiedResidual()
    tm = TorchTied()
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    X = np.random.default_rng(3).standard_normal((8, 6)).astype(np.float32)
    lf, tlf = nn.MSELoss(), torch.nn.MSELoss()
    fo, to = optim.Adam(m.parameters(), lr=1e-2), torch.optim.Adam(tm.parameters(), lr=1e-2)
    for _ in range(20):
        fo.zero_grad()
        lf(m(fastnn.tensor(X)), fastnn.tensor(X)).backward()
        fo.step()
        to.zero_grad()
        tlf(tm(torch.tensor(X)), torch.tensor(X)).backward()
        to.step()
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(m.state_dict()[k].numpy(), v.numpy(), rtol=1e-5, atol=1e-5)


def course_class(L, bias=True):
    """A course-style module for library L: Linear + BatchNorm + ELU, one ELU instance reused."""

    class Course(L.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.bn1 = L.Linear(64, 32, bias=bias), L.BatchNorm1d(32)
            self.fc2, self.bn2 = L.Linear(32, 16, bias=bias), L.BatchNorm1d(16)
            self.out, self.act = L.Linear(16, 10), L.ELU()

        def forward(self, x):
            x = self.act(self.bn1(self.fc1(x)))
            x = self.act(self.bn2(self.fc2(x)))
            return self.out(x)
    return Course


Course = course_class(nn)


def torch_course(bias=True):
    return course_class(torch.nn, bias)()


@pytest.mark.parametrize("opt", ["SGD-nesterov", "Adam", "RMSprop"])
def test_twenty_step_trajectory_matches_torch(opt):
    X, y = digits(320)
    fastnn.manual_seed(0)
    # no bias right before BatchNorm: BN cancels it, so its gradient is rounding noise that adaptive
    # optimizers amplify into steps of size lr (in both libraries, differently)
    m, tm = course_class(nn, bias=False)(), torch_course(bias=False)
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    mk = {"SGD-nesterov": lambda O, p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
          "Adam": lambda O, p: O.Adam(p, lr=1e-3), "RMSprop": lambda O, p: O.RMSprop(p, lr=1e-3)}[opt]
    fo, to = mk(optim, m.parameters()), mk(torch.optim, tm.parameters())
    crit, tcrit = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for step in range(20):
        xb, yb = X[16 * step:16 * step + 16], y[16 * step:16 * step + 16]
        fo.zero_grad()
        lf = crit(m(fastnn.tensor(xb)), fastnn.tensor(yb))
        lf.backward()
        fo.step()
        to.zero_grad()
        lt = tcrit(tm(torch.tensor(xb)), torch.tensor(yb))
        lt.backward()
        to.step()
        assert abs(lf.item() - lt.item()) < 1e-5 * max(1, abs(lt.item())) + 1e-6
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(np.asarray(m.state_dict()[k].numpy(), np.float64), v.numpy().astype(np.float64),
                                   rtol=1e-5, atol=1e-5)


def test_deepcopy_gives_an_independent_model_that_trains():
    X, y = digits()
    fastnn.manual_seed(0)
    base = Course()
    before = {k: v.clone() for k, v in base.state_dict().items()}
    accs = []
    for mk in (lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p, lr=1e-2)):
        m = copy.deepcopy(base)
        for p, q in zip(m.parameters(), base.parameters()):
            assert p is not q and p.data.numpy().base is m.fc1.weight.data.numpy().base  # one arena of its own
        opt = mk(m.parameters())
        crit = nn.CrossEntropyLoss()
        for _ in range(30):
            opt.zero_grad()
            crit(m(fastnn.tensor(X)), fastnn.tensor(y)).backward()
            opt.step()
        m.eval()
        accs.append((m(fastnn.tensor(X)).argmax(1).numpy() == y).mean())
    assert min(accs) > 0.9
    for k, v in base.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k].numpy())


def test_outputs_kept_in_a_list_stay_correct():
    X, _ = digits(256)
    fastnn.manual_seed(0)
    for model in (Course(), nn.Sequential(nn.Linear(64, 10), nn.ReLU())):
        model.eval()
        want = [model(fastnn.tensor(X[i:i + 32])).detach().numpy().copy() for i in range(0, 256, 32)]
        with fastnn.no_grad():
            outs = [model(fastnn.tensor(X[i:i + 32])) for i in range(0, 256, 32)]
        arrays = [model(X[i:i + 32]) for i in range(0, 256, 32)] if model._fusable() else []
        for w, o in zip(want, outs):
            np.testing.assert_array_equal(o.numpy(), w)
        for w, a in zip(want, arrays):
            np.testing.assert_array_equal(a, w)


def test_a_layer_moved_into_a_new_container_keeps_training():
    fastnn.manual_seed(0)
    a, b = nn.Linear(4, 4), nn.Linear(4, 2)
    model = nn.Sequential(a, nn.ReLU(), b)
    opt = optim.SGD(model.parameters(), lr=0.1)
    other = nn.Sequential(nn.Linear(3, 4), a)  # moves a's parameters into another arena
    assert a.weight.data.numpy().base is other.arena().arena.data
    w0 = a.weight.detach().clone()
    opt.zero_grad()
    model(fastnn.randn(5, 4)).sum().backward()
    opt.step()
    assert not fastnn.equal(a.weight, w0)  # the optimizer followed the moved parameter
    assert a.weight.data.numpy().base is opt._range.arena.data


def test_parameter_data_assignment_stays_in_the_arena():
    m = nn.Sequential(nn.Linear(3, 2))
    arena = m.arena().arena
    m[0].weight.data = np.ones((2, 3), np.float32)
    m[0].bias.data = fastnn.zeros(2)
    assert m[0].weight.data.numpy().base is arena.data and arena.data[:6].tolist() == [1.0] * 6
    with pytest.raises(ValueError, match="keeps its shape"):
        m[0].weight.data = np.ones((3, 3), np.float32)
    with fastnn.no_grad():
        m[0].weight -= 0.5 * m[0].weight  # a manual update, in place in the arena
    assert arena.data[0] == 0.5


def net_class(lib):
    L = lib.nn

    class Net(L.Module):
        def __init__(self):
            super().__init__()
            self.layers = L.ModuleList([L.Linear(4, 4) for _ in range(2)])
            self.heads = L.ModuleDict({"a": L.Linear(4, 1), "b": L.Linear(4, 2)})
            self.scales = L.ParameterList([L.Parameter(lib.ones(4))])
            self.register_buffer("steps", lib.zeros(1))
            self.seq = L.Sequential(L.Linear(4, 4), L.ReLU())

        def forward(self, x):
            for layer in self.layers:
                x = layer(x) * self.scales[0]
            return self.heads["b"](self.seq(x))
    return Net


def test_containers_registration_and_torch_state_keys():
    m, tm = net_class(fastnn)(), net_class(torch)()
    assert list(m.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in m.named_modules()] == [n for n, _ in tm.named_modules()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in tm.named_buffers()]
    m.load_state_dict({k: v for k, v in tm.state_dict().items()})  # torch tensors load directly
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(m(fastnn.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert sum(p.numel() for p in m.parameters()) == sum(p.numel() for p in tm.parameters())
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    seq[1] = nn.Tanh()
    seq.append(nn.Linear(2, 1))
    seq.insert(0, nn.Identity())
    del seq[0]
    assert [type(s).__name__ for s in seq] == ["Linear", "Tanh", "Linear"] and list(seq.state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias"]
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Net" and "ModuleList" in seen
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    with pytest.raises(TypeError, match="cannot assign"):
        m.layers[0].weight = fastnn.zeros(4, 4)
    with pytest.raises(NotImplementedError, match="CPU only"):
        m.cuda()
    assert m.to("cpu") is m and m.float() is m and m.double().layers[0].weight.dtype == fastnn.float64


def test_forward_hooks_and_pre_hooks():
    m = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))
    acts = {}
    h = m[1].register_forward_hook(lambda mod, inp, out: acts.__setitem__("relu", out.detach().numpy().copy()))
    m[0].register_forward_pre_hook(lambda mod, inp: (inp[0] * 0,))
    out = m(fastnn.randn(2, 3))
    assert acts["relu"].shape == (2, 3)
    np.testing.assert_allclose(acts["relu"], np.maximum(m[0].bias.detach().numpy(), 0)[None].repeat(2, 0))
    out.sum().backward()  # the unfused path still trains
    assert m[2].weight.grad is not None
    h.remove()


def test_handwritten_module_old_contract_still_works():
    class Scale(nn.Module):  # the previous contract: array forward and backward
        def forward(self, x):
            self._x = x
            return 3 * x

        def backward(self, g, need_input_grad=True):
            return 3 * g

    m = nn.Sequential(nn.Linear(2, 2), Scale())
    x = fastnn.randn(4, 2, requires_grad=True)
    m(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * m[0].weight.detach().numpy().sum(0)[None].repeat(4, 0),
                               rtol=1e-6)
