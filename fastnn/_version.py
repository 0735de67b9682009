"""fastnn's version: one place, read by the package face, checkpoints, the zoo and the build."""
__version__ = "0.2.0"
