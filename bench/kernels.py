"""Kernel benchmark: fastnn.ops vs NumPy twins vs PyTorch CPU kernels (medians, ratios, % of triad).

    python bench/kernels.py                    # 64K, 1M, 16M elements; 1 thread and all cores
    python bench/kernels.py --sizes 1M --only adam gelu
Writes bench/results/kernels.json. Same as `fastnn bench`.
"""
import os
import sys

from fastnn.cli import main

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    args = sys.argv[1:]
    if "--json" not in args:
        args += ["--json", os.path.join(here, "results", "kernels.json")]
    sys.exit(main(["bench"] + args))
