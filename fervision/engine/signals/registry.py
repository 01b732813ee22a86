"""The per-face signal protocol and registry: what is read from each face (its expression today).

A signal is one module here, registered once with :func:`register_signal`. It declares the
``data`` keys it fills, which of them are smoothed over time per student, its ``faces.csv``
columns and its overlay text, and it reads a batch of faces from the frame's pixels. The
pipeline reads every signal on the same faces at the same moments (one scheduler), and the
sinks and overlays ask the signals for columns and text, so they never change for a new one.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ...core.frame import FaceFrame
from ...core.registry import Registry
from ...core.signal_format import SignalFormat


class FaceSignal(SignalFormat, Protocol):
    """What the pipeline needs from a per-face signal, beyond its columns and overlay text."""

    @property
    def keys(self) -> tuple[str, ...]:
        """The ``data`` keys it fills, one row per face."""
        ...

    @property
    def smoothed(self) -> tuple[str, ...]:
        """The keys averaged over time per student (exponential, see ``smoothing.py``)."""
        ...

    def unknown(self, n: int) -> dict[str, np.ndarray]:
        """The values of ``n`` faces not read yet (e.g. a uniform distribution, or NaN)."""
        ...

    def read(self, image_bgr: np.ndarray, faces: FaceFrame) -> dict[str, np.ndarray]:
        """Read every face of ``faces`` (one batch) from the frame's pixels."""
        ...


SIGNALS: Registry[FaceSignal] = Registry("signal")
register_signal = SIGNALS.register
list_signals = SIGNALS.names


def create_signal(name: str, **options: Any) -> FaceSignal:
    """Build a registered signal; ``options`` are its factory's (e.g. ``recognizer`` for expression)."""
    return SIGNALS.create(name, **options)
