"""Smoke test of examples/: run every script as a user would (a fresh process, from an empty folder) and
fail if any exits non-zero or runs past the limit. CI runs it after the test suite.

    python tools/run_examples.py [--limit 180] [NAME ...]

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
    ap.add_argument("names", nargs="*", help="run only these examples")
    args = ap.parse_args()
    failed, slow = [], []
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
    print("examples: all ran")


if __name__ == "__main__":
    main()
