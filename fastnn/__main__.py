"""`python -m fastnn ...` is the `fastnn` command (for environments whose scripts folder is not on PATH)."""
import sys

from .cli import _entry

sys.exit(_entry())
