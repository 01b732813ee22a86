"""Per-face signals: what is read from each face (its expression today; head pose next).

A signal is one module here that registers itself (``registry.py``), plus its import below.
"""

from . import expression as _expression  # noqa: F401  (registration)
from .registry import FaceSignal, create_signal, list_signals, register_signal

__all__ = ["FaceSignal", "create_signal", "list_signals", "register_signal"]
