"""Restricted Boltzmann machines (scikit-learn's BernoulliRBM and what its users ask for) and deep belief
nets. Training runs a whole pass over the data per call into C (csrc/rbm.inc)."""
import numbers
import time

import numpy as np

from .. import nn, ops
from .._ext import _rbm
from ._base import EstimatorMixin, check_array, check_random_state


def _sigmoid(a):
    return ops.sigmoid(np.ascontiguousarray(a))


def _softplus(a):
    return ops.softplus(np.ascontiguousarray(a))


class RBM(EstimatorMixin):
    """Restricted Boltzmann machine with binary hidden units, trained by contrastive divergence.

    With the parameters below at their defaults it performs scikit-learn's ``BernoulliRBM`` update
    exactly (persistent contrastive divergence with one Gibbs step; the same initialisation N(0, 0.01^2)
    from random_state and formulas; the draws from fastnn's counter-based generator).

    Parameters
    ----------
    n_components : int, default 256
    learning_rate : float, default 0.1
    batch_size : int, default 10
    n_iter : int, default 10
        Passes over the data.
    verbose : int, default 0
    random_state : int, optional
    k : int, default 1
        Gibbs steps per update (CD-k).
    persistent : bool, default True
        Keep the negative chain between batches (PCD, as scikit-learn) or restart it from the batch (CD).
    momentum : float or "hinton", default 0.0
        "hinton": Hinton's practical guide's 0.5 for the first five passes, then 0.9.
    weight_decay : float, default 0.0
        L2 penalty on the weights (Hinton: 1e-4).
    sparsity_target, sparsity_cost : float
        Push each hidden unit's mean activity (a running estimate, decay 0.9) toward the target.
    visible : {"bernoulli", "gaussian"}, default "bernoulli"
        "bernoulli": data in [0, 1]; "gaussian": real-valued data standardized to unit variance (use a
        smaller learning_rate, ~0.001-0.01).
    shuffle : bool, default False
        Visit the samples in a new random order every pass (scikit-learn does not).
    validation_fraction : float, default 0.0
        The last fraction of the data held out to watch overfitting.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    intercept_hidden_ : ndarray
    intercept_visible_ : ndarray
    h_samples_ : ndarray
        The persistent chain.
    n_features_in_ : int
    n_iter_ : int
    history_ : dict
        Per pass, the reconstruction error and the mean free energy of (up to 256) training and
        validation samples: when the gap between them grows, the model is overfitting (Hinton's guide,
        section 6).
    """

    def __init__(self, n_components=256, *, learning_rate=0.1, batch_size=10, n_iter=10, verbose=0,
                 random_state=None, k=1, persistent=True, momentum=0.0, weight_decay=0.0, sparsity_target=0.1,
                 sparsity_cost=0.0, visible="bernoulli", shuffle=False, validation_fraction=0.0):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.k = k
        self.persistent = persistent
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.sparsity_target = sparsity_target
        self.sparsity_cost = sparsity_cost
        self.visible = visible
        self.shuffle = shuffle
        self.validation_fraction = validation_fraction

    # ---- checks ----
    def _validate(self):
        def pos_int(name, lo=1):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo:
                raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")

        for name in ("n_components", "batch_size", "k"):
            pos_int(name)
        pos_int("n_iter", 0)
        def real(name, lo, hi=None, lo_open=False):
            v = getattr(self, name)
            ok = not isinstance(v, bool) and isinstance(v, numbers.Real) and np.isfinite(v)
            ok = ok and (v > lo if lo_open else v >= lo) and (hi is None or v < hi)
            if not ok:
                rng = f"{'(' if lo_open else '['}{lo}, {hi if hi is not None else 'inf'})"
                raise ValueError(f"{name}: expected a number in {rng}, got {v!r}")

        real("learning_rate", 0.0, lo_open=True)
        real("weight_decay", 0.0)
        real("sparsity_cost", 0.0)
        real("sparsity_target", 0.0, 1.0, lo_open=True)
        real("validation_fraction", 0.0, 1.0)
        if not (self.momentum == "hinton" or (isinstance(self.momentum, numbers.Real)
                                              and not isinstance(self.momentum, bool) and 0 <= self.momentum < 1)):
            raise ValueError(f"momentum: expected a number in [0, 1) or 'hinton', got {self.momentum!r}")
        if self.visible not in ("bernoulli", "gaussian"):
            raise ValueError(f"visible: expected 'bernoulli' or 'gaussian', got {self.visible!r}")

    def _check_fitted(self):
        if not hasattr(self, "components_"):
            try:
                from sklearn.exceptions import NotFittedError
            except ImportError:  # pragma: no cover
                NotFittedError = AttributeError
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with appropriate "
                                 "arguments before using this estimator.")

    def _X(self, X, reset=False):
        X = check_array(X, "X", n_features=None if reset else self.n_features_in_, owner=type(self).__name__)
        if not reset and X.dtype != self.components_.dtype:
            X = X.astype(self.components_.dtype)
        return X

    # ---- the model ----
    # (products through fastnn's GEMM path: numpy's own BLAS threads would spin on the cores the training
    # kernels need -- measured: a third of an RBM pass lost to them)
    def _hidden_input(self, v):
        return ops.linear(v, self.components_, self.intercept_hidden_)

    def _mean_hiddens(self, v):
        return _sigmoid(self._hidden_input(v))

    def transform(self, X):
        """P(h = 1 | v = X): the hidden units' activation probabilities, (n_samples, n_components)."""
        self._check_fitted()
        return self._mean_hiddens(self._X(X))

    def free_energy(self, X):
        """F(v) = -log sum_h exp(-E(v, h)) per sample: -v.b_v - sum_j softplus(W_j v + b_h,j) for binary
        visible units, ||v - b_v||^2 / 2 - sum_j softplus(W_j v + b_h,j) for Gaussian ones."""
        self._check_fitted()
        return self._free_energy(self._X(X))

    def _free_energy(self, v):
        hidden = _softplus(self._hidden_input(v)).sum(axis=1)
        if self.visible == "gaussian":
            return 0.5 * ((v - self.intercept_visible_) ** 2).sum(axis=1) - hidden
        return -ops.matmul(v, self.intercept_visible_[:, None])[:, 0] - hidden

    def reconstruct(self, X):
        """The mean-field reconstruction E[v | h = P(h | X)]."""
        self._check_fitted()
        a = ops.matmul(self._mean_hiddens(self._X(X)), self.components_) + self.intercept_visible_
        return a if self.visible == "gaussian" else _sigmoid(a)

    def score_samples(self, X, normalize=False):
        """The pseudo-likelihood of X, as scikit-learn computes it: the free energy of each sample against
        a copy with one random feature flipped, times n_features. normalize=True divides by n_features
        (a per-feature value, comparable across input sizes: scikit-learn#23179). Binary visible units."""
        self._check_fitted()
        if self.visible != "bernoulli":
            raise ValueError("score_samples: the pseudo-likelihood flips binary features; with visible='gaussian' "
                             "use free_energy or the reconstruction error")
        v = self._X(X)
        rng = check_random_state(self.random_state)
        ind = (np.arange(v.shape[0]), rng.randint(0, v.shape[1], v.shape[0]))
        v_ = v.copy()
        v_[ind] = 1 - v_[ind]
        pl = -np.logaddexp(0, -(self._free_energy(v_) - self._free_energy(v)))
        return pl if normalize else v.shape[1] * pl

    def gibbs(self, v):
        """One Gibbs step: h ~ P(h | v), then v ~ P(v | h) (binary; Gaussian visible units get the mean plus
        unit-variance noise)."""
        self._check_fitted()
        v = self._X(v)
        if not hasattr(self, "random_state_"):
            self.random_state_ = check_random_state(self.random_state)
        rng = self.random_state_
        h = (rng.uniform(size=(v.shape[0], self.n_components)) < self._mean_hiddens(v)).astype(v.dtype)
        a = ops.matmul(h, self.components_) + self.intercept_visible_
        if self.visible == "gaussian":
            return a + rng.standard_normal(a.shape).astype(v.dtype)
        return (rng.uniform(size=a.shape) < _sigmoid(a)).astype(v.dtype)

    # ---- training ----
    def _init(self, X, rng):
        self.components_ = np.asarray(rng.normal(0, 0.01, (self.n_components, X.shape[1])), dtype=X.dtype)
        self._n_features_out = self.n_components
        self.n_features_in_ = X.shape[1]
        self.intercept_hidden_ = np.zeros(self.n_components, dtype=X.dtype)
        self.intercept_visible_ = np.zeros(X.shape[1], dtype=X.dtype)
        self.h_samples_ = np.zeros((self.batch_size, self.n_components), dtype=X.dtype)
        # the generator's key comes after the weights' draws, so that the weights match scikit-learn's
        self._seed = int(rng.randint(0, 2 ** 31 - 1)) * 2654435761 + 1
        self._calls = 0
        self._Winc = np.zeros_like(self.components_)
        self._bhinc = np.zeros_like(self.intercept_hidden_)
        self._bvinc = np.zeros_like(self.intercept_visible_)
        self._q = np.full(self.n_components, self.sparsity_target, dtype=X.dtype)
        self.n_iter_ = 0
        self.history_ = {"reconstruction_error": [], "free_energy_train": [], "free_energy_val": [],
                         "free_energy_gap": [], "seconds": []}

    def _momentum(self, epoch):
        if self.momentum == "hinton":
            return 0.5 if epoch < 5 else 0.9
        return float(self.momentum)

    def _pass(self, X, batch_size, momentum, order=None, draws=None):
        self._calls = _rbm.rbm_train(
            X, self.components_, self.intercept_hidden_, self.intercept_visible_, self.h_samples_, self._Winc,
            self._bhinc, self._bvinc, self._q, batch_size=batch_size, k=int(self.k), persistent=bool(self.persistent),
            gaussian=self.visible == "gaussian", lr=float(self.learning_rate), momentum=momentum,
            weight_decay=float(self.weight_decay), sparsity_target=float(self.sparsity_target),
            sparsity_cost=float(self.sparsity_cost), seed=self._seed % (2 ** 64), calls=self._calls, order=order,
            draws=draws)

    def _monitor(self, Xtr, Xval, seconds):
        h = self.history_
        rec = self.reconstruct(Xtr)
        h["reconstruction_error"].append(float(np.mean((Xtr - rec) ** 2)))
        ft = float(np.mean(self._free_energy(Xtr)))
        h["free_energy_train"].append(ft)
        if Xval is not None:
            fv = float(np.mean(self._free_energy(Xval)))
            h["free_energy_val"].append(fv)
            h["free_energy_gap"].append(fv - ft)
        h["seconds"].append(seconds)

    def fit(self, X, y=None, *, validation_data=None):
        """Train from scratch for n_iter passes over X (n_samples, n_features). validation_data: samples to
        watch the free-energy gap on (else the last validation_fraction of X, when set)."""
        self._validate()
        X = self._X(X, reset=True)
        rng = check_random_state(self.random_state)
        Xval = None
        if validation_data is not None:
            Xval = check_array(validation_data, "validation_data", n_features=X.shape[1]).astype(X.dtype)
        elif self.validation_fraction:
            n_val = int(round(len(X) * self.validation_fraction))
            if not 0 < n_val < len(X):
                raise ValueError(f"validation_fraction: {self.validation_fraction} of {len(X)} samples leaves no "
                                 "training or no validation data")
            X, Xval = X[:-n_val], X[-n_val:]
        self._init(X, rng)
        # free energies are watched on at most 256 samples each (a fixed subset: comparable pass to pass)
        Xmon = X if len(X) <= 256 else X[np.linspace(0, len(X) - 1, 256).astype(int)]
        Xvmon = None if Xval is None else (Xval if len(Xval) <= 256 else Xval[:256])
        begin = time.time()
        for it in range(self.n_iter):
            t0 = time.perf_counter()
            order = rng.permutation(len(X)).astype(np.int64) if self.shuffle else None
            self._pass(X, int(self.batch_size), self._momentum(it), order)
            self.n_iter_ += 1
            self._monitor(Xmon, Xvmon, time.perf_counter() - t0)
            if self.verbose:
                end = time.time()
                pl = self.score_samples(X).mean() if self.visible == "bernoulli" else float("nan")
                gap = f", free-energy gap {self.history_['free_energy_gap'][-1]:.3f}" if Xval is not None else ""
                print(f"[{type(self).__name__}] Iteration {it + 1}, pseudo-likelihood = {pl:.2f}{gap}, "
                      f"time = {end - begin:.2f}s")
                begin = end
        return self

    def partial_fit(self, X, y=None):
        """One update on X taken as a single batch (initialising on the first call), as scikit-learn."""
        first = not hasattr(self, "components_")
        if first:
            self._validate()
        X = self._X(X, reset=first)
        if not hasattr(self, "random_state_"):
            self.random_state_ = check_random_state(self.random_state)
        if first:
            self._init(X, self.random_state_)
        self._pass(X, len(X), self._momentum(self.n_iter_))
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # ---- into a network ----
    def to_module(self):
        """nn.Sequential(Linear(n_features, n_components), Sigmoid()) computing transform()."""
        self._check_fitted()
        return _stack([self])

    def init(self, model):
        """Copy the weights and hidden biases into the first Linear layer of `model` (its shape must be
        (n_components, n_features)); returns the model."""
        self._check_fitted()
        return _init_linears(model, [(self.components_, self.intercept_hidden_)])


