"""The `fastnn` command: demo (train the course's default network), info (what this build can do), bench
(kernels vs NumPy and PyTorch), zoo (the local model zoo: list, build, info, path) and experiment (the
chapter's experiments: list, run)."""
import argparse
import sys


def cmd_info(args):
    import numpy as np
    import scipy

    import fastnn
    from fastnn._ext import _runtime

    b = _runtime.build_info()
    print(f"fastnn {fastnn.__version__}")
    print(f"  OpenMP:        {'on' if b['openmp'] else 'OFF (serial build)'}")
    st = fastnn.thread_status(measure=0.25)
    mode = f"adaptive, at most {st['max']}" if st["adaptive"] else "fixed"
    print(f"  threads:       {st['now']} now ({mode}; {st['reason']}; OpenMP max {b['omp_max_threads']})")
    print(f"  SIMD clones:   {', '.join(b['simd_clones'])}")
    print(f"  SIMD selected: {b['simd_selected']}")
    try:
        from threadpoolctl import threadpool_info

        for d in threadpool_info():
            print(f"  {d.get('user_api', '?'):13s}: {d.get('internal_api')} {d.get('version')}, "
                  f"{d.get('num_threads')} threads ({d.get('filepath')})")
    except ImportError:
        print("  BLAS:          threadpoolctl not installed")
    from fastnn._ext import _blas

    k = _blas.kernel_info()
    if k["backend"] == "fastnn":
        print(f"  matmul:        fastnn's own kernels, {k['isa']}, {k['tile']} float tiles, split over fastnn's "
              "threads")
        bf = ("AVX512_BF16 (vdpbf16ps)" if k["bf16"] == "avx512_bf16" else
              "emulated in float32 multiply-adds (no AVX512_BF16 here: slower than float32, same bits)")
        print(f"  bf16 products: {bf}; no AMX path (fastnn.autocast / fit(precision='bf16'))")
    else:
        print("  matmul:        " + ("scipy's BLAS pinned to 1 thread, each product split over fastnn's threads"
                                   if _blas.get_split() else "BLAS threads its own products"))
    from fastnn import distributed

    print(f"  MPI:           {distributed.info()}")
    print(f"  compiler:      {b['compiler']}")
    print(f"  flags:         {b['flags']}")
    print(f"  numpy {np.__version__}, scipy {scipy.__version__}, python {sys.version.split()[0]}")
    return 0


def cmd_bench(args):
    import numpy as np

    from fastnn import benchmark

    threads = benchmark.thread_list(args.threads) if args.threads else None
    benchmark.run(sizes=args.sizes, threads=threads, only=args.only,
                  dtype=np.float64 if args.dtype == "float64" else np.float32,
                  reps=args.reps, json_path=args.json)
    return 0


def cmd_demo(args):
    from fastnn import demo

    res, _ = demo.run(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                      plot=None if args.no_plot else args.plot)
    return 0 if res["accuracy"] >= 0.9 else 1


def cmd_zoo(args):
    import json

    from fastnn import zoo

    if args.action == "list":
        rows = zoo.list()
        print(f"{'name':22s} {'ver':>3s} {'built':5s}  metrics / description")
        for r in rows:
            m = r.get("metrics") or {}
            shown = ", ".join(f"{k} {v:.4f}" for k, v in m.items()) if m else r.get("description", "")[:70]
            print(f"{r['name']:22s} {r['version']:3d} {'yes' if r['built'] else 'no':5s}  {shown}")
        print(f"(cache: {zoo.home()}; FASTNN_HOME moves it)")
        return 0
    if args.name is None:
        raise ValueError(f"zoo {args.action}: a NAME is needed (fastnn zoo list shows them)")
    try:
        if args.action == "build":
            zoo.build(args.name, force=args.force)
            print(zoo.path(args.name))
        elif args.action == "info":
            print(json.dumps(zoo.info(args.name), indent=1))
        else:
            print(zoo.path(args.name))
    except KeyError as e:
        raise ValueError(e.args[0]) from None
    return 0


def cmd_experiment(args):
    from fastnn import experiments

    if args.action == "list":
        experiments.names()
        for name, (_, desc) in experiments.EXPERIMENTS.items():
            print(f"{name:15s} {desc}")
        return 0
    if args.name is None:
        raise ValueError("experiment run: a NAME is needed (fastnn experiment list shows them), or 'all'")
    todo = experiments.names() if args.name == "all" else [args.name]
    for name in todo:
        try:
            experiments.run(name, out=args.out, quick=args.quick)
        except KeyError as e:
            raise ValueError(e.args[0]) from None
    return 0


def _positive(v):
    try:
        n = int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v!r}")
    return n


def _thread_counts(v):
    parts = v.split(",")
    for p in parts:
        _positive(p.strip())
    return v


def main(argv=None):
    from . import __version__

    p = argparse.ArgumentParser(prog="fastnn", description="fastnn: fast CPU neural-network training")
    p.add_argument("--version", action="version", version=f"fastnn {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info", help="what this build can do (OpenMP, SIMD, BLAS, threads)")
    d = sub.add_parser("demo", help="train the course's default network on the digits data")
    d.add_argument("--epochs", type=_positive, default=40)
    d.add_argument("--batch-size", type=_positive, default=32)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--plot", default="fastnn-demo-curves.png", help="learning-curve PNG path")
    d.add_argument("--no-plot", action="store_true")
    b = sub.add_parser("bench", help="time the kernels against NumPy and PyTorch")
    b.add_argument("--sizes", nargs="+", default=["64K", "1M", "16M"], choices=["64K", "1M", "16M"])
    b.add_argument("--threads", type=_thread_counts, default=None,
                   help="comma-separated thread counts (default: 1 and all)")
    b.add_argument("--only", nargs="+", default=None, help="ops whose name contains one of these")
    b.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    b.add_argument("--reps", type=_positive, default=None)
    b.add_argument("--json", default="fastnn-bench.json", help="where to write the JSON results")
    z = sub.add_parser("zoo", help="the local model zoo: pretrained models to reuse (fastnn.zoo)")
    z.add_argument("action", choices=["list", "build", "info", "path"])
    z.add_argument("name", nargs="?", default=None)
    z.add_argument("--force", action="store_true", help="build: rebuild even if cached")
    e = sub.add_parser("experiment", help="the chapter's experiments: claim, measurement, verdict, PNG + JSON")
    e.add_argument("action", choices=["list", "run"])
    e.add_argument("name", nargs="?", default=None, help="an experiment (fastnn experiment list), or 'all'")
    e.add_argument("--out", default="fastnn-experiments", help="folder for the PNG and JSON files")
    e.add_argument("--quick", action="store_true", help="fewer epochs and seeds (under a minute each)")
    args = p.parse_args(argv)
    try:
        return {"info": cmd_info, "bench": cmd_bench, "demo": cmd_demo, "zoo": cmd_zoo,
                "experiment": cmd_experiment}[args.cmd](args)
    except (ValueError, TypeError) as e:  # a bad option value: one line, no traceback
        print(f"fastnn {args.cmd}: error: {e}", file=sys.stderr)
        return 2


def _entry():
    """Console entry point: a closed pipe (`fastnn info | head`) ends quietly."""
    import os

    try:
        return main()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(_entry())
