"""The one interface every output implements: ``write(faces, image)``, ``close()``, a context manager.

The frame loop (``fervision.analysis.loop``) hands each analysed frame's faces and its pixels
(BGR, not drawn on) to every sink in order. A sink with ``every_frame`` also gets the frames
that were not analysed (``--stride``, or a slow app), with the last faces held at their time,
so a video keeps every frame while per-face tables keep only what was really read.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..core.frame import FaceFrame


@runtime_checkable
class Sink(Protocol):
    every_frame: bool

    def write(self, faces: FaceFrame, image_bgr: np.ndarray) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Sink: ...

    def __exit__(self, *exc: object) -> None: ...


class SinkBase:
    """Context-manager plumbing and defaults for sinks: analysed frames only, nothing to close."""

    every_frame = False

    def write(self, faces: FaceFrame, image_bgr: np.ndarray) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the file(s); called once, also when the run was interrupted."""

    def __enter__(self) -> SinkBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
