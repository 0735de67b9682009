"""No input crashes the process: zero-size dimensions in every position for every kernel op, and every
public layer, loss and functional op called with hostile inputs (arrays and tensors), in a fresh
interpreter that must exit normally (exceptions are fine, signals are not)."""
from _helpers import run_python

ZERO_DIMS = r'''
import itertools, numpy as np
from fastnn import ops
shapes = []
for nd in (1, 2, 3, 4):
    for pos in range(nd):
        for other in (1, 3):
            s = [other] * nd
            s[pos] = 0
            shapes.append(tuple(s))
shapes += [(0,) * nd for nd in (1, 2, 3, 4)]
arrs = [np.zeros(s, dt) for s in shapes for dt in (np.float32, np.float64)]
ints = [np.zeros(s[:1], np.int64) for s in shapes]
count = 0
for name in ops.__all__:
    f = getattr(ops, name)
    for a in arrs:
        for args in ([a], [a, a], [a, a, a], [a, ints[0]], [a, a, a, a], [a, a, a, a, a]):
            for kw in ({}, {"reduction": "none"}, {"reduction": "sum"}, {"step": 1, "lr": 0.1}, {"seed": 1},
                       {"training": True}, {"out": a}):
                try:
                    f(*args, **kw)
                except Exception:
                    pass
                count += 1
print("survived", count)
'''

