"""A PyTorch-style loop whose loss turns NaN says so once, naming the step, instead of printing nan for the
rest of the run (the textbook's regression on unscaled features)."""
import warnings

import numpy as np

import fastnn as torch


def _loop(X, y, lr, steps):
    w = torch.zeros((X.shape[1], 1), requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
        losses.append(loss.item())
    return losses


def test_warns_once_at_the_first_non_finite_loss():
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.normal(size=(50, 3)) * [1.0, 1e3, 1e4], dtype=torch.float32)  # unscaled features
    y = torch.tensor(rng.normal(size=(50, 1)), dtype=torch.float32)
    from fastnn._autograd import _LossWatch
    before = _LossWatch.steps
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        losses = _loop(X, y, 0.4, 20)
    ours = [x for x in w if "the loss is" in str(x.message)]
    first_bad = next(i for i, v in enumerate(losses) if not np.isfinite(v))
    assert len(ours) == 1 and "standardize" in str(ours[0].message)
    assert ours[0].filename == __file__  # points at the user's backward() line
    assert f"at step {before + first_bad + 1} " in str(ours[0].message)


def test_standardized_features_train_without_warning():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(50, 3)) * [1.0, 1e3, 1e4]
    X = torch.tensor(raw, dtype=torch.float32)
    X = (X - X.mean(dim=0, keepdims=True)) / X.std(dim=0, keepdims=True)  # the textbook's cell
    y = torch.tensor(rng.normal(size=(50, 1)), dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = _loop(X, y, 0.4, 20)
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
