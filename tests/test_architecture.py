"""The house rules of docs/architecture.md, checked on the package's source: every import points down the
floors of the layout table (function-level imports included), the import graph has no circle, no library
module imports the package face (fastnn/__init__.py), no module is over 1000 lines and no function over
120."""
import ast
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "fastnn"

# The floors, bottom to top: a module may import its own floor and those below (docs/architecture.md's table).
FLOORS = [
    ("bindings", ["fastnn._ext"]),
    ("runtime", ["fastnn._version", "fastnn._checks", "fastnn._docs", "fastnn._random", "fastnn._threads", "fastnn._missing",
                 "fastnn._mpi", "fastnn._workspace", "fastnn._torchfile", "fastnn._safetensors", "fastnn._autocast"]),
    ("ops", ["fastnn.ops", "fastnn.reference", "fastnn._pairs", "fastnn._losses"]),
    ("tensors", ["fastnn._autograd", "fastnn._dtypes", "fastnn._tensor_base", "fastnn._grad_fns", "fastnn._creation",
                 "fastnn._tensor_math", "fastnn._tensor_reduce", "fastnn._tensor_shape", "fastnn._tensor_inplace",
                 "fastnn.tensor", "fastnn.autograd", "fastnn.nn.functional", "fastnn._namespace"]),
    ("blocks", ["fastnn.nn", "fastnn.optim", "fastnn.utils", "fastnn.vision", "fastnn.augment", "fastnn.data",
                "fastnn.regularizers", "fastnn.metrics", "fastnn._state", "fastnn.amp"]),
    ("workflows", ["fastnn.training", "fastnn.checkpoint", "fastnn._archive", "fastnn.transfer", "fastnn.zoo",
                   "fastnn.pretrain", "fastnn.diagnostics", "fastnn.distributed", "fastnn.jit", "fastnn.sklearn",
                   "fastnn._digits", "fastnn.onnx"]),
    ("apps", ["fastnn.demo", "fastnn.benchmark", "fastnn.experiments"]),
    ("face", ["fastnn", "fastnn.cli", "fastnn.__main__"]),
]


def _modules():
    out = {}
    for p in ROOT.rglob("*.py"):
        rel = p.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def floor_of(module):
    """(index, name) of the floor a module belongs to: the longest matching prefix in FLOORS."""
    best = None
    for i, (name, prefixes) in enumerate(FLOORS):
        for pre in prefixes:
            if module == pre or module.startswith(pre + "."):
                if best is None or len(pre) > best[2]:
                    best = (i, name, len(pre))
    if best is None:
        raise AssertionError(f"{module} is on no floor of FLOORS (tests/test_architecture.py): place it")
    return best[0], best[1]


def _imports(module, path):
    """The fastnn modules `module` imports (top-level and inside functions): (target, line)."""
    tree = ast.parse(path.read_text())
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "fastnn"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_pkg:
                    base = base[:-1]
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "fastnn":
                continue
            for a in node.names:  # `from pkg import sub` imports the submodule, else a name of pkg
                target = f"{mod}.{a.name}" if f"{mod}.{a.name}" in MODULES else mod
                out.append((target, node.lineno))
    return out


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def test_every_module_is_on_a_floor():
    for m in MODULES:
        floor_of(m)


def test_imports_point_down_the_floors():
    bad = []
    for m, targets in GRAPH.items():
        fm = floor_of(m)
        for t, line in targets:
            if t not in MODULES:
                continue
            ft = floor_of(t)
            if ft[0] > fm[0]:
                bad.append(f"{MODULES[m].relative_to(ROOT.parent)}:{line}: {m} ({fm[1]}) imports {t} ({ft[1]})")
    assert not bad, "imports up the floors:\n" + "\n".join(bad)


def test_no_library_module_imports_the_package_face():
    bad = [f"{m} (line {line})" for m, targets in GRAPH.items() for t, line in targets
           if t == "fastnn" and floor_of(m)[1] not in ("apps", "face")]
    assert not bad, "library modules importing fastnn/__init__.py (import the module that defines the name):\n" + \
        "\n".join(bad)


def test_the_import_graph_has_no_circle():
    edges = {m: {t for t, _ in ts if t in MODULES and t != m} for m, ts in GRAPH.items()}
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    assert not cycles, f"import circles: {cycles}"


@pytest.mark.parametrize("limit", [1000])
def test_no_module_over_a_thousand_lines(limit):
    big = {str(p.relative_to(ROOT.parent)): n for p in MODULES.values() if (n := len(p.read_text().splitlines())) > limit}
    assert not big, f"modules over {limit} lines (split them by concern): {big}"


def test_no_function_over_120_lines():
    long = []
    for p in MODULES.values():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > 120:
                    long.append(f"{p.relative_to(ROOT.parent)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "functions over 120 lines (split them):\n" + "\n".join(long)


def test_compiled_modules_are_one_per_family():
    pyx = sorted(f for f in os.listdir(ROOT / "_ext") if f.endswith(".pyx"))
    assert len(pyx) == len(set(pyx)) and all(f.startswith("_") for f in pyx)


def test_ruff_is_clean():
    """pyproject.toml's ruff configuration holds over the source tree (CI also runs `ruff check .`)."""
    import shutil
    import subprocess

    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (the test extras bring it)")
    res = subprocess.run([ruff, "check", "--no-cache", str(ROOT.parent)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-1000:]
