"""Packaging promises: the version the command reports, no sources or debug info in the installed
package, and a clear error from an unbuilt source tree."""
import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fastnn

PKG = Path(fastnn.__file__).resolve().parent


def test_version_agrees_everywhere(tmp_path):
    assert importlib.metadata.version("fastnn-cpu") == fastnn.__version__
    for cmd in ([sys.executable, "-m", "fastnn", "--version"],):
        r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == f"fastnn {fastnn.__version__}"


def test_python_dash_m_is_the_command(tmp_path):
    """(Run from outside the source tree, as a user would: its unbuilt fastnn/ would shadow the install.)"""
    r = subprocess.run([sys.executable, "-m", "fastnn", "zoo", "list"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "digits" in r.stdout
    bad = subprocess.run([sys.executable, "-m", "fastnn", "nonsense"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


@pytest.mark.skipif(os.environ.get("FASTNN_DEBUG") == "1", reason="a debug build keeps debug info")
def test_installed_package_has_no_sources_or_debug_info():
    if (PKG.parent / "setup.py").exists():
        pytest.skip("an in-place development build, not an installed package")
    files = [p for p in PKG.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".c", ".cpp", ".inc", ".pyx")], "sources in the package"
    for so in (p for p in files if p.suffix == ".so"):
        assert b".debug_info" not in so.read_bytes(), f"{so.name} carries debug info"


def test_unbuilt_source_tree_says_how_to_build(tmp_path):
    """A copy of the Python sources without the compiled modules: importing it explains what to do."""
    shutil.copytree(PKG, tmp_path / "fastnn", ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    r = subprocess.run([sys.executable, "-c", "import fastnn"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "pip install ." in r.stderr and "pip install -e ." in r.stderr


def test_the_docs_requirements_file_is_the_docs_extra():
    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).resolve().parents[1]
    if not (root / "pyproject.toml").exists():
        pytest.skip("not a source checkout")
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]["docs"]
    lines = [ln.strip() for ln in (root / "docs" / "requirements.txt").read_text().splitlines()]
    assert [ln for ln in lines if ln and not ln.startswith("#")] == extra


def test_the_gallery_shows_every_example():
    root = Path(__file__).resolve().parents[1]
    if not (root / "docs" / "gallery.md").exists():
        pytest.skip("not a source checkout")
    page = (root / "docs" / "gallery.md").read_text()
    for script in sorted((root / "examples").glob("*.py")):
        if script.name != "mnist1d_cnn.py":  # needs a package the gallery's machine may lack
            assert f"## {script.name}" in page, f"docs/gallery.md lacks {script.name}: python tools/run_examples.py --gallery docs/gallery"
