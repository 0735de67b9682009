"""Padding and resampling layers (PyTorch's ZeroPad/ConstantPad/ReflectionPad/ReplicationPad and
Upsample), on nn.functional.pad / interpolate."""
from ..tensor import Tensor, as_tensor
from .module import Module


class _Pad(Module):
    _mode, _nd = "constant", 2

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = (int(padding),) * (2 * self._nd) if isinstance(padding, int) else tuple(int(p) for p in padding)
        if len(self.padding) != 2 * self._nd:
            raise ValueError(f"padding: expected an int or {2 * self._nd} values, got {padding!r}")
        self.value = float(value)

    def forward(self, x):
        from . import functional as F

        x = x if isinstance(x, Tensor) else as_tensor(x)
        return F.pad(x, self.padding, mode=self._mode, value=self.value if self._mode == "constant" else None)

    def extra_repr(self):
        return f"{self.padding}"


def _pad_class(name, mode, nd, doc):
    sides = "(left, right)" if nd == 1 else "(left, right, top, bottom)"
    doc += (f"\n\n    Parameters\n    ----------\n    padding : int or tuple of {2 * nd} ints\n"
            f"        Elements added on each side {sides}; an int pads every side alike.\n")
    if mode == "constant" and not name.startswith("Zero"):
        doc += "    value : float, default 0.0\n        The value of the added elements.\n"
    ns = {"_mode": mode, "_nd": nd, "__doc__": doc, "__module__": __name__, "_config_keys": ("padding", "value")}
    if mode != "constant" or name.startswith("Zero"):
        ns["__init__"] = lambda self, padding: _Pad.__init__(self, padding)
        ns["_config_keys"] = ("padding",)
    return type(name, (_Pad,), ns)


ZeroPad1d = _pad_class("ZeroPad1d", "constant", 1, "Pad the last axis with zeros.")
ZeroPad2d = _pad_class("ZeroPad2d", "constant", 2, "Pad the last two axes with zeros (left, right, top, bottom).")
ConstantPad1d = _pad_class("ConstantPad1d", "constant", 1, "Pad the last axis with a value.")
ConstantPad2d = _pad_class("ConstantPad2d", "constant", 2, "Pad the last two axes with a value.")
ReflectionPad1d = _pad_class("ReflectionPad1d", "reflect", 1, "Pad the last axis by reflection.")
ReflectionPad2d = _pad_class("ReflectionPad2d", "reflect", 2, "Pad the last two axes by reflection.")
ReplicationPad1d = _pad_class("ReplicationPad1d", "replicate", 1, "Pad the last axis by repeating the edge.")
ReplicationPad2d = _pad_class("ReplicationPad2d", "replicate", 2, "Pad the last two axes by repeating the edge.")


class Upsample(Module):
    """Resize the spatial axes (nn.functional.interpolate's modes).

    Parameters
    ----------
    size : int or tuple, optional
        Output spatial size (instead of scale_factor).
    scale_factor : float or tuple, optional
        Multiplier of the spatial size (instead of size).
    mode : str, default 'nearest'
        "nearest", "linear", "bilinear" (nn.functional.interpolate's modes).
    align_corners : bool, optional
        For the linear modes: align the corner pixels' centers.
    recompute_scale_factor : bool, optional
        Accepted for PyTorch's signature.
    """

    _config_keys = ("size", "scale_factor", "mode", "align_corners")

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, x):
        from . import functional as F

        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        return f"size={self.size}, scale_factor={self.scale_factor}, mode={self.mode!r}"