def _linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def _init_linears(model, pairs):
    layers = _linears(model)
    if len(layers) < len(pairs):
        raise ValueError(f"model: needs {len(pairs)} Linear layers to initialise, has {len(layers)}")
    for i, (layer, (w, b)) in enumerate(zip(layers, pairs)):
        if tuple(layer.weight.shape) != w.shape:
            raise ValueError(f"model: Linear layer {i} has weight {tuple(layer.weight.shape)}, the pretrained layer "
                             f"{w.shape}")
    for layer, (w, b) in zip(layers, pairs):
        layer.weight.data = w.astype(layer.weight.dtype)
        if layer.bias is not None:
            layer.bias.data = b.astype(layer.bias.dtype)
    return model


def _stack(rbms, activation=nn.Sigmoid):
    layers = []
    for r in rbms:
        lin = nn.Linear(r.components_.shape[1], r.components_.shape[0], dtype=r.components_.dtype)
        lin.weight.data = r.components_
        lin.bias.data = r.intercept_hidden_
        layers += [lin, activation()]
    return nn.Sequential(*layers)


class DBN(EstimatorMixin):
    """A deep belief net trained greedily: an RBM on the data, the next on the first one's hidden
    probabilities, and so on. layer_sizes: the hidden sizes, bottom to top; rbm_params: RBM's keyword
    arguments for every layer (the upper layers see [0, 1] probabilities: Bernoulli visible units).
    After fit: ``rbms_``. transform gives the top layer's probabilities; to_module the encoder as an
    nn.Sequential of Linear + Sigmoid; init(model) initialises a model's first Linear layers."""

    def __init__(self, layer_sizes=(256, 64), **rbm_params):
        self.layer_sizes = layer_sizes
        self.rbm_params = rbm_params

    def get_params(self, deep=True):
        return {"layer_sizes": self.layer_sizes, **self.rbm_params}

    def set_params(self, **params):
        if "layer_sizes" in params:
            self.layer_sizes = params.pop("layer_sizes")
        valid = set(RBM()._get_param_names()) if hasattr(RBM, "_get_param_names") else set(RBM._param_names())
        bad = [k for k in params if k not in valid]
        if bad:
            raise ValueError(f"Invalid parameters {bad} for DBN: layer_sizes or RBM's ({sorted(valid)})")
        self.rbm_params.update(params)
        return self

    def __sklearn_clone__(self):
        return DBN(self.layer_sizes, **dict(self.rbm_params))

    def fit(self, X, y=None):
        sizes = [self.layer_sizes] if isinstance(self.layer_sizes, numbers.Integral) else list(self.layer_sizes)
        if not sizes or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
            raise ValueError(f"layer_sizes: expected positive ints, got {self.layer_sizes!r}")
        params = dict(self.rbm_params)
        params.pop("n_components", None)
        h = check_array(X, "X")
        self.n_features_in_ = h.shape[1]
        self.rbms_ = []
        for i, size in enumerate(sizes):
            rbm = RBM(n_components=int(size), **{**params, "visible": params.get("visible", "bernoulli") if i == 0
                                                 else "bernoulli"})
            h = rbm.fit(h).transform(h)
            self.rbms_.append(rbm)
        self._n_features_out = int(sizes[-1])
        return self

    def transform(self, X):
        if not hasattr(self, "rbms_"):
            raise AttributeError("DBN: not fitted yet; call fit first")
        h = X
        for r in self.rbms_:
            h = r.transform(h)
        return h

    def to_module(self):
        """The encoder: nn.Sequential(Linear, Sigmoid, Linear, Sigmoid, ...), computing transform()."""
        if not hasattr(self, "rbms_"):
            raise AttributeError("DBN: not fitted yet; call fit first")
        return _stack(self.rbms_)

    def init(self, model):
        """Initialise the first len(layer_sizes) Linear layers of `model` with the RBMs' weights and hidden
        biases (shapes must match); returns the model."""
        if not hasattr(self, "rbms_"):
            raise AttributeError("DBN: not fitted yet; call fit first")
        return _init_linears(model, [(r.components_, r.intercept_hidden_) for r in self.rbms_])
