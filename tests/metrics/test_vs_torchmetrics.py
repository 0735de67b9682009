"""fastnn.metrics side by side with torchmetrics: the same constructor, the same batches through forward()
(each batch's value) and compute() (the accumulated value), for every task, averaging and input form."""
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.metrics as fm

torch = pytest.importorskip("torch")
tm = pytest.importorskip("torchmetrics")

RNG = np.random.default_rng(0)


def _run(name, kwargs, batches, *, fcls=None, tcls=None):
    a = (tcls or getattr(tm, name))(**kwargs)
    b = (fcls or getattr(fm, name))(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for args in batches:
            va = a(*[torch.tensor(x) for x in args])
            vb = b(*[fastnn.tensor(x) for x in args])
            _same(va, vb, name, kwargs)
        _same(a.compute(), b.compute(), name, kwargs)
    a.reset()
    b.reset()
    for args in batches[:1]:
        a.update(*[torch.tensor(x) for x in args])
        b.update(*[fastnn.tensor(x) for x in args])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(a.compute(), b.compute(), name, kwargs)


def _same(va, vb, name, kwargs):
    x, y = va.detach().numpy(), np.asarray(vb.numpy())
    assert x.shape == y.shape, (name, kwargs, x.shape, y.shape)
    np.testing.assert_allclose(y, x, rtol=2e-5, atol=2e-6, err_msg=f"{name} {kwargs}")
    assert (x.dtype.kind == "f") == (y.dtype.kind == "f"), (name, kwargs, x.dtype, y.dtype)


def _batches(make, n=3):
    return [make(RNG) for _ in range(n)]


def mc_logits(C, N=24, extra=()):
    return lambda r: (r.normal(size=(N, C) + extra).astype(np.float32), r.integers(0, C, (N,) + extra))


def mc_labels(C, N=24):
    return lambda r: (r.integers(0, C, N), r.integers(0, C, N))


def bin_probs(shape=(30,)):
    return lambda r: (r.random(shape).astype(np.float32), r.integers(0, 2, shape))


def bin_logits(shape=(30, 1)):
    return lambda r: (r.normal(size=shape).astype(np.float32) * 3, r.integers(0, 2, shape).astype(np.float32))


def ml(L, N=20, extra=()):
    return lambda r: (r.random((N, L) + extra).astype(np.float32), r.integers(0, 2, (N, L) + extra))


CLASSIFIERS = ["Accuracy", "Precision", "Recall", "F1Score", "Specificity"]


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "none"])
@pytest.mark.parametrize("inputs", ["logits", "labels", "k2", "image", "ignore_in", "ignore_out"])
def test_multiclass(name, average, inputs):
    C = 5
    kw = dict(task="multiclass", num_classes=C, average=average)
    make = {"logits": mc_logits(C), "labels": mc_labels(C), "k2": mc_logits(C), "image": mc_logits(C, 6, (3, 4)),
            "ignore_in": mc_logits(C), "ignore_out": mc_logits(C)}[inputs]
    batches = _batches(make)
    if inputs == "k2":
        kw["top_k"] = 2
    if inputs.startswith("ignore"):
        kw["ignore_index"] = 1 if inputs == "ignore_in" else -100
        if inputs == "ignore_out":
            for _, t in batches:
                t[::4] = -100
    _run(name, kw, batches)


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("inputs", ["probs", "logits", "labels", "image", "ignore", "threshold"])
def test_binary(name, inputs):
    kw = dict(task="binary")
    make = {"probs": bin_probs(), "logits": bin_logits(), "labels": lambda r: (r.integers(0, 2, 30),
                                                                            r.integers(0, 2, 30)),
            "image": bin_probs((4, 3, 5)), "ignore": bin_probs(), "threshold": bin_probs()}[inputs]
    batches = _batches(make)
    if inputs == "ignore":
        kw["ignore_index"] = -1
        for _, t in batches:
            t[::3] = -1
    if inputs == "threshold":
        kw["threshold"] = 0.3
    _run(name, kw, batches)


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("average", ["micro", "macro", "weighted", "none"])
def test_multilabel(name, average):
    _run(name, dict(task="multilabel", num_labels=4, average=average), _batches(ml(4)))
    batches = _batches(ml(4))
    for _, t in batches:
        t[::5, 1] = -1
    _run(name, dict(task="multilabel", num_labels=4, average=average, ignore_index=-1), batches)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_samplewise(task):
    for name in CLASSIFIERS:
        if task == "binary":
            _run(name, dict(task=task, multidim_average="samplewise"), _batches(bin_probs((6, 7))))
        elif task == "multiclass":
            for average in ("micro", "macro"):
                _run(name, dict(task=task, num_classes=3, average=average, multidim_average="samplewise"),
                     _batches(mc_logits(3, 5, (4,))))
        else:
            _run(name, dict(task=task, num_labels=3, average="macro", multidim_average="samplewise"),
                 _batches(ml(3, 5, (4,))))


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_fbeta(beta):
    _run("FBetaScore", dict(task="multiclass", num_classes=4, beta=beta, average="macro"), _batches(mc_logits(4)))
    _run("FBetaScore", dict(task="binary", beta=beta), _batches(bin_probs()))


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix(normalize):
    _run("ConfusionMatrix", dict(task="multiclass", num_classes=4, normalize=normalize), _batches(mc_logits(4)))
    _run("ConfusionMatrix", dict(task="binary", normalize=normalize), _batches(bin_logits()))
    _run("ConfusionMatrix", dict(task="multilabel", num_labels=3, normalize=normalize), _batches(ml(3)))
    batches = _batches(mc_logits(4))
    for _, t in batches:
        t[::3] = -1
    _run("ConfusionMatrix", dict(task="multiclass", num_classes=4, normalize=normalize, ignore_index=-1), batches)


