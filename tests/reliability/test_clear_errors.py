"""The errors users hit say what is wrong, name the argument, and come before any work starts."""
import subprocess
import sys

import numpy as np
import pytest

import fastnn
from fastnn import augment, nn, training
from fastnn.vision import transforms as T


def net():
    fastnn.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))


X = np.random.default_rng(0).standard_normal((40, 64)).astype(np.float32)
y = np.random.default_rng(1).integers(0, 10, 40)


def test_predict_on_one_sample_says_so():
    with pytest.raises(ValueError, match=r"for one sample of 64 features pass X\[None\]"):
        fastnn.predict(net(), X[0])
    assert fastnn.predict(net(), X[0][None]).shape == (1, 10)


def test_loss_class_instead_of_instance_is_accepted():
    h = fastnn.fit(net(), X, y, loss=nn.CrossEntropyLoss, optimizer="adam", epochs=1, verbose=0)
    assert len(h) == 1


def test_unknown_metric_names_are_refused():
    with pytest.raises(ValueError, match="metrics: unknown metric 'f1'"):
        fastnn.fit(net(), X, y, loss="cross_entropy", optimizer="adam", epochs=1, metrics=["f1"], verbose=0)
    h = fastnn.fit(net(), X, y, loss="cross_entropy", optimizer="adam", epochs=1, metrics=["acc"], verbose=0)
    assert "accuracy" in h.keys()


def test_checkpoint_path_needing_validation_is_refused_up_front(tmp_path):
    m = net()
    before = m.state_dict()["0.weight"].clone()
    cb = training.ModelCheckpoint(str(tmp_path / "m-{epoch}-{val_loss:.3f}.npz"), monitor="loss")
    with pytest.raises(ValueError, match="ModelCheckpoint: its path .* validation value"):
        fastnn.fit(m, X, y, loss="cross_entropy", optimizer="adam", epochs=2, callbacks=[cb], verbose=0)
    assert fastnn.equal(m.state_dict()["0.weight"], before)


@pytest.mark.parametrize("bs", [0, -1, 2.5, True])
def test_batch_size_is_validated_by_predict_and_evaluate(bs):
    with pytest.raises(ValueError, match="batch_size: expected a positive int"):
        fastnn.predict(net(), X, batch_size=bs)
    with pytest.raises(ValueError, match="batch_size: expected a positive int"):
        fastnn.evaluate(net(), X, y, batch_size=bs)


@pytest.mark.parametrize("make", [lambda: augment.BatchRandomRotation(float("nan")), lambda: augment.BatchRandomShift(float("nan")),
                                  lambda: augment.BatchRandomZoom((float("nan"), 1.0)), lambda: augment.BatchColorJitter(hue=float("nan")),
                                  lambda: augment.BatchRandomCrop(8, padding=float("nan")), lambda: augment.BatchNormalize([float("nan")], [1]),
                                  lambda: T.RandomRotation(float("nan")), lambda: T.RandomAffine(0, translate=(float("nan"), 0)),
                                  lambda: T.Normalize((float("inf"),), (1,)), lambda: T.RandomCrop(4, padding=float("nan")),
                                  lambda: T.Pad(-1)])
def test_non_finite_transform_parameters_are_refused_at_construction(make):
    with pytest.raises(ValueError):
        make()


def test_cli_bad_values_exit_2_without_a_traceback(tmp_path):
    for args in (["demo", "--epochs", "0"], ["demo", "--batch-size", "x"], ["bench", "--threads", "0"]):
        # from a temporary directory: the installed fastnn, never the source tree's
        r = subprocess.run([sys.executable, "-m", "fastnn.cli"] + args, capture_output=True, text=True, timeout=60,
                           cwd=tmp_path)
        assert r.returncode == 2 and "Traceback" not in r.stderr and "error" in r.stderr, (args, r.stderr)


def test_unsupported_torch_features_raise_not_implemented_naming_them():
    t = fastnn.ones(2)
    for call in (lambda: t.cuda(), lambda: nn.Linear(2, 2).cuda(), lambda: t.to("cuda:0"),
                 lambda: fastnn.zeros(2, device="cuda"), lambda: nn.Linear(2, 2).half(),
                 lambda: fastnn.einsum("ii->i", fastnn.ones(2, 2)), lambda: (t * 1).backward(create_graph=True),
                 lambda: fastnn.nn.functional.interpolate(fastnn.ones(1, 1, 2, 2), size=3, mode="bicubic")):
        with pytest.raises(NotImplementedError) as e:
            call()
        assert str(e.value)


def test_pytorch_names_fastnn_lacks_raise_not_implemented_yet_keep_hasattr_safe():
    import fastnn.nn.functional as F

    for get in (lambda: fastnn.ones(2).storage, lambda: nn.LSTM, lambda: F.grid_sample, lambda: fastnn.linalg):
        with pytest.raises(NotImplementedError, match="PyTorch has it, fastnn does not"):
            get()
    assert not hasattr(fastnn.ones(2), "storage") and not hasattr(nn, "LSTM")
    with pytest.raises(AttributeError, match="no attribute 'not_a_torch_name'"):
        fastnn.ones(2).not_a_torch_name
