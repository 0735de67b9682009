import math

import numpy as np
import pytest

from fastnn import nn
from fastnn.nn import init


def w(shape=(400, 500)):
    return np.empty(shape, np.float64)


@pytest.mark.parametrize("fn,std", [
    (lambda a: init.xavier_normal_(a, rng=0), math.sqrt(2 / 900)),
    (lambda a: init.kaiming_normal_(a, nonlinearity="relu", rng=0), math.sqrt(2 / 500)),
    (lambda a: init.kaiming_normal_(a, mode="fan_out", nonlinearity="relu", rng=0), math.sqrt(2 / 400)),
    (lambda a: init.lecun_normal_(a, rng=0), math.sqrt(1 / 500)),
    (lambda a: init.normal_(a, rng=0), 1.0),
])
def test_normal_initializers(fn, std):
    a = fn(w())
    assert abs(a.mean()) < 0.01 * std * 10
    assert a.std() == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize("fn,bound", [
    (lambda a: init.xavier_uniform_(a, rng=0), math.sqrt(6 / 900)),
    (lambda a: init.xavier_uniform_(a, gain=5 / 3, rng=0), 5 / 3 * math.sqrt(6 / 900)),
    (lambda a: init.kaiming_uniform_(a, nonlinearity="relu", rng=0), math.sqrt(6 / 500)),
    (lambda a: init.kaiming_uniform_(a, a=math.sqrt(5), rng=0), 1 / math.sqrt(500)),
    (lambda a: init.uniform_(a, -0.3, 0.3, rng=0), 0.3),
])
def test_uniform_initializers(fn, bound):
    a = fn(w())
    assert a.min() >= -bound and a.max() <= bound
    assert a.max() > 0.99 * bound and a.min() < -0.99 * bound
    assert a.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)


def test_gains_and_fans():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_fan_in_and_fan_out(np.empty((8, 3, 5, 5))) == (75, 200)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(np.empty(5))
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swishy")
    z = init.constant_(np.empty(3), 0.5)
    assert (z == 0.5).all() and (init.zeros_(np.ones(2)) == 0).all() and (init.ones_(np.zeros(2)) == 1).all()


def test_linear_default_matches_pytorch_bounds_and_schemes():
    lin = nn.Linear(256, 128)
    b = 1 / math.sqrt(256)
    assert np.abs(lin.weight.data).max() <= b and np.abs(lin.bias.data).max() <= b
    he = nn.Linear(1000, 1000, init="he_normal", rng=1)
    assert he.weight.data.std() == pytest.approx(math.sqrt(2 / 1000), rel=0.01)
    assert not he.bias.data.any()
    naive = nn.Linear(1000, 1000, init="normal", rng=1)
    assert naive.weight.data.std() == pytest.approx(1.0, rel=0.01)
    same1, same2 = nn.Linear(5, 5, rng=3), nn.Linear(5, 5, rng=3)
    np.testing.assert_array_equal(same1.weight.data, same2.weight.data)


def test_vanishing_gradients_with_naive_init_and_sigmoid():
    """The chapter's opening problem: N(0, 1) weights + sigmoid saturate the units and the lowest
    layer's gradient is a tiny fraction of the top layer's; Xavier init with tanh keeps them
    comparable."""
    def run(init_name, act):
        layers = []
        for i in range(8):
            layers += [nn.Linear(100, 100, init=init_name, rng=i), act()]
        m = nn.Sequential(*layers, nn.Linear(100, 10, rng=99))
        x = np.random.default_rng(0).standard_normal((64, 100)).astype(np.float32)
        lf = nn.CrossEntropyLoss()
        top_act = m[:-1](x).copy()  # the last activation's output
        lf(m(x), np.zeros(64, np.int64))
        m.zero_grad()
        m.backward(lf.backward())
        ratio = np.abs(m[0].weight.grad).mean() / np.abs(m[-1].weight.grad).mean()
        return ratio, top_act

    r_naive, a_naive = run("normal", nn.Sigmoid)
    r_xavier, _ = run("xavier_uniform", nn.Tanh)
    assert r_naive < 0.02 * r_xavier
    saturated = np.mean((a_naive < 0.02) | (a_naive > 0.98))
    assert saturated > 0.5
