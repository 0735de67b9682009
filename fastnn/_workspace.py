"""Reusable output arrays that are never handed out while someone holds them, and the explicit chain
that runs a Sequential's layers without Python between them.

A workspace keeps a few arrays per (key, shape, dtype, thread). An array is reused only when its
pool's list is its only holder (its reference count says so): whatever an op returned to a caller,
kept in a graph context, or put in a list stays untouched. Pools are per thread, so two threads
never get the same free array; a steady training step then allocates no arrays. Workspaces and the
hot ops' pairs live in fastnn._ext._pairs, the chain's loop in fastnn._ext._chain (compiled: a layer's
call costs a few attribute reads).
"""
from ._ext import _pairs as unary_ops  # noqa: F401  (the element-wise ops' kernel codes)
from ._ext._chain import KIND_DROPOUT, KIND_IDENTITY, KIND_LINEAR, KIND_UNARY  # noqa: F401
from ._ext._chain import backward as chain_backward  # noqa: F401
from ._ext._chain import forward as chain_forward  # noqa: F401
from ._ext._pairs import Workspace, set_workspace_limit  # noqa: F401

shared = Workspace()  # for functional ops, which have no module to keep a pool
