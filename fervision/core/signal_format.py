"""How a per-face signal presents itself: the part of a signal that sinks and overlays read.

Outputs take these objects from whoever built the pipeline, so they write any signal's columns
and overlay text without importing the engine that reads it.
"""

from __future__ import annotations

from typing import Protocol

from .frame import FaceFrame


class SignalFormat(Protocol):
    name: str

    def columns(self) -> list[str]:
        """Its ``faces.csv`` columns, in order."""
        ...

    def cells(self, faces: FaceFrame, i: int) -> list[str]:
        """Face ``i``'s values for :meth:`columns` (blank when unknown)."""
        ...

    def overlay_text(self, faces: FaceFrame, i: int) -> str:
        """What the overlay writes beside face ``i``'s id ("" for nothing)."""
        ...
