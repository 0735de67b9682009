"""fastnn.sklearn: scikit-learn's own estimator checks (one expected failure, with its reason), and the
contract a user relies on: labels of any type, partial_fit with classes, sample weights, multi-output
regression, pickling, clone, Pipeline + GridSearchCV(n_jobs=2), cross_val_score(n_jobs=2)."""
import copy
import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_regression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fastnn  # noqa: E402
from fastnn import nn  # noqa: E402
from fastnn.sklearn import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402

XFAIL = {"check_sample_weight_equivalence_on_dense_data":
         "minibatch SGD on shuffled batches: weighting a sample k times is not the same as repeating it k times "
         "(different batches); weights of 0 and 1 behave as removing and keeping (tested below)"}


@parametrize_with_checks([NeuralNetClassifier(random_state=0), NeuralNetRegressor(random_state=0)],
                         expected_failed_checks=lambda est: XFAIL)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X.astype(np.float32) / 16, y, test_size=0.2, random_state=0)


def test_defaults_reach_the_chapters_accuracy_on_digits(digits):
    Xtr, Xte, ytr, yte = digits
    clf = NeuralNetClassifier(random_state=0).fit(Xtr, ytr)
    assert clf.score(Xte, yte) >= 0.97
    assert clf.n_iter_ == len(clf.loss_curve_) >= 5 and clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.history_["accuracy"][-1] > 0.95 and clf.n_features_in_ == 64
    proba = clf.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-9)
    assert (clf.classes_[proba.argmax(1)] == clf.predict(Xte)).all()
    assert (clf.decision_function(Xte).argmax(1) == proba.argmax(1)).all()


def test_any_label_type_comes_back_as_given(digits):
    Xtr, Xte, ytr, yte = digits
    for labels in (np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]),
                   np.arange(-5, 5), np.array([False, True] * 5)):
        y = labels[ytr]
        clf = NeuralNetClassifier(max_epochs=5, random_state=0).fit(Xtr, y)
        assert set(clf.classes_) == set(labels) and set(np.unique(clf.predict(Xte))) <= set(labels)
    binary = NeuralNetClassifier(max_epochs=5, random_state=0).fit(Xtr, ytr % 2 == 0)
    assert binary.decision_function(Xte).shape == (len(Xte),)


def test_partial_fit_with_classes_and_warm_start(digits):
    Xtr, Xte, ytr, yte = digits
    clf = NeuralNetClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(Xtr[:100], ytr[:100])
    first = Xtr[ytr < 5][:200], ytr[ytr < 5][:200]
    clf.partial_fit(*first, classes=np.arange(10))  # the first chunk lacks classes 5-9
    for i in range(0, len(Xtr), 200):
        clf.partial_fit(Xtr[i:i + 200], ytr[i:i + 200])
    assert list(clf.classes_) == list(range(10)) and clf.score(Xte, yte) > 0.85
    with pytest.raises(ValueError, match="not seen"):
        clf.partial_fit(Xtr[:10], np.full(10, 42))
    ws = NeuralNetClassifier(max_epochs=3, warm_start=True, random_state=0).fit(Xtr, ytr)
    n = ws.n_iter_
    ws.fit(Xtr, ytr)
    assert ws.n_iter_ == n + 3 and len(ws.loss_curve_) == n + 3


def test_sample_weights_zero_removes_and_weights_shift_the_decision(digits):
    Xtr, Xte, ytr, yte = digits
    w = np.ones(len(ytr))
    w[ytr == 3] = 0.0  # class 3 never counts
    clf = NeuralNetClassifier(max_epochs=20, random_state=0).fit(Xtr, ytr, sample_weight=w)
    assert (clf.predict(Xte[yte == 3]) == 3).mean() < 0.5
    ones = NeuralNetClassifier(max_epochs=5, random_state=0).fit(Xtr, ytr, sample_weight=np.ones(len(ytr)))
    assert ones.score(Xte, yte) > 0.9
    with pytest.raises(ValueError):
        NeuralNetClassifier().fit(Xtr, ytr, sample_weight=np.ones(3))


def test_multi_output_regression_and_target_scale():
    X, y = make_regression(n_samples=400, n_features=8, n_targets=3, noise=0.1, random_state=0)
    y = y * 1000 + 5e4  # any scale: the network learns standardized targets
    reg = make_pipeline(StandardScaler(), NeuralNetRegressor(max_epochs=60, random_state=0)).fit(X[:300], y[:300])
    assert reg.predict(X[300:]).shape == (100, 3) and reg.score(X[300:], y[300:]) > 0.9
    r1 = NeuralNetRegressor(max_epochs=30, random_state=0).fit(X[:300], y[:300, 0])
    assert r1.predict(X[300:]).shape == (100,)


def test_pickle_deepcopy_clone_and_a_custom_module(digits):
    Xtr, Xte, ytr, yte = digits
    clf = NeuralNetClassifier(max_epochs=3, random_state=0).fit(Xtr, ytr)
    for other in (pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf)):
        np.testing.assert_array_equal(other.predict_proba(Xte), clf.predict_proba(Xte))
    fresh = clone(clf)
    assert not hasattr(fresh, "model_") and fresh.get_params() == clf.get_params()
    fastnn.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    before = {k: np.array(v).copy() for k, v in net.state_dict().items()}
    custom = NeuralNetClassifier(module=net, optimizer="adam", lr=1e-2, max_epochs=10, random_state=0).fit(Xtr, ytr)
    assert custom.score(Xte, yte) > 0.9
    assert all(np.array_equal(before[k], np.array(v)) for k, v in net.state_dict().items())  # the param untouched
    built = NeuralNetClassifier(module=lambda n_in, n_out: nn.Sequential(nn.Linear(n_in, n_out)), max_epochs=5,
                                random_state=0).fit(Xtr, ytr)
    assert built.model_[0].weight.shape == (10, 64)
    gen = fastnn.default_generator.get_state()
    NeuralNetClassifier(max_epochs=1, random_state=0).fit(Xtr, ytr)
    assert fastnn.default_generator.get_state() == gen  # the user's random stream untouched


def test_grid_search_and_cross_validation_in_worker_processes(digits):
    Xtr, Xte, ytr, yte = digits
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(max_epochs=5, random_state=0))
    grid = GridSearchCV(pipe, {"neuralnetclassifier__hidden_layer_sizes": [(32,), (64, 32)],
                               "neuralnetclassifier__lr": [0.01, 0.05]}, cv=3, n_jobs=2)
    grid.fit(Xtr[:600], ytr[:600])
    assert grid.best_score_ > 0.85 and set(grid.best_params_) == {"neuralnetclassifier__hidden_layer_sizes",
                                                                   "neuralnetclassifier__lr"}
    scores = cross_val_score(NeuralNetClassifier(max_epochs=5, random_state=0), Xtr[:600], ytr[:600], cv=3, n_jobs=2)
    assert scores.min() > 0.85


def test_float32_input_is_not_copied():
    X = np.random.default_rng(0).standard_normal((64, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clf = NeuralNetClassifier()
    Xp, _ = clf._prepare(X, y, reset=True)
    assert Xp.dtype == np.float32 and np.shares_memory(Xp, X)  # validated in place: no float64 round trip
    Xp, _ = clf._prepare(X.astype(np.float64), y, reset=True)
    assert Xp.dtype == np.float32  # float64 (or int) input is converted once
