"""fastnn.utils: torch.utils's data loading (fastnn.utils.data)."""
from . import data

__all__ = ["data"]
