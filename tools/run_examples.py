"""Smoke test of examples/: run every script as a user would (a fresh process, from an empty folder) and
fail if any exits non-zero or runs past the limit. CI runs it after the test suite.

    python tools/run_examples.py [--limit 180] [--gallery docs/gallery] [NAME ...]

With --gallery DIR it also writes the documentation's gallery: each example's printed output and the
figures it saved, under DIR, and DIR.md (the page: the code, the output, the figures).

Each example is meant to take under a minute on two cores; the times are printed, and the limit is set
wider so that a loaded machine does not fail the run. distributed_fit.py also runs under
`mpiexec -n 2` when mpi4py is installed; an example whose optional package is missing is reported as
skipped.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEEDS = {"mnist1d_cnn.py": "mnist1d"}          # example -> optional package


def _have(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def commands():
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*.py"))):
        name = os.path.basename(path)
        if name in NEEDS and not _have(NEEDS[name]):
            yield name, None, f"needs {NEEDS[name]}"
            continue
        yield name, [sys.executable, path], None
        if name == "distributed_fit.py" and _have("mpi4py") and shutil.which("mpiexec"):
            yield name + " (mpiexec -n 2)", ["mpiexec", "-n", "2", sys.executable, path], None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=float, default=180.0, help="seconds allowed per example")
    ap.add_argument("--gallery", default=None, help="write the gallery (outputs and figures) under this folder")
    ap.add_argument("names", nargs="*", help="run only these examples")
    args = ap.parse_args()
    failed, slow, shown = [], [], {}
    env = dict(os.environ, MPLBACKEND="Agg")
    for name, cmd, why in commands():
        if args.names and not any(n in name for n in args.names):
            continue
        if cmd is None:
            print(f"{name:40s} skipped ({why})")
            continue
        with tempfile.TemporaryDirectory() as cwd:
            t0 = time.perf_counter()
            try:
                r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=args.limit)
                rc, out = r.returncode, r.stdout + r.stderr
            except subprocess.TimeoutExpired as e:
                rc, out = "timeout", (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else ""
            secs = time.perf_counter() - t0
            if args.gallery and rc == 0 and "mpiexec" not in name:
                shown[name] = _keep(args.gallery, name, r.stdout, cwd)
        status = "ok" if rc == 0 else f"FAILED ({rc})"
        print(f"{name:40s} {secs:6.1f} s  {status}", flush=True)
        if rc != 0:
            failed.append(name)
            print("    " + "\n    ".join(out.strip().splitlines()[-25:]))
        elif secs > 60:
            slow.append(name)
    if slow:
        print(f"over a minute here: {', '.join(slow)} (the machine may be loaded)")
    if failed:
        sys.exit(f"examples failed: {', '.join(failed)}")
    if args.gallery:
        _write_page(args.gallery, shown)
    print("examples: all ran")


def _keep(folder, name, stdout, cwd):
    """Save an example's output and figures into the gallery folder; returns (output file, figures)."""
    os.makedirs(folder, exist_ok=True)
    stem = name[:-3]
    out = os.path.join(folder, stem + ".txt")
    with open(out, "w") as f:
        f.write(stdout)
    figs = []
    for png in sorted(glob.glob(os.path.join(cwd, "*.png"))):
        dest = f"{stem}-{os.path.basename(png)}"
        shutil.copy(png, os.path.join(folder, dest))
        figs.append(dest)
    return os.path.basename(out), figs


def _write_page(folder, shown):
    """The gallery page beside the folder: each example's code, what it printed, its figures."""
    rel = os.path.basename(os.path.normpath(folder))
    docs = os.path.dirname(os.path.abspath(folder))
    lines = ["# Gallery", "", "Every script of `examples/`, run as a user runs it (a fresh process, from an empty "
             "folder), with what it printed and the figures it saved. Regenerate with `python tools/run_examples.py "
             f"--gallery docs/{rel}`.", ""]
    for name, (out, figs) in sorted(shown.items()):
        code = os.path.relpath(os.path.join(ROOT, "examples", name), docs)
        lines += [f"## {name}", "", "```{literalinclude} " + code,
                  ":language: python", "```", "", "Output:", "", "```{literalinclude} " + f"{rel}/{out}",
                  ":language: text", "```", ""]
        lines += [f"![{name}: {fig}]({rel}/{fig})" + "\n" for fig in figs]
    with open(os.path.join(docs, rel + ".md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
