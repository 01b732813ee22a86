"""Annotated copies of photos: ``<photo>_annotated.jpg`` for each image of a folder or file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ..core.frame import FaceFrame
from ..core.io import atomic_write_bytes
from ..errors import FervisionError
from .sink import SinkBase


def write_image(path: Path, image_bgr: np.ndarray) -> None:
    """Encode by the file's extension and replace ``path`` atomically."""
    ok, data = cv2.imencode(path.suffix or ".jpg", image_bgr)
    if not ok:
        raise FervisionError(f"cannot encode an image as {path.suffix}.")
    atomic_write_bytes(path, data.tobytes())


class AnnotatedImagesSink(SinkBase):
    """Writes each analysed photo, drawn with ``draw``, as ``<folder>/<stem>_annotated.jpg``;
    ``stems`` gives frame ``index``'s file stem."""

    def __init__(self, folder: str | Path, stems: Callable[[int], str],
                 draw: Callable[[np.ndarray, FaceFrame], np.ndarray]) -> None:
        self.folder, self.stems, self.draw = Path(folder), stems, draw

    def write(self, faces: FaceFrame, image_bgr: np.ndarray) -> None:
        write_image(self.folder / f"{self.stems(faces.index)}_annotated.jpg", self.draw(image_bgr, faces))
