"""The Metric contract: a subclass written the torchmetrics way, forward vs update/compute, the compute
cache and warning, reset, copies, and bad input that changes nothing."""
import copy
import pickle

import numpy as np
import pytest

import fastnn as torch
import fastnn.metrics as torchmetrics


class Correct(torchmetrics.Metric):
    """The course's pattern: states declared with add_state, tensor arithmetic in update."""

    higher_is_better = True

    def __init__(self):
        super().__init__()
        self.add_state("correct", default=torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds, target):
        self.correct += (preds.argmax(dim=1) == target).sum()
        self.total += target.numel()

    def compute(self):
        return self.correct.float() / self.total


def test_custom_metric_forward_update_compute():
    m = Correct()
    p1, t1 = torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1])
    p2, t2 = torch.tensor([[0.3, 0.7]]), torch.tensor([1])
    assert m(p1, t1).item() == pytest.approx(0.5)      # the batch's own value
    assert m(p2, t2).item() == pytest.approx(1.0)
    assert m.compute().item() == pytest.approx(2 / 3)  # accumulated
    assert m.update_count == 2 and m.correct.item() == 2
    m.reset()
    assert m.update_count == 0 and m.total.item() == 0
    with pytest.warns(UserWarning, match="called before the ``update``"):
        m.compute()


def test_compute_is_cached_until_update():
    m = torchmetrics.MeanMetric()
    m.update(1.0)
    a = m.compute()
    assert m.compute() is a
    m.update(3.0)
    assert m.compute().item() == pytest.approx(2.0)


def test_subclass_calling_super_update_counts_once():
    class Twice(torchmetrics.MeanMetric):
        def update(self, value):
            super().update(value)
            super().update(value)

    m = Twice()
    m.update(2.0)
    assert m.update_count == 1 and m.compute().item() == 2.0


def test_bad_input_raises_clearly_and_changes_nothing():
    acc = torchmetrics.Accuracy(task="multiclass", num_classes=3)
    acc.update(torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([0]))
    before = {k: np.array(v.numpy()) for k, v in acc.metric_state.items()}
    with pytest.raises(RuntimeError, match=r"class indices in \[0, 3\)"):
        acc.update(torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([5]))
    with pytest.raises(ValueError, match="num_classes=3"):
        acc.update(torch.randn(2, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="same shape"):
        torchmetrics.Accuracy(task="binary").update(torch.rand(3), torch.tensor([0, 1]))
    assert acc.update_count == 1
    for k, v in acc.metric_state.items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    with pytest.raises(ValueError, match="task"):
        torchmetrics.Accuracy(task="multi")
    with pytest.raises(ValueError, match="num_classes"):
        torchmetrics.Accuracy(task="multiclass")
    with pytest.raises(ValueError, match="average"):
        torchmetrics.Precision(task="multiclass", num_classes=3, average="mean")
    with pytest.raises(ValueError, match="unexpected keyword"):
        torchmetrics.MeanSquaredError(sqared=False)


def test_forward_failure_keeps_accumulated_state():
    m = torchmetrics.MeanSquaredError()
    m.update(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
    with pytest.raises(RuntimeError, match="same shape"):
        m(torch.tensor([1.0]), torch.tensor([1.0, 2.0]))
    assert m.compute().item() == pytest.approx(2.0)


def test_copies_pickles_device_moves():
    m = torchmetrics.F1Score(task="multiclass", num_classes=3, average="macro")
    m.update(torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 2]))
    for c in (copy.deepcopy(m), pickle.loads(pickle.dumps(m)), m.clone()):
        assert c.compute().item() == pytest.approx(m.compute().item())
        c.update(torch.tensor([0]), torch.tensor([1]))
        assert c.update_count == 2 and m.update_count == 1
    assert m.to("cpu") is m
    with pytest.raises(NotImplementedError):
        m.cuda()


def test_metric_inside_a_module_and_in_a_loop():
    from fastnn import nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.acc = torchmetrics.Accuracy(task="multiclass", num_classes=3)

        def forward(self, x):
            return self.fc(x)

    model = Model()
    assert [n for n, _ in model.named_parameters()] == ["fc.weight", "fc.bias"]
    x, y = torch.randn(10, 4, requires_grad=True), torch.randint(0, 3, (10,))
    out = model(x)
    model.acc.update(out, y)  # preds that require grad are fine
    assert 0.0 <= model.acc.compute().item() <= 1.0


def test_plot_returns_figure():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    m = torchmetrics.Recall(task="multiclass", num_classes=3, average="none")
    m.update(torch.tensor([0, 1, 2]), torch.tensor([0, 2, 2]))
    fig, ax = m.plot()
    assert ax.get_title() == "MulticlassRecall"
