"""The chapter's experiments run in quick mode, each writing its JSON (claim, measurement, verdict, seeds,
versions, figures) and PNG; the command line lists and runs them."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
from fastnn import experiments  # noqa: E402

EXPECTED = ["vanishing", "activations", "batchnorm", "clipping", "optimizers", "schedules", "regularization",
            "default-dnn", "transfer", "pretraining"]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    h = tmp_path_factory.mktemp("fastnn_home")
    old = os.environ.get("FASTNN_HOME")
    os.environ["FASTNN_HOME"] = str(h)
    yield h
    if old is None:
        del os.environ["FASTNN_HOME"]
    else:
        os.environ["FASTNN_HOME"] = old


def test_every_chapter_experiment_is_registered():
    assert experiments.names() == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_experiment_runs_quick_and_records_its_evidence(name, home, tmp_path):
    res = experiments.run(name, out=str(tmp_path), quick=True, verbose=False)
    assert res.supports in ("yes", "partly", "no") and res.claim and res.measured and res.verdict
    rec = json.load(open(tmp_path / f"{name}.json"))
    for key in ("claim", "measured", "supports", "verdict", "figures", "seeds", "versions", "data", "quick"):
        assert key in rec, key
    assert rec["quick"] is True and rec["seeds"] and rec["figures"]
    assert (tmp_path / f"{name}.png").stat().st_size > 5000
    assert res.seconds < 60


def test_the_measurements_that_must_hold_even_in_quick_mode(home, tmp_path):
    """The claims that are physics, not rankings: vanishing/saturation, batch norm's robustness, clipping."""
    v = experiments.run("vanishing", out=str(tmp_path), quick=True, verbose=False).figures
    assert v["sigmoid + Xavier"]["grad_ratio_at_init"] < 1e-3 and v["sigmoid + N(0,1)"]["saturated_at_init"] > 0.5
    assert 0.1 < v["ELU + He"]["grad_ratio_at_init"] < 10
    assert experiments.run("batchnorm", out=str(tmp_path), quick=True, verbose=False).supports == "yes"
    assert experiments.run("clipping", out=str(tmp_path), quick=True, verbose=False).supports == "yes"


def test_command_line(home, tmp_path):
    env = dict(os.environ, FASTNN_HOME=str(home))
    r = subprocess.run([sys.executable, "-m", "fastnn.cli", "experiment", "list"], capture_output=True, text=True,
                       env=env, cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0 and all(n in r.stdout for n in EXPECTED)
    r = subprocess.run([sys.executable, "-m", "fastnn.cli", "experiment", "run", "clipping", "--quick", "--out",
                        str(tmp_path / "o")], capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=300)
    assert r.returncode == 0 and "claim:" in r.stdout and (tmp_path / "o" / "clipping.json").exists()
    r = subprocess.run([sys.executable, "-m", "fastnn.cli", "experiment", "run", "nope"], capture_output=True,
                       text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert r.returncode == 2 and "no experiment" in r.stderr
