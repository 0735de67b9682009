"""fastnn: train small and medium neural networks fast on a multicore CPU.

Hot loops are C with OpenMP (csrc/), bound with Cython (fastnn._ext); the API above them reads like
PyTorch's. ``fastnn.ops`` is the functional kernel layer, ``fastnn.reference`` its NumPy twin.
"""
__version__ = "0.1.0"

from . import ops, reference
from ._threads import get_num_threads, set_num_threads

__all__ = ["ops", "reference", "get_num_threads", "set_num_threads", "__version__"]
