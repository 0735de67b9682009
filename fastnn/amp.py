"""``torch.amp``'s names: ``fastnn.amp.autocast`` (bfloat16 products on the CPU; see ``fastnn.autocast``)."""
from ._autocast import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: F401

__all__ = ["autocast", "get_autocast_dtype", "is_autocast_enabled"]
