"""Face crops from a lesson, sorted by the model's guess: the start of a labelled set for fine-tuning.

Written only when the user asks (``annotate --save-faces``): they are pictures of people.
The layout is the one ``fervision train --dataset folder`` reads, ``<folder>/<expression>/
<stem>_s<student>_t<seconds>.jpg``, so correcting the labels means moving the wrong files
to the right folder. Crops are cut the way the recogniser cuts them (its margin), so a
model fine-tuned on them sees faces framed as it will at analysis time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ..core.boxes import crop_faces
from ..core.frame import FaceFrame
from ..core.io import atomic_write_bytes
from .sink import SinkBase


class FaceCropSink(SinkBase):
    """Save each student's face at most once every ``every_s`` seconds of the source (every face of a still)."""

    def __init__(self, folder: str | Path, stem: str, margin: float, every_s: float = 2.0,
                 still_names: Callable[[int], str] | None = None) -> None:
        """``still_names`` (for a folder of photos) gives the file stem of frame ``index``: a photo has
        numbered faces instead of students, and all of them are saved."""
        self.folder = Path(folder)
        self.stem = stem
        self.margin = margin
        self.every_s = every_s
        self.still_names = still_names
        self.saved = 0
        self._last: dict[int, float] = {}
        self.folder.mkdir(parents=True, exist_ok=True)  # like opening a file: a bad folder fails here, not mid-lesson

    def write(self, faces: FaceFrame, image_bgr: np.ndarray) -> None:
        """Save the due faces, cut from ``image_bgr`` (the frame's pixels, not drawn on)."""
        if not len(faces):
            return
        still_name = self.still_names(faces.index) if self.still_names is not None else None
        guesses = faces.emotions() or ["unknown"] * len(faces)
        for i, crop in enumerate(crop_faces(image_bgr, faces.xyxy, self.margin)):
            if still_name is not None:
                name = f"{still_name}_face{i}.jpg"
            elif faces.student_ids is None or faces.student_ids[i] <= 0:
                continue  # not a confirmed student yet: perhaps not a face at all
            else:
                student = int(faces.student_ids[i])
                if faces.time_s - self._last.get(student, -np.inf) < self.every_s:
                    continue
                self._last[student] = faces.time_s
                name = f"{self.stem}_s{student}_t{faces.time_s:08.2f}.jpg"
            ok, jpg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
            if ok:
                atomic_write_bytes(self.folder / guesses[i] / name, jpg.tobytes())
                self.saved += 1