MODULES = r'''
import numpy as np, fastnn
from fastnn import nn
import fastnn.nn.functional as F
rng = np.random.default_rng(0)
inputs = [np.zeros((0, 4), np.float32), np.zeros((4, 0), np.float32), np.zeros((0, 0), np.float32),
          np.zeros((0, 4, 3), np.float32), np.zeros((2, 0, 3, 3), np.float32), np.zeros(0, np.float32),
          np.ones((1, 4), np.float32), np.ones((3, 4), np.float64), np.ones((3, 4), np.int64),
          np.full((3, 4), np.nan, np.float32), np.full((3, 4), np.inf, np.float32), np.ones((3, 5), np.float32),
          np.ones((2, 4, 3, 3), np.float32), np.array(1.0, np.float32), np.ones((3, 4), np.float16),
          np.ones((3, 4), np.complex64), np.ones((3, 4), np.bool_)]
layers = [lambda: nn.Linear(4, 3), lambda: nn.Linear(4, 3, bias=False), nn.ReLU, nn.Sigmoid, nn.Tanh, nn.ELU, nn.SELU,
          nn.GELU, nn.SiLU, nn.Softplus, nn.LeakyReLU, nn.RReLU, nn.PReLU, lambda: nn.PReLU(4), lambda: nn.BatchNorm1d(4),
          lambda: nn.BatchNorm2d(4), lambda: nn.Dropout(0.5), nn.Flatten, nn.Identity, lambda: nn.Softmax(1),
          lambda: nn.LogSoftmax(1), nn.Hardtanh, nn.ReLU6, nn.Mish, nn.Softsign, nn.LogSigmoid, nn.CELU,
          lambda: nn.Unflatten(1, (2, 2)), lambda: nn.Conv2d(4, 3, 3, padding=1), lambda: nn.Conv1d(4, 2, 3),
          lambda: nn.Conv2d(4, 4, 2, groups=4, padding=1, padding_mode="reflect"), lambda: nn.MaxPool2d(2),
          lambda: nn.MaxPool1d(3, 1, 1, ceil_mode=True), lambda: nn.AvgPool2d(3, 2, 1), lambda: nn.AdaptiveAvgPool2d(1),
          lambda: nn.AdaptiveMaxPool2d((2, 5)), lambda: nn.AdaptiveAvgPool1d(2), lambda: nn.Dropout2d(0.3),
          lambda: nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.2), nn.Linear(4, 2))]
losses = [nn.CrossEntropyLoss, lambda: nn.CrossEntropyLoss(label_smoothing=0.1, reduction="none"),
          lambda: nn.CrossEntropyLoss(weight=fastnn.ones(4)), nn.NLLLoss, nn.MSELoss, nn.L1Loss, nn.BCEWithLogitsLoss,
          nn.BCELoss, nn.SmoothL1Loss, nn.HuberLoss, lambda: nn.KLDivLoss(reduction="batchmean")]
targets = [np.zeros(0, np.int64), np.zeros(3, np.int64), np.array([0, 9, -1], np.int64), np.zeros((3, 4), np.float32),
           np.full((3, 4), np.nan, np.float32), np.zeros(3, np.float32), np.zeros((0, 4), np.float32), None, "x"]
count = 0
for make in layers:
    for training in (True, False):
        for x in inputs:
            for as_tensor in (False, True):
                try:
                    m = make()
                    m.train(training)
                    xx = fastnn.tensor(x, requires_grad=x.dtype.kind == "f" and x.dtype != np.float16) if as_tensor else x
                    out = m(xx)
                    if as_tensor:
                        out.sum().backward()
                    else:
                        m.backward(np.ones_like(np.asarray(out)))
                except Exception:
                    pass
                count += 1
for make in losses:
    for x in inputs:
        for t in targets:
            for as_tensor in (False, True):
                try:
                    lf = make()
                    xx = fastnn.tensor(x, requires_grad=x.dtype.kind == "f" and x.dtype != np.float16) if as_tensor else x
                    v = lf(xx, t)
                    if as_tensor:
                        v.sum().backward()
                    else:
                        lf.backward()
                except Exception:
                    pass
                count += 1
fns = [F.relu, F.softmax, F.log_softmax, F.dropout, F.gelu, F.elu, F.leaky_relu, F.normalize, F.one_hot,
       lambda a: F.pad(a, (1, 1)), lambda a: F.pad(a, (2, 2), mode="reflect"), lambda a: F.interpolate(a, size=2),
       lambda a: F.interpolate(a, scale_factor=0.5, mode="bilinear"), lambda a: F.linear(a, fastnn.ones(3, 4)),
       lambda a: F.cross_entropy(a, fastnn.zeros(3, dtype=fastnn.long)), lambda a: F.batch_norm(a, None, None, training=True),
       lambda a: F.conv2d(a, fastnn.ones(2, 4, 3, 3)), lambda a: F.conv1d(a, fastnn.ones(2, 4, 1), stride=2),
       lambda a: F.max_pool2d(a, 2, ceil_mode=True), lambda a: F.avg_pool1d(a, 3, padding=1),
       lambda a: F.adaptive_avg_pool2d(a, 3), lambda a: F.adaptive_max_pool1d(a, 2, return_indices=True),
       lambda a: F.max_pool2d(a, 3, 1, 1, dilation=2, return_indices=True)]
ops = [lambda a: a.sum(1), lambda a: a.mean(), lambda a: a.std(0), lambda a: a.max(1), lambda a: a.argmax(),
       lambda a: a.view(-1, 2), lambda a: a.T @ a, lambda a: a[a > 0], lambda a: a.norm(), lambda a: a.prod(0),
       lambda a: a.logsumexp(1), lambda a: a.topk(2), lambda a: a.softmax(0), lambda a: fastnn.cat([a, a]),
       lambda a: a.gather(1, fastnn.zeros(1, 1, dtype=fastnn.long)), lambda a: a.expand(5, -1, -1),
       lambda a: a.repeat(2, 2), lambda a: a.clamp(0, 1), lambda a: a ** a, lambda a: a / 0]
for f in fns + ops:
    for x in inputs:
        try:
            xx = fastnn.tensor(x, requires_grad=x.dtype.kind == "f" and x.dtype != np.float16)
            r = f(xx)
            r = r[0] if isinstance(r, tuple) else r
            if r.requires_grad:
                r.sum().backward()
        except Exception:
            pass
        count += 1
print("survived", count)
'''


def test_zero_size_dimensions_in_every_position_never_crash():
    r = run_python(ZERO_DIMS, timeout=600)
    assert r.returncode == 0 and "survived" in r.stdout, f"interpreter died (code {r.returncode}): {r.stderr[-2000:]}"


def test_every_layer_loss_and_tensor_op_survives_hostile_inputs():
    r = run_python(MODULES, timeout=600)
    assert r.returncode == 0 and "survived" in r.stdout, f"interpreter died (code {r.returncode}): {r.stderr[-2000:]}"
