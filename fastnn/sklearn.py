"""scikit-learn estimators over fastnn networks: NeuralNetClassifier and NeuralNetRegressor.

They follow scikit-learn's contract (fit / partial_fit / predict / predict_proba / decision_function /
score, get_params / set_params / clone, sample weights, pickling) and pass its estimator checks, so they
work in Pipeline, GridSearchCV and cross_val_score. With no arguments they train the chapter's default
network: He initialization, ELU, batch normalization, dropout 0.2, Nesterov momentum::

    from fastnn.sklearn import NeuralNetClassifier
    clf = NeuralNetClassifier(hidden_layer_sizes=(128, 64), max_epochs=40).fit(X, y)
    clf.predict(X), clf.predict_proba(X), clf.loss_curve_

Or bring your own network: ``NeuralNetClassifier(module=my_fastnn_module)`` (copied at fit: the
parameter itself is never trained) or ``module=lambda n_features, n_outputs: nn.Sequential(...)``.
"""
import copy
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, check_random_state, validate_data

from . import nn, optim
from ._random import default_generator
from ._threads import set_num_threads
from .autograd import no_grad
from .nn import functional as F
from .tensor import _wrap
from .nn.container import mlp
from .training import EarlyStopping, fit

_ACTIVATIONS = nn.activation.BY_NAME
_OPTIMIZERS = optim.BY_NAME


class _WeightedLoss:
    """loss(out, target) with per-sample weights carried in the target's last column: the weighted mean
    sum(w_i l_i) / sum(w_i) of the batch (scikit-learn's sample_weight meaning)."""

    def __init__(self, classifier, n_out):
        self.classifier, self.n_out = classifier, n_out

    def __call__(self, out, t):
        w = t[:, -1]
        if self.classifier:
            per = F.cross_entropy(out, t[:, 0].long(), reduction="none")
        else:
            per = ((out - t[:, :self.n_out]) ** 2).mean(dim=1)
        return (per * w).sum() / w.sum().clamp(min=1e-12)


