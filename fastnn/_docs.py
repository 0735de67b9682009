"""Docstrings shared by sibling classes (Conv1d and Conv2d, the 1-D and 2-D poolings, the batch norms):
their Parameters section written once."""
import inspect


def parameters(section):
    """Class decorator: put `section` (a numpydoc Parameters section) into the class's docstring, before its
    Examples section if it has one."""
    def deco(cls):
        head, sep, tail = inspect.cleandoc(cls.__doc__ or "").partition("\nExamples\n")
        cls.__doc__ = f"{head.rstrip()}\n\n{inspect.cleandoc(section)}\n" + (f"\nExamples\n{tail}\n" if sep else "")
        return cls
    return deco