def test_task_classes_directly():
    from torchmetrics import classification as TC

    from fastnn.metrics import classification as FC
    _run("MulticlassAccuracy", dict(num_classes=3), _batches(mc_logits(3)), fcls=FC.MulticlassAccuracy,
         tcls=TC.MulticlassAccuracy)  # the class's own default: macro
    _run("BinaryF1Score", dict(), _batches(bin_probs()), fcls=FC.BinaryF1Score, tcls=TC.BinaryF1Score)
    _run("MultilabelRecall", dict(num_labels=4), _batches(ml(4)), fcls=FC.MultilabelRecall, tcls=TC.MultilabelRecall)
    assert repr(fm.Accuracy(task="multiclass", num_classes=3)) == "MulticlassAccuracy()"


def reg(shape=(40,)):
    return lambda r: (r.normal(size=shape).astype(np.float32), r.normal(size=shape).astype(np.float32))


@pytest.mark.parametrize("name,kw,shape", [
    ("MeanSquaredError", {}, (40,)), ("MeanSquaredError", dict(squared=False), (40, 1)),
    ("MeanSquaredError", dict(num_outputs=3), (40, 3)), ("MeanAbsoluteError", {}, (40,)),
    ("MeanAbsoluteError", dict(num_outputs=2), (40, 2)), ("MeanAbsolutePercentageError", {}, (40,)),
    ("R2Score", {}, (40,)), ("R2Score", dict(multioutput="raw_values"), (40, 3)),
    ("R2Score", dict(multioutput="variance_weighted"), (40, 3)), ("R2Score", dict(adjusted=3), (40,)),
    ("ExplainedVariance", {}, (40,)), ("ExplainedVariance", dict(multioutput="raw_values"), (40, 2)),
])
def test_regression(name, kw, shape):
    batches = _batches(reg(shape))
    for p, t in batches:  # a signal to explain
        p += t
    _run(name, kw, batches)


@pytest.mark.parametrize("name", ["MeanMetric", "SumMetric", "MaxMetric", "MinMetric", "CatMetric"])
@pytest.mark.parametrize("nan_strategy", ["warn", "ignore", 0.0, "disable"])
def test_aggregation(name, nan_strategy):
    vals = [np.array([1.0, 2.5, np.nan, 4.0], np.float32), np.array(3.0, np.float32), np.array([-1.0, 7.0])]
    if nan_strategy == "disable":
        vals[0] = vals[0][~np.isnan(vals[0])]
    _run(name, dict(nan_strategy=nan_strategy), [(v,) for v in vals])


def test_mean_metric_weights_and_errors():
    a, b = tm.MeanMetric(), fm.MeanMetric()
    for v, w in ((np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.5, 2.0])), (np.array([4.0]), 3.0)):
        a.update(torch.tensor(v), torch.tensor(w) if isinstance(w, np.ndarray) else w)
        b.update(fastnn.tensor(v), fastnn.tensor(w) if isinstance(w, np.ndarray) else w)
    assert float(b.compute()) == pytest.approx(float(a.compute()))
    with pytest.raises(RuntimeError, match="nan"):
        fm.MeanMetric(nan_strategy="error").update(float("nan"))
    with pytest.raises(ValueError, match="nan_strategy"):
        fm.MeanMetric(nan_strategy="drop")


def test_metric_collection_matches_torchmetrics():
    def make(M):
        return M.MetricCollection([M.Accuracy(task="multiclass", num_classes=4),
                                   M.Precision(task="multiclass", num_classes=4, average="macro"),
                                   M.F1Score(task="multiclass", num_classes=4, average="weighted")], prefix="val_")
    a, b = make(tm), make(fm)
    for p, t in _batches(mc_logits(4)):
        ra, rb = a(torch.tensor(p), torch.tensor(t)), b(fastnn.tensor(p), fastnn.tensor(t))
        assert list(ra) == list(rb)
        for k in ra:
            _same(ra[k], rb[k], k, {})
    ra, rb = a.compute(), b.compute()
    assert sorted(ra) == sorted(rb) == ["val_MulticlassAccuracy", "val_MulticlassF1Score", "val_MulticlassPrecision"]
    for k in ra:
        _same(ra[k], rb[k], k, {})
    d = fm.MetricCollection({"acc": fm.Accuracy(task="binary"), "mse": fm.MeanSquaredError()}, postfix="_tr")
    d.update(fastnn.tensor([0.2, 0.9]), fastnn.tensor([0.0, 1.0]))
    assert sorted(d.compute()) == ["acc_tr", "mse_tr"]
    with pytest.raises(ValueError, match="both named"):
        fm.MetricCollection([fm.MeanMetric(), fm.MeanMetric()])
    b.reset()
    assert all(m.update_count == 0 for m in b.values())


def test_functional_forms_match_torchmetrics():
    import torchmetrics.functional as TF

    import fastnn.metrics.functional as FF
    p, t = mc_logits(5)(RNG)
    for fn, kw in (("accuracy", dict(task="multiclass", num_classes=5)),
                   ("f1_score", dict(task="multiclass", num_classes=5, average="macro")),
                   ("confusion_matrix", dict(task="multiclass", num_classes=5))):
        _same(getattr(TF, fn)(torch.tensor(p), torch.tensor(t), **kw), getattr(FF, fn)(fastnn.tensor(p),
                                                                                       fastnn.tensor(t), **kw), fn, kw)
    x, y = reg()(RNG)
    for fn in ("mean_squared_error", "mean_absolute_error", "r2_score"):
        _same(getattr(TF, fn)(torch.tensor(x), torch.tensor(y)), getattr(FF, fn)(fastnn.tensor(x), fastnn.tensor(y)),
              fn, {})
