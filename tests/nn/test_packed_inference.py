"""Linear keeps its weight packed for inference (eval, no_grad): outputs are the training path's bits,
and every way fastnn changes a weight makes it pack again."""
import numpy as np

import fastnn
from fastnn import nn


def _model():
    fastnn.manual_seed(0)
    return nn.Sequential(nn.Linear(30, 40), nn.ReLU(), nn.Linear(40, 5))


def _infer(m, x):
    with fastnn.no_grad():
        return m(x).numpy().copy()


def test_packed_inference_gives_the_same_bits_and_is_reused():
    m, x = _model(), fastnn.randn(3, 30)
    want = m(x).detach().numpy().copy()
    m.eval()
    first = _infer(m, x)
    pk = m[0].__dict__["_pk"][2]
    np.testing.assert_array_equal(first, want)
    np.testing.assert_array_equal(_infer(m, x[:1]), want[:1])
    assert m[0].__dict__["_pk"][2] is pk  # kept across calls
    assert "_pk" not in m[0].__getstate__()


def test_every_weight_change_repacks():
    m, x = _model(), fastnn.randn(2, 30)
    m.eval()
    before = _infer(m, x)

    def fresh():
        with fastnn.enable_grad():
            return m(x).detach().numpy()

    # an optimizer step
    m.train()
    opt = fastnn.optim.SGD(m.parameters(), lr=0.1)
    m(x).sum().backward()
    opt.step()
    m.eval()
    after = _infer(m, x)
    assert not np.array_equal(after, before)
    np.testing.assert_array_equal(after, fresh())
    # in eval, without train()/eval() in between: in-place ops, .data, load_state_dict, vector_to_parameters
    changes = [lambda: m[0].weight.data.mul_(0.5),
               lambda: setattr(m[0].weight, "data", fastnn.ones(40, 30)),
               lambda: m.load_state_dict({k: v * 2 for k, v in m.state_dict().items()}),
               lambda: nn.utils.vector_to_parameters(nn.utils.parameters_to_vector(m.parameters()) + 1,
                                                     m.parameters())]
    for change in changes:
        _infer(m, x)
        with fastnn.no_grad():
            change()
        np.testing.assert_array_equal(_infer(m, x), fresh())
    # raw writes through numpy: eval() re-reads
    _infer(m, x)
    m[0].weight.detach().numpy()[...] = 0
    m.eval()
    np.testing.assert_array_equal(_infer(m, x), fresh())
