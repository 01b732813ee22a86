"""Per-face signals: what is read from each face (its expression; its head pose and eyes).

A signal is one module here that registers itself (``registry.py``), plus its import below.
"""

from . import expression as _expression  # noqa: F401  (registration)
from . import head_pose as _head_pose  # noqa: F401
from .registry import FaceSignal, create_signal, list_signals, register_signal

__all__ = ["FaceSignal", "create_signal", "list_signals", "register_signal"]
