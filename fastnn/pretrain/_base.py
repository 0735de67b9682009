"""scikit-learn's estimator protocol for the pretraining estimators: scikit-learn's own base classes when
it is installed (clone, Pipeline, repr, tags), else a minimal get_params / set_params / fit_transform."""
import inspect

import numpy as np


class _Params:
    """get_params / set_params / fit_transform as scikit-learn's BaseEstimator and TransformerMixin."""

    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params):
        valid = self._param_names()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"Invalid parameter {k!r} for estimator {type(self).__name__}. Valid parameters are: "
                                 f"{valid!r}.")
            setattr(self, k, v)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        return self.fit(X, y, **fit_params).transform(X)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"


try:
    from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin

    class EstimatorMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
        """scikit-learn's transformer bases (scikit-learn is installed)."""
except ImportError:  # pragma: no cover - scikit-learn is optional
    class EstimatorMixin(_Params):
        """A stand-in for scikit-learn's transformer bases (scikit-learn is not installed)."""


def check_array(X, name="X", dtypes=(np.float64, np.float32), n_features=None, owner=None):
    """X as a 2-D C-contiguous float array (float64 unless it is float32), finite, with n_features
    columns when given; a ValueError naming the argument otherwise."""
    if hasattr(X, "detach") and hasattr(X, "numpy"):
        X = X.detach().numpy()
    try:
        X = np.asarray(X)
    except Exception as e:
        raise ValueError(f"{name}: expected a 2-D numeric array, got {type(X).__name__} ({e})") from None
    if X.dtype.kind not in "fiub":
        raise ValueError(f"{name}: expected a numeric array, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name}: expected at least one sample and one feature, got shape {X.shape}")
    X = np.ascontiguousarray(X, dtype=X.dtype if X.dtype in dtypes else dtypes[0])
    if not np.isfinite(X).all():
        raise ValueError(f"{name}: contains NaN or infinity")
    if n_features is not None and X.shape[1] != n_features:
        who = f"{owner} is" if owner else "the estimator is"
        raise ValueError(f"{name} has {X.shape[1]} features, but {who} expecting {n_features} features as input.")
    return X


def check_random_state(seed):
    """scikit-learn's rule: None -> numpy's global RandomState, an int -> a new RandomState(seed), a
    RandomState -> itself."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.RandomState(int(seed))
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(f"random_state: expected None, an int or a numpy RandomState, got {seed!r}")
