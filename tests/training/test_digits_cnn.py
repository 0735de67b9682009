"""examples/digits_cnn.py: a small CNN beats `fastnn demo`'s MLP on the same digits split."""
import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits_cnn.py"


def load_example():
    spec = importlib.util.spec_from_file_location("digits_cnn", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("seed", [0, 1])
def test_small_cnn_beats_the_demo_mlp(seed):
    from fastnn import demo

    ex = load_example()
    mlp, _ = demo.run(seed=seed, plot=None, verbose=0)
    acc, _, model = ex.run(epochs=10, seed=seed, channels=(16, 32, 32), verbose=0)
    assert acc > mlp["accuracy"], (acc, mlp["accuracy"])
    assert acc >= 0.975
    assert "Conv2d" in model.summary((1, 8, 8))
