"""Stacked (denoising) autoencoders trained greedily, one layer at a time, with fastnn's optimizers."""
import numbers

import numpy as np

from .. import nn, optim
from .._random import default_generator
from ..autograd import no_grad
from ..nn import functional as F
from ..tensor import _wrap
from ._base import EstimatorMixin, check_array, check_random_state
from .rbm import _init_linears

_ACTIVATIONS = nn.activation.BY_NAME


class _AELayer(nn.Module):
    """One autoencoder: h = act(W x + b); x_hat = out(W' h + c), W' = W^T when tied."""

    def __init__(self, n_in, n_out, act, out_act, tied, dtype):
        super().__init__()
        self.enc = nn.Linear(n_in, n_out, init="he_normal" if act in ("elu", "relu", "leaky_relu", "selu", "gelu",
                                                                        "silu") else "xavier_uniform", dtype=dtype)
        self.act = _ACTIVATIONS[act]()
        self.tied = tied
        if tied:
            self.dec_bias = nn.Parameter(np.zeros(n_in, dtype), kind="bias")
        else:
            self.dec = nn.Linear(n_out, n_in, dtype=dtype)
        self.out = _ACTIVATIONS[out_act]() if out_act else None

    def encode(self, x):
        return self.act(self.enc(x))

    def forward(self, x):
        h = self.encode(x)
        y = F.linear(h, self.enc.weight.t(), self.dec_bias) if self.tied else self.dec(h)
        return self.out(y) if self.out is not None else y


