"""Reusable output arrays that are never handed out while someone holds them, and the explicit
chain that runs a Sequential's layers without Python between them.

A workspace keeps a few arrays per (key, shape, dtype, thread). An array is reused only when its
pool's list is its only holder (its reference count says so): whatever an op returned to a caller,
kept in a graph context, or put in a list stays untouched. Pools are per thread, so two threads
never get the same free array; a steady training step then allocates no arrays. Both live in
fastnn._ext._chain (compiled: a layer's call costs a few attribute reads).
"""
from ._ext._chain import (KIND_DROPOUT, KIND_IDENTITY, KIND_LINEAR, KIND_UNARY, Workspace,  # noqa: F401
                          backward as chain_backward, forward as chain_forward)
from ._ext import _chain as unary_ops  # noqa: F401  (the element-wise ops' kernel codes)

shared = Workspace()  # for functional ops, which have no module to keep a pool
