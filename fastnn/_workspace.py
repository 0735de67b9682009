"""Reusable output arrays that are never handed out while someone holds them.

A workspace keeps a few arrays per (key, shape, dtype, thread). An array is reused only when its
reference count shows the pool's list is its only holder: whatever an op returned to a caller, kept
in a graph context, or put in a list stays untouched. Pools are per thread, so two threads never get
the same free array; a steady training step then allocates no arrays.
"""
import sys
import threading

import numpy as np

_getrefcount = sys.getrefcount
_get_ident = threading.get_ident
MAX_ENTRIES = 48   # (key, shape, dtype, thread) entries before the pool is reset
PER_ENTRY = 4      # arrays kept per entry (a module called several times per step needs several)


def _probe_free_refcount():
    """The reference count of an array held only by a pool list, measured in the exact code shape
    Workspace.get uses (interpreters differ in how they count the loop variable and the call)."""
    lst = [np.empty(1)]
    for a in lst:
        return _getrefcount(a)


_FREE = _probe_free_refcount()


class Workspace:
    __slots__ = ("entries",)

    def __init__(self):
        self.entries = {}

    def get(self, key, shape, dtype):
        """An array of (shape, dtype) that nobody outside this pool holds."""
        entries = self.entries
        k = (key, shape, dtype, _get_ident())
        lst = entries.get(k)
        if lst is None:
            if len(entries) >= MAX_ENTRIES:
                entries.clear()
            lst = entries[k] = []
        for a in lst:
            if _getrefcount(a) == _FREE:
                return a
        a = np.empty(shape, dtype)
        if len(lst) < PER_ENTRY:
            lst.append(a)
        return a

    def clear(self):
        self.entries.clear()


shared = Workspace()  # for functional ops, which have no module to keep a pool
