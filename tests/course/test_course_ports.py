"""Course scripts written against PyTorch (tests/course/scripts) run on fastnn with only their import lines
changed -- torch -> fastnn, torchvision -> fastnn.vision -- and reach what the same scripts reach on
PyTorch (run here too when torch is installed; torchvision is not, so the augmentation script runs on
fastnn alone)."""
import json
import os
import re
import subprocess
import sys


HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")


def port(source):
    """Rewrite the import lines only: `import torch` -> `import fastnn as torch`, `torch.x` -> `fastnn.x`,
    `torchvision` -> `fastnn.vision`. Every other line is kept byte for byte."""
    out = []
    for line in source.splitlines(keepends=True):
        s = line.strip()
        if s.startswith(("import torch", "from torch")):
            line = re.sub(r"\btorchvision\b", "fastnn.vision", line)
            if re.match(r"\s*import torch\s*$", line):
                line = line.replace("import torch", "import fastnn as torch")
            else:
                line = re.sub(r"\btorch\b", "fastnn", line)
        out.append(line)
    return "".join(out)


def run(source, tmp_path, name):
    path = tmp_path / name
    path.write_text(source)
    r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def both(script, tmp_path, torch_too=True):
    src = open(os.path.join(HERE, script)).read()
    ported = port(src)
    changed = [(a, b) for a, b in zip(src.splitlines(), ported.splitlines()) if a != b]
    assert changed and all(a.lstrip().startswith(("import", "from")) for a, _ in changed)
    fast = run(ported, tmp_path, "fastnn_" + script)
    ref = None
    if torch_too:
        try:
            import torch  # noqa: F401
            ref = run(src, tmp_path, "torch_" + script)
        except ImportError:
            pass
    return fast, ref


def test_port_rewrites_imports_only():
    src = "import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\nimport torchvision.transforms as T\nx = torch.zeros(1)\n"
    assert port(src) == ("import fastnn as torch\nimport fastnn.nn as nn\nfrom fastnn.utils.data import DataLoader\n"
                         "import fastnn.vision.transforms as T\nx = torch.zeros(1)\n")


def test_initialization_times_activations_with_a_shared_activation(tmp_path):
    fast, ref = both("init_activations.py", tmp_path)
    # the chapter's problem: in a deep sigmoid net the lower layers' gradients vanish; ReLU/ELU with He
    # initialization and tanh with Xavier keep them at the top layer's scale and train
    assert fast["sigmoid+xavier"]["grad_ratio"] < 0.01 * fast["relu+he"]["grad_ratio"]
    for k in ("relu+he", "elu+he", "leaky_relu+he", "tanh+xavier"):
        assert 0.3 < fast[k]["grad_ratio"] < 3 and fast[k]["accuracy"] > 0.9, (k, fast[k])
    if ref:
        for k, v in ref.items():
            assert abs(fast[k]["accuracy"] - v["accuracy"]) < 0.08, (k, fast[k], v)
            assert v["grad_ratio"] / 3 < fast[k]["grad_ratio"] < 3 * v["grad_ratio"], (k, fast[k], v)


def test_optimizer_race_with_deepcopy(tmp_path):
    fast, ref = both("optimizer_race.py", tmp_path)
    assert fast["base_untouched"]
    for name in ("Momentum", "Nesterov", "AdaGrad", "Adam", "RMSProp"):
        assert fast[name]["accuracy"] > 0.8 and fast[name]["losses"][-1] < 0.5 * fast[name]["losses"][0], name
    assert fast["Momentum"]["losses"][-1] < fast["SGD"]["losses"][-1]  # momentum beats plain SGD
    if ref:
        for name in ("Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"):
            assert abs(fast[name]["accuracy"] - ref[name]["accuracy"]) < 0.06, (name, fast[name], ref[name])
        assert abs(fast["SGD"]["accuracy"] - ref["SGD"]["accuracy"]) < 0.12  # mid-training: init-sensitive


def test_early_stopping_with_saved_state_dict(tmp_path):
    fast, ref = both("early_stopping.py", tmp_path)
    assert abs(fast["restored_val"] - fast["best_val"]) < 1e-6  # the best weights really came back
    assert fast["test_accuracy"] > 0.93
    if ref:
        assert abs(fast["test_accuracy"] - ref["test_accuracy"]) < 0.05


def test_transfer_by_loading_a_state_dict_and_freezing(tmp_path):
    fast, ref = both("transfer.py", tmp_path)
    assert fast["frozen_unchanged"] and fast["base"] > 0.95 and fast["transfer"] > 0.6
    if ref:
        assert abs(fast["transfer"] - ref["transfer"]) < 0.1 and abs(fast["scratch"] - ref["scratch"]) < 0.1


def test_augmentation_with_vision_transforms_in_a_dataset(tmp_path):
    fast, _ = both("augmentation.py", tmp_path, torch_too=False)
    assert fast["accuracy"] > 0.9


def test_cnn_with_functional_pooling_dataloader_and_saved_state_dict(tmp_path):
    fast, ref = both("cnn.py", tmp_path)
    assert fast["shapes"]["conv1"] == [16, 8, 8] and fast["shapes"]["fc"] == [10]
    assert fast["accuracy"] > 0.95 and fast["losses"][-1] < 0.3 * fast["losses"][0]
    if ref:
        assert fast["params"] == ref["params"] and fast["shapes"] == ref["shapes"]
        assert abs(fast["accuracy"] - ref["accuracy"]) < 0.03, (fast["accuracy"], ref["accuracy"])