class _NeuralNet(BaseEstimator):
    _classifier = False

    def __init__(self, module=None, *, hidden_layer_sizes=(128, 64), activation="elu", init="he_normal",
                 batch_norm=True, dropout=0.2, optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True,
                 weight_decay=0.0, batch_size=32, max_epochs=40, scheduler=None, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4, callbacks=None, random_state=None,
                 verbose=0, warm_start=False, n_threads=None, standardize=False):
        self.module = module
        self.standardize = standardize
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.scheduler = scheduler
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_threads = n_threads

    # ---- checks ----
    def _check_params(self):
        def pos_int(name, lo=1):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo:
                raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")

        pos_int("batch_size")
        pos_int("max_epochs")
        pos_int("n_iter_no_change")
        hs = self.hidden_layer_sizes
        hs = (hs,) if isinstance(hs, numbers.Integral) else tuple(hs)
        if any(isinstance(h, bool) or not isinstance(h, numbers.Integral) or h < 1 for h in hs):
            raise ValueError(f"hidden_layer_sizes: expected positive ints, got {self.hidden_layer_sizes!r}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"activation: expected one of {sorted(_ACTIVATIONS)}, got {self.activation!r}")
        named = isinstance(self.optimizer, str) and self.optimizer.lower() in _OPTIMIZERS
        if not named and not callable(self.optimizer):
            raise ValueError(f"optimizer: expected one of {sorted(_OPTIMIZERS)} or a callable(params) -> optimizer, "
                             f"got {self.optimizer!r}")
        for name, lo, hi in (("lr", 0.0, None), ("momentum", 0.0, 1.0), ("weight_decay", 0.0, None),
                             ("dropout", 0.0, 1.0), ("validation_fraction", 0.0, 1.0), ("tol", 0.0, None)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v) or v < lo or \
                    (hi is not None and v >= hi) or (name == "lr" and v <= 0):
                raise ValueError(f"{name}: expected a number in [{lo}, {hi if hi is not None else 'inf'}), got {v!r}")
        if self.module is not None and not (isinstance(self.module, nn.Module) or callable(self.module)):
            raise ValueError(f"module: expected a fastnn Module or a callable(n_features, n_outputs), got "
                             f"{type(self.module).__name__}")
        return hs

    # ---- the network ----
    def _build(self, n_in, n_out, hidden):
        if isinstance(self.module, nn.Module):
            model = copy.deepcopy(self.module)
        elif self.module is not None:
            model = self.module(n_in, n_out)
            if not isinstance(model, nn.Module):
                raise ValueError(f"module: the callable returned a {type(model).__name__}, not a fastnn Module")
        else:
            model = mlp(n_in, hidden, n_out, nn.activation.BY_NAME[self.activation], init=self.init,
                        batch_norm=self.batch_norm, dropout=self.dropout)
        return model

    def _make_optimizer(self, model):
        if callable(self.optimizer) and not isinstance(self.optimizer, str):
            return self.optimizer(model.parameters())
        name = self.optimizer.lower()
        kw = {"lr": self.lr, "weight_decay": self.weight_decay}
        if name == "sgd":
            kw.update(momentum=self.momentum, nesterov=bool(self.nesterov) and self.momentum > 0)
        return _OPTIMIZERS[name](model.parameters(), **kw)

    # ---- training ----
    def _prepare(self, X, y, reset):
        """(X float32/64 as given, the targets as the network sees them)."""
        raise NotImplementedError

    def _fit(self, X, y, sample_weight, epochs, incremental, classes=None):
        """Train; a call that fails (bad input, an error while training) leaves the estimator exactly as it
        was: its attributes, and the fitted network and optimizer a warm start would have continued."""
        saved = dict(self.__dict__)
        if hasattr(self, "model_"):
            import copy
            saved.update(copy.deepcopy({k: saved[k] for k in ("model_", "optimizer_", "scheduler_") if k in saved}))
        try:
            return self._fit_once(X, y, sample_weight, epochs, incremental, classes)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit_once(self, X, y, sample_weight, epochs, incremental, classes=None):
        hidden = self._check_params()
        first = not (incremental or self.warm_start) or not hasattr(self, "model_")
        X, t = self._prepare(X, y, reset=first, classes=classes)
        if first:  # the chapter's input normalization: the first fit's statistics, kept for later calls
            if self.standardize:
                self._x_mean = X.mean(axis=0, dtype=np.float64)
                sd = X.std(axis=0, dtype=np.float64)
                self._x_scale = np.where(sd > 0, sd, 1.0)
            else:
                self._x_mean = self._x_scale = None
        X = self._scale(X, np.float32)
        if X.shape[0] < 2:
            raise ValueError(f"n_samples = {X.shape[0]}: the network needs at least 2 samples (batch normalization "
                             "and the loss are batch statistics)")
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32)
        rs = check_random_state(self.random_state)
        seed = int(rs.randint(0, 2 ** 31 - 1))
        if not first:
            self.model_.float()  # (trained in float32; kept in float64 between fits, see _forward)
        state = default_generator.get_state()  # the estimator's randomness never touches the user's stream
        try:
            default_generator.manual_seed(seed)
            if first:
                self.model_ = self._build(X.shape[1], self._n_out, hidden)
                self.optimizer_ = self._make_optimizer(self.model_)
                self.loss_curve_, self.n_iter_, self.history_ = [], 0, None
                if self.scheduler is not None:
                    self.scheduler_ = self.scheduler(self.optimizer_)
            if sample_weight is not None:
                target = np.column_stack([t.reshape(len(t), -1).astype(np.float32), sample_weight])
                loss, metrics = _WeightedLoss(self._classifier, self._n_out), ()
            else:
                target, loss = t, (nn.CrossEntropyLoss() if self._classifier else nn.MSELoss())
                metrics = ("accuracy",) if self._classifier else ()
            callbacks = list(self.callbacks or [])
            kw = {}
            if self.early_stopping and not incremental:
                n_val = max(1, int(round(self.validation_fraction * len(X))))
                if len(X) - n_val < 2:
                    raise ValueError(f"validation_fraction: {self.validation_fraction} leaves fewer than 2 samples to "
                                     "train on")
                idx = np.random.default_rng(seed).permutation(len(X))
                val, tr = idx[:n_val], idx[n_val:]
                kw["validation_data"] = (X[val], target[val])
                X, target = X[tr], target[tr]
                mon = "val_accuracy" if self._classifier and sample_weight is None else "val_loss"
                callbacks.append(EarlyStopping(monitor=mon, min_delta=self.tol, patience=self.n_iter_no_change))
            elif not incremental:  # MLPClassifier's rule: stop when the training loss stalls
                callbacks.append(EarlyStopping(monitor="loss", min_delta=self.tol, patience=self.n_iter_no_change,
                                               restore_best_weights=False))
            with set_num_threads(self.n_threads) if self.n_threads else _nothing():
                with warnings.catch_warnings():
                    if not self.verbose:
                        warnings.simplefilter("ignore", RuntimeWarning)
                    h = fit(self.model_, X, target, loss=loss, optimizer=self.optimizer_, epochs=epochs,
                            batch_size=min(self.batch_size, len(X)), callbacks=callbacks, metrics=metrics,
                            verbose=1 if self.verbose else 0, seed=seed, scheduler=getattr(self, "scheduler_", None),
                            **kw)
        finally:
            default_generator.set_state(state)
        if h.terminated_on_nan:
            warnings.warn(f"{type(self).__name__}: the loss became non-finite; training stopped (lower lr)",
                          RuntimeWarning)
        self.loss_curve_ += [float(v) for v in h["loss"]]
        self.n_iter_ += len(h)
        self.history_ = h
        # predictions run in float64: float32 products round differently with the number of rows (BLAS
        # picks kernels by shape), and scikit-learn expects a sample's prediction not to depend on its batch
        self.model_.eval().double()
        return self

    def _scale(self, X, dtype):
        if self._x_mean is None:
            return X.astype(dtype, copy=False)
        return ((X - self._x_mean) / self._x_scale).astype(dtype)

    def _forward(self, X):
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64], ensure_min_samples=1)
        X = self._scale(X, np.float64)
        with set_num_threads(self.n_threads) if self.n_threads else _nothing(), no_grad():
            out = self.model_(_wrap(np.ascontiguousarray(X)))
        return np.asarray(out.numpy(), np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.non_deterministic = self.random_state is None
        return tags


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """A fastnn network as a scikit-learn classifier.

    Labels of any type (strings, negative ints, booleans) come back as given; the network sees
    0 .. n_classes - 1 and a softmax cross-entropy. With no arguments it trains the chapter's default
    network (He initialization, ELU, batch norm, dropout 0.2, Nesterov momentum).

    Parameters
    ----------
    module : Module or callable, optional
        A fastnn module (copied at fit: the parameter itself is never trained), or a callable
        ``(n_features, n_classes) -> Module``. Without it, the built-in network below.
    hidden_layer_sizes : tuple of int, default (128, 64)
    activation : str, default "elu"
    init : str, default "he_normal"
    batch_norm : bool, default True
    dropout : float, default 0.2
    optimizer : str or callable, default "sgd"
        "sgd", "adam", "nadam", "rmsprop", "adagrad", "adamw", or a callable(params).
    lr : float, default 0.05
    momentum : float, default 0.9
    nesterov : bool, default True
    weight_decay : float, default 0.0
    batch_size : int, default 32
    max_epochs : int, default 40
    scheduler : callable, optional
        ``optimizer -> LR scheduler``.
    early_stopping : bool, default False
        Hold out `validation_fraction` and stop when its score has not improved by `tol` for
        `n_iter_no_change` epochs, as MLPClassifier. Without it, training also stops when the training
        loss improves by less than `tol` for `n_iter_no_change` epochs.
    validation_fraction : float, default 0.1
    n_iter_no_change : int, default 10
    tol : float, default 1e-4
    callbacks : list, optional
        fastnn training callbacks.
    random_state : int, optional
    verbose : int, default 0
    warm_start : bool, default False
    n_threads : int, optional
    standardize : bool, default False
        Scale the features by the first fit's mean and standard deviation (the chapter's input
        normalization, at the cost of a copy); the scikit-learn way is a StandardScaler in a Pipeline.
        Without it, float32 input reaches the network uncopied.

    Attributes
    ----------
    classes_ : ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray
    model_ : Module
        The fastnn network.
    optimizer_ : Optimizer
    loss_curve_ : list of float
    history_ : History
    n_iter_ : int
    """

    _classifier = True

    def _prepare(self, X, y, reset, classes=None):
        X, y = validate_data(self, X, y, reset=reset, dtype=[np.float32, np.float64], y_numeric=False,
                             ensure_min_samples=1)
        X = X.astype(np.float32, copy=False)
        check_classification_targets(y)
        if reset:
            enc = LabelEncoder()
            if classes is not None:
                enc.fit(np.asarray(classes))
                unknown = np.setdiff1d(np.unique(y), enc.classes_)
                if len(unknown):
                    raise ValueError(f"y contains labels {unknown.tolist()} not in classes")
            else:
                enc.fit(y)
            if len(enc.classes_) < 2:
                raise ValueError(f"y: the classifier needs samples of at least 2 classes; got 1 class "
                                 f"({enc.classes_[0]!r})")
            self._encoder, self.classes_ = enc, enc.classes_
            self._n_out = len(enc.classes_)
        else:
            unknown = np.setdiff1d(np.unique(y), self.classes_)
            if len(unknown):
                raise ValueError(f"y contains labels {unknown.tolist()} not seen in the first fit / classes")
        return X, self._encoder.transform(y).astype(np.int64)

    def fit(self, X, y, sample_weight=None):
        """Train on (X, y) for up to max_epochs (from scratch unless warm_start)."""
        return self._fit(X, y, sample_weight, self.max_epochs, incremental=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One pass over (X, y); the first call needs `classes` (every label the data will have)."""
        if not hasattr(self, "model_"):
            if classes is None:
                raise ValueError("classes: the first call to partial_fit needs every class label (classes=...)")
            return self._fit(X, y, sample_weight, 1, incremental=True, classes=classes)
        return self._fit(X, y, sample_weight, 1, incremental=True)

    def decision_function(self, X):
        """The network's logits (n_samples, n_classes); for two classes the difference logit_1 - logit_0."""
        out = self._forward(X)
        return out[:, 1] - out[:, 0] if out.shape[1] == 2 else out

    def predict_proba(self, X):
        out = self._forward(X)
        out = out - out.max(axis=1, keepdims=True)
        p = np.exp(out)
        return p / p.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        out = self._forward(X)
        out = out - out.max(axis=1, keepdims=True)
        return out - np.log(np.exp(out).sum(axis=1, keepdims=True))

    def predict(self, X):
        scores = self._forward(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    # (Adam at 1e-3 by default, as MLPRegressor: a squared error's gradient grows with the error, and
    # Nesterov at the classifier's 0.05 diverges on small regression problems)
    """A fastnn network as a scikit-learn regressor (mean squared error; one or several outputs). The
    network learns standardized targets (predictions are scaled back), so the default learning rate suits
    any target scale. The parameters and attributes are NeuralNetClassifier's (no ``classes_``), except the
    optimizer's defaults: optimizer="adam", lr=1e-3."""

    def __init__(self, module=None, *, hidden_layer_sizes=(128, 64), activation="elu", init="he_normal",
                 batch_norm=True, dropout=0.2, optimizer="adam", lr=1e-3, momentum=0.9, nesterov=True,
                 weight_decay=0.0, batch_size=32, max_epochs=40, scheduler=None, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4, callbacks=None, random_state=None,
                 verbose=0, warm_start=False, n_threads=None, standardize=False):
        super().__init__(module, hidden_layer_sizes=hidden_layer_sizes, activation=activation, init=init,
                         batch_norm=batch_norm, dropout=dropout, optimizer=optimizer, lr=lr, momentum=momentum,
                         nesterov=nesterov, weight_decay=weight_decay, batch_size=batch_size, max_epochs=max_epochs,
                         scheduler=scheduler, early_stopping=early_stopping, validation_fraction=validation_fraction,
                         n_iter_no_change=n_iter_no_change, tol=tol, callbacks=callbacks, random_state=random_state,
                         verbose=verbose, warm_start=warm_start, n_threads=n_threads, standardize=standardize)

    def _prepare(self, X, y, reset, classes=None):
        X, y = validate_data(self, X, y, reset=reset, dtype=[np.float32, np.float64], y_numeric=True, multi_output=True,
                             ensure_min_samples=1)
        X = X.astype(np.float32, copy=False)
        y = np.asarray(y, np.float64)
        if reset:
            self._y_ndim = y.ndim
            self._n_out = 1 if y.ndim == 1 else y.shape[1]
            y2 = y.reshape(len(y), self._n_out)
            # the network learns standardized targets (one learning rate then suits any target scale)
            self._y_mean, self._y_scale = y2.mean(axis=0), y2.std(axis=0)
            self._y_scale[self._y_scale == 0] = 1.0
        elif (1 if y.ndim == 1 else y.shape[1]) != self._n_out:
            raise ValueError(f"y: expected {self._n_out} outputs as in the first fit, got shape {y.shape}")
        return X, ((y.reshape(len(y), self._n_out) - self._y_mean) / self._y_scale).astype(np.float32)

    def fit(self, X, y, sample_weight=None):
        return self._fit(X, y, sample_weight, self.max_epochs, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        return self._fit(X, y, sample_weight, 1, incremental=hasattr(self, "model_"))

    def predict(self, X):
        out = self._forward(X) * self._y_scale + self._y_mean
        return out[:, 0] if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
