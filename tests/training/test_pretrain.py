"""Unsupervised pretraining: the RBM against scikit-learn's BernoulliRBM (same update with the same draws,
same initialisation, pseudo-likelihood), CD-k statistics against a NumPy reference, float64 checks of
the free energy and its gradient, the estimator protocol (Pipeline, clone, pickle), DBN and stacked
denoising autoencoders into networks."""
import pickle

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn._ext import _rbm
from fastnn.pretrain import DBN, RBM, StackedAutoencoder

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.neural_network import BernoulliRBM  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return d.data / 16.0, d.target


class Injected:
    """A RandomState stand-in that hands out given uniforms in order (scikit-learn's _fit takes one)."""

    def __init__(self, draws):
        self.draws, self.i = draws, 0

    def uniform(self, size):
        n = int(np.prod(size))
        out = self.draws[self.i:self.i + n].reshape(size)
        self.i += n
        return out


def zeros_like_state(H, V, P, dtype=np.float64):
    return dict(chain=np.zeros((P, H), dtype), Winc=np.zeros((H, V), dtype), bhinc=np.zeros(H, dtype),
                bvinc=np.zeros(V, dtype), q=np.zeros(H, dtype))


@pytest.mark.parametrize("n,bs", [(95, 10), (40, 40), (33, 7)])
def test_default_update_is_scikit_learns_with_the_same_draws(digits, n, bs):
    X = digits[0][:n]
    V, H = 64, 24
    W0 = np.random.RandomState(3).normal(0, 0.01, (H, V))
    nb = -(-n // bs)
    draws = np.random.default_rng(1).random(nb * bs * (V + H))
    sk = BernoulliRBM(n_components=H, batch_size=bs, learning_rate=0.1)
    sk.components_, sk.intercept_hidden_, sk.intercept_visible_ = W0.copy(), np.zeros(H), np.zeros(V)
    sk.h_samples_ = np.zeros((bs, H))
    rng = Injected(draws)
    for s in range(0, n, bs):  # scikit-learn's batches: in order, the last one smaller
        sk._fit(X[s:s + bs], rng)
    W, bh, bv = W0.copy(), np.zeros(H), np.zeros(V)
    st = zeros_like_state(H, V, bs)
    calls = _rbm.rbm_train(X, W, bh, bv, st["chain"], st["Winc"], st["bhinc"], st["bvinc"], st["q"], batch_size=bs,
                           draws=draws)
    assert calls == 2 * nb
    np.testing.assert_allclose(W, sk.components_, rtol=0, atol=1e-13)
    np.testing.assert_allclose(bh, sk.intercept_hidden_, rtol=0, atol=1e-13)
    np.testing.assert_allclose(bv, sk.intercept_visible_, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(st["chain"], sk.h_samples_)


def test_initialisation_and_defaults_match_scikit_learn(digits):
    X = digits[0]
    ours, theirs = RBM(), BernoulliRBM()
    for k in ("n_components", "learning_rate", "batch_size", "n_iter", "verbose", "random_state"):
        assert getattr(ours, k) == getattr(theirs, k), k
    a = RBM(n_components=16, n_iter=0, random_state=7).fit(X)
    b = BernoulliRBM(n_components=16, n_iter=0, random_state=7).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_allclose(a.score_samples(X), b.score_samples(X), rtol=1e-9)
    np.testing.assert_allclose(a.score_samples(X, normalize=True), b.score_samples(X) / 64, rtol=1e-9)


def cd_reference(X, W, bh, bv, chain, u, bs, k, persistent, lr):
    """CD-k / PCD-k in NumPy consuming the draws in the kernel's order (Bernoulli visible units)."""
    sig = lambda a: 1 / (1 + np.exp(-a))
    W, bh, bv, chain = W.copy(), bh.copy(), bv.copy(), chain.copy()
    pos = 0

    def take(shape):
        nonlocal pos
        n = int(np.prod(shape))
        out = u[pos:pos + n].reshape(shape)
        pos += n
        return out

    for s in range(0, len(X), bs):
        v = X[s:s + bs]
        hpos = sig(v @ W.T + bh)
        h = chain
        if not persistent:
            h = (take(hpos.shape) < hpos).astype(float)
        for step in range(1, k + 1):
            pv = sig(h @ W + bv)
            vneg = (take(pv.shape) < pv).astype(float)
            hneg = sig(vneg @ W.T + bh)
            if step < k:
                h = (take(hneg.shape) < hneg).astype(float)
        lr_n = lr / len(v)
        W = W + lr_n * (hpos.T @ v - hneg.T @ vneg)
        bh = bh + lr_n * (hpos.sum(0) - hneg.sum(0))
        bv = bv + lr_n * (v.sum(0) - vneg.sum(0))
        if persistent:
            chain = (take(hneg.shape) < hneg).astype(float)
    return W, bh, bv, chain


@pytest.mark.parametrize("k,persistent", [(1, False), (3, False), (2, True)])
def test_cd_k_statistics_match_numpy_with_the_same_draws(digits, k, persistent):
    X = digits[0][:60]
    V, H, bs = 64, 20, 15
    rng = np.random.default_rng(0)
    W0, bh0, bv0 = rng.normal(0, 0.1, (H, V)), rng.normal(0, 0.1, H), rng.normal(0, 0.1, V)
    draws = rng.random(10 ** 6)
    W, bh, bv = W0.copy(), bh0.copy(), bv0.copy()
    st = zeros_like_state(H, V, bs)
    _rbm.rbm_train(X, W, bh, bv, st["chain"], st["Winc"], st["bhinc"], st["bvinc"], st["q"], batch_size=bs, k=k,
                   persistent=persistent, lr=0.05, draws=draws)
    rW, rbh, rbv, rch = cd_reference(X, W0, bh0, bv0, np.zeros((bs, H)), draws, bs, k, persistent, 0.05)
    from fastnn import reference as R
    tw, tbh, tbv, tst = W0.copy(), bh0.copy(), bv0.copy(), zeros_like_state(H, V, bs)
    R.rbm_train(X, tw, tbh, tbv, tst["chain"], tst["Winc"], tst["bhinc"], tst["bvinc"], tst["q"], batch_size=bs, k=k,
                persistent=persistent, lr=0.05, draws=draws)
    np.testing.assert_allclose(tw, rW, rtol=1e-12, atol=1e-13)  # the package's NumPy twin is the same math
    np.testing.assert_allclose(W, rW, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(bh, rbh, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(bv, rbv, rtol=1e-11, atol=1e-12)
    if persistent:
        np.testing.assert_array_equal(st["chain"], rch)


def test_free_energy_and_its_gradient_in_float64(digits):
    X = digits[0][:30]
    rbm = RBM(n_components=12, n_iter=1, random_state=0).fit(X)
    rbm.intercept_hidden_ += np.linspace(-1, 1, 12)
    rbm.intercept_visible_ += np.linspace(-0.5, 0.5, 64)
    F = rbm.free_energy(X)
    # F(v) = -log sum_h exp(-E(v, h)), by brute force over the 2^12 hidden states
    hs = ((np.arange(2 ** 12)[:, None] >> np.arange(12)) & 1).astype(float)
    E = -(X @ rbm.intercept_visible_)[:, None] - hs @ rbm.intercept_hidden_ - X @ rbm.components_.T @ hs.T
    brute = -np.logaddexp.reduce(-E, axis=1)
    np.testing.assert_allclose(F, brute, rtol=1e-12, atol=1e-10)
    # d mean F / dW = -mean P(h | v) v^T: the positive phase statistics
    W = rbm.components_
    h = 1e-6
    num = np.zeros((3, 64))
    for i in range(3):
        for j in range(64):
            old = W[i, j]
            W[i, j] = old + h
            fp = rbm.free_energy(X).mean()
            W[i, j] = old - h
            fm = rbm.free_energy(X).mean()
            W[i, j] = old
            num[i, j] = (fp - fm) / (2 * h)
    analytic = -(rbm.transform(X).T @ X / len(X))[:3]
    np.testing.assert_allclose(num, analytic, rtol=1e-7, atol=1e-8)


def test_gaussian_visible_free_energy_matches_its_definition():
    X = np.random.default_rng(0).standard_normal((20, 6))
    rbm = RBM(n_components=5, visible="gaussian", learning_rate=0.01, n_iter=3, random_state=0).fit(X)
    W, b, c = rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_
    want = 0.5 * ((X - b) ** 2).sum(1) - np.logaddexp(0, X @ W.T + c).sum(1)
    np.testing.assert_allclose(rbm.free_energy(X), want, rtol=1e-9)
    assert rbm.gibbs(X).shape == X.shape
    with pytest.raises(ValueError, match="gaussian"):
        rbm.score_samples(X)


def test_training_learns_and_is_thread_count_invariant(digits):
    X = digits[0].astype(np.float32)
    runs = []
    for t in (1, 2, 3):
        with fastnn.set_num_threads(t):
            r = RBM(n_components=64, batch_size=100, n_iter=3, k=2, momentum="hinton", weight_decay=1e-4,
                    sparsity_cost=0.1, shuffle=True, random_state=0).fit(X)
        runs.append(r.components_.copy())
    assert all(np.array_equal(runs[0], r) for r in runs[1:])
    r = RBM(n_components=64, n_iter=10, random_state=0, validation_fraction=0.2).fit(digits[0])
    h = r.history_
    assert len(h["reconstruction_error"]) == 10 and h["reconstruction_error"][-1] < h["reconstruction_error"][0]
    assert len(h["free_energy_gap"]) == 10
    sk = BernoulliRBM(n_components=64, n_iter=10, random_state=0).fit(digits[0][:-359])
    assert abs(r.score_samples(digits[0]).mean() - sk.score_samples(digits[0]).mean()) < 3.0


def test_estimator_protocol_pipeline_clone_pickle_partial_fit(digits):
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X, y = digits
    scores = []
    for rbm in (RBM, BernoulliRBM):  # the scikit-learn example's pipeline, with either RBM
        pipe = Pipeline([("rbm", rbm(n_components=100, learning_rate=0.06, n_iter=10, random_state=0)),
                         ("logistic", LogisticRegression(C=6000, max_iter=2000))])
        scores.append(pipe.fit(X[:1400], y[:1400]).score(X[1400:], y[1400:]))
    assert scores[0] > 0.88 and scores[0] > scores[1] - 0.03, scores
    r = clone(RBM(k=3, momentum="hinton"))
    assert r.get_params()["k"] == 3 and not hasattr(r, "components_")
    r.set_params(n_components=8, n_iter=1).fit(X)
    back = pickle.loads(pickle.dumps(r))
    np.testing.assert_array_equal(back.transform(X), r.transform(X))
    p = RBM(n_components=8, random_state=0)
    p.partial_fit(X[:50]).partial_fit(X[50:100])
    assert p.components_.shape == (8, 64) and p.n_features_in_ == 64
    with pytest.raises(ValueError, match="features"):
        r.transform(X[:, :10])
    for bad in (dict(n_components=0), dict(learning_rate=-1), dict(momentum=1.5), dict(visible="poisson"),
                dict(k=0), dict(batch_size=0)):
        with pytest.raises(ValueError):
            RBM(**bad).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        RBM().fit(np.full((4, 3), np.nan))


def test_dbn_and_autoencoders_initialise_networks_that_fine_tune(digits):
    X, y = digits
    dbn = DBN([32, 16], n_iter=3, random_state=0).fit(X)
    enc = dbn.to_module()
    np.testing.assert_allclose(enc(fastnn.tensor(X.astype(np.float32))).detach().numpy(), dbn.transform(X), rtol=1e-5,
                               atol=1e-6)
    model = nn.Sequential(nn.Linear(64, 32), nn.ELU(), nn.Linear(32, 16), nn.ELU(), nn.Linear(16, 10))
    dbn.init(model)
    np.testing.assert_allclose(model[2].weight.detach().numpy(), dbn.rbms_[1].components_, rtol=1e-6)
    h = fastnn.fit(model, X.astype(np.float32), y, loss="cross_entropy",
                   optimizer=fastnn.optim.Adam(model.parameters(), 1e-2), epochs=3, verbose=0)
    assert h["loss"][-1] < h["loss"][0]
    for tied, noise in ((False, ("mask", 0.3)), (True, ("gaussian", 0.1)), (False, None)):
        sae = StackedAutoencoder([32, 16], noise=noise, tied=tied, epochs=3, random_state=0,
                                 output_activation="sigmoid").fit(X)
        assert all(c[-1] < c[0] for c in sae.loss_curves_)
        np.testing.assert_allclose(sae.to_module()(fastnn.tensor(X.astype(np.float32))).detach().numpy(), sae.transform(X),
                                   rtol=1e-5, atol=1e-6)
    a = StackedAutoencoder([32], epochs=2, random_state=1).fit(X).transform(X)
    b = StackedAutoencoder([32], epochs=2, random_state=1).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="Linear"):
        dbn.init(nn.Sequential(nn.Linear(64, 10)))
    with pytest.raises(ValueError, match="noise"):
        StackedAutoencoder(noise=("salt", 0.1)).fit(X)


def test_tied_autoencoder_backward_in_float64():
    from fastnn.pretrain.autoencoder import _AELayer

    fastnn.manual_seed(0)
    layer = _AELayer(5, 3, "elu", "sigmoid", True, np.float64)
    x = fastnn.tensor(np.random.default_rng(0).random((4, 5)), dtype=fastnn.float64, requires_grad=True)
    w, c = layer.enc.weight, layer.dec_bias

    def f(x, w, c):
        h = fastnn.nn.functional.elu(fastnn.nn.functional.linear(x, w, layer.enc.bias))
        return fastnn.sigmoid(fastnn.nn.functional.linear(h, w.t(), c))

    np.testing.assert_allclose(layer(x).detach().numpy(), f(x, w, c).detach().numpy())
    wt = fastnn.tensor(w.detach().numpy(), dtype=fastnn.float64, requires_grad=True)
    ct = fastnn.tensor(c.detach().numpy(), dtype=fastnn.float64, requires_grad=True)
    assert fastnn.autograd.gradcheck(f, (x, wt, ct), eps=1e-6, atol=1e-7, rtol=1e-7)