class StackedAutoencoder(EstimatorMixin):
    """Greedy layer-wise (denoising) autoencoders: an autoencoder learns to reconstruct the data from a
    corrupted copy, the next one the first one's codes, and so on (Vincent et al. 2008).

    layer_sizes: hidden sizes bottom to top; activation: the encoders' activation ("elu", "relu",
    "sigmoid", "tanh", ...); noise: ("mask", p) zeroes a fraction p of each input, ("gaussian", sigma)
    adds N(0, sigma^2), None trains plain autoencoders; tied: the decoder uses the encoder's weights
    transposed; output_activation: the first decoder's output ("sigmoid" for data in [0, 1]; None:
    linear); upper decoders are linear. Training: MSE reconstruction of the clean input, `optimizer`
    ("adam" / "sgd" / "nadam"...) at `lr`, `epochs` passes of `batch_size` per layer.

    After fit: ``layers_`` (the autoencoders), ``loss_curves_`` (per layer, the mean loss per pass).
    transform gives the top codes; to_module the encoder as nn.Sequential(Linear, act, ...); init(model)
    initialises a model's first Linear layers with the encoders' weights and biases.
    """

    def __init__(self, layer_sizes=(256, 64), *, activation="elu", noise=("mask", 0.3), tied=False,
                 output_activation=None, epochs=20, batch_size=32, lr=1e-3, optimizer="adam", weight_decay=0.0,
                 random_state=None, verbose=0):
        self.layer_sizes = layer_sizes
        self.activation = activation
        self.noise = noise
        self.tied = tied
        self.output_activation = output_activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.verbose = verbose

    def _validate(self):
        sizes = [self.layer_sizes] if isinstance(self.layer_sizes, numbers.Integral) else list(self.layer_sizes)
        if not sizes or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
            raise ValueError(f"layer_sizes: expected positive ints, got {self.layer_sizes!r}")
        for name in ("activation", "output_activation"):
            v = getattr(self, name)
            if not (v in _ACTIVATIONS or (name == "output_activation" and v is None)):
                raise ValueError(f"{name}: expected one of {sorted(_ACTIVATIONS)}, got {v!r}")
        if self.noise is not None:
            ok = (isinstance(self.noise, (tuple, list)) and len(self.noise) == 2
                  and self.noise[0] in ("mask", "gaussian"))
            ok = ok and isinstance(self.noise[1], numbers.Real) and self.noise[1] >= 0
            ok = ok and (self.noise[0] != "mask" or self.noise[1] < 1)
            if not ok:
                raise ValueError(f"noise: expected ('mask', p in [0, 1)), ('gaussian', sigma >= 0) or None, got "
                                 f"{self.noise!r}")
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < (0 if name == "epochs" else 1):
                raise ValueError(f"{name}: expected a positive int, got {v!r}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, numbers.Real) or not self.lr > 0:
            raise ValueError(f"lr: expected a positive number, got {self.lr!r}")
        if self.optimizer not in ("adam", "adamw", "nadam", "sgd", "rmsprop", "adagrad"):
            raise ValueError(f"optimizer: expected adam, adamw, nadam, sgd, rmsprop or adagrad, got {self.optimizer!r}")
        return [int(s) for s in sizes]

    def _corrupt(self, x, rng):
        if self.noise is None:
            return x
        kind, amount = self.noise
        if kind == "mask":
            return x * (rng.random(x.shape) >= amount).astype(x.dtype)
        return x + (amount * rng.standard_normal(x.shape)).astype(x.dtype)

    def _train_layer(self, layer, X, rng):
        opt = {"adam": optim.Adam, "adamw": optim.AdamW, "nadam": optim.NAdam, "sgd": optim.SGD,
               "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}[self.optimizer](
            layer.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay))
        curve = []
        bs = int(self.batch_size)
        for epoch in range(int(self.epochs)):
            perm = rng.permutation(len(X))
            total = 0.0
            for i in range(0, len(X), bs):
                xb = X[perm[i:i + bs]]
                opt.zero_grad()
                loss = F.mse_loss(layer(_wrap(self._corrupt(xb, rng))), _wrap(xb))
                loss.backward()
                opt.step()
                total += loss.item() * len(xb)
            curve.append(total / len(X))
            if self.verbose:
                print(f"[StackedAutoencoder] layer {len(self.layers_) + 1}, epoch {epoch + 1}: loss {curve[-1]:.5f}")
        return curve

    def fit(self, X, y=None):
        sizes = self._validate()
        X = check_array(X, "X")
        self.n_features_in_ = X.shape[1]
        rs = check_random_state(self.random_state)
        rng = np.random.default_rng(rs.randint(0, 2 ** 31 - 1))
        state = default_generator.get_state()
        default_generator.manual_seed(int(rng.integers(2 ** 31)))  # initial weights from random_state
        try:
            self.layers_, self.loss_curves_ = [], []
            h = X
            for i, size in enumerate(sizes):
                layer = _AELayer(h.shape[1], size, self.activation, self.output_activation if i == 0 else None,
                                 bool(self.tied), X.dtype)
                self.loss_curves_.append(self._train_layer(layer, h, rng))
                self.layers_.append(layer)
                with no_grad():
                    h = layer.encode(_wrap(h)).numpy()
        finally:
            default_generator.set_state(state)
        self._n_features_out = sizes[-1]
        return self

    def transform(self, X):
        if not hasattr(self, "layers_"):
            raise AttributeError("StackedAutoencoder: not fitted yet; call fit first")
        h = check_array(X, "X", n_features=self.n_features_in_, owner="StackedAutoencoder")
        h = h.astype(self.layers_[0].enc.weight.dtype, copy=False)
        with no_grad():
            for layer in self.layers_:
                h = layer.encode(_wrap(h)).numpy()
        return h

    def to_module(self):
        """The encoder: nn.Sequential(Linear, activation, Linear, activation, ...) computing transform()."""
        if not hasattr(self, "layers_"):
            raise AttributeError("StackedAutoencoder: not fitted yet; call fit first")
        mods = []
        for layer in self.layers_:
            lin = nn.Linear(layer.enc.in_features, layer.enc.out_features, dtype=layer.enc.weight.dtype)
            lin.weight.data = layer.enc.weight.detach().numpy()
            lin.bias.data = layer.enc.bias.detach().numpy()
            mods += [lin, _ACTIVATIONS[self.activation]()]
        return nn.Sequential(*mods)

    def init(self, model):
        """Initialise the first len(layer_sizes) Linear layers of `model` with the encoders' weights and
        biases (shapes must match); returns the model."""
        if not hasattr(self, "layers_"):
            raise AttributeError("StackedAutoencoder: not fitted yet; call fit first")
        return _init_linears(model, [(l.enc.weight.detach().numpy(), l.enc.bias.detach().numpy())
                                     for l in self.layers_])
