"""Compiled kernel bindings (private): one module per kernel family of csrc/."""
