"""Face crops from a lesson, sorted by the model's guess: the start of a labelled set for fine-tuning.

Written only when the user asks (``annotate --save-faces``): they are pictures of people.
The layout is the one ``fervision train --dataset folder`` reads, ``<folder>/<expression>/
<stem>_s<student>_t<seconds>.jpg``, so correcting the labels means moving the wrong files
to the right folder. Crops are cut the way the recogniser cuts them (its margin), so a
model fine-tuned on them sees faces framed as it will at analysis time.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..core.io import atomic_write_bytes
from ..engine.frame import FaceFrame, crop_faces


class FaceCropSink:
    """Save each student's face at most once every ``every_s`` seconds of the source (every face of a still)."""

    def __init__(self, folder: str | Path, stem: str, margin: float, every_s: float = 2.0) -> None:
        self.folder = Path(folder)
        self.stem = stem
        self.margin = margin
        self.every_s = every_s
        self.saved = 0
        self._last: dict[int, float] = {}
        self.folder.mkdir(parents=True, exist_ok=True)  # like opening a file: a bad folder fails here, not mid-lesson

    def __enter__(self) -> "FaceCropSink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing is buffered (each crop is written whole when it is due); here for the sink protocol."""

    def write(self, frame: FaceFrame, image: np.ndarray, still_name: str | None = None) -> None:
        """Save the due faces of ``frame``, cut from ``image`` (its pixels, BGR). A still image
        (``still_name``, its file's stem) has numbered faces instead of students: all are saved."""
        if not len(frame):
            return
        guesses = frame.emotions() or ["unknown"] * len(frame)
        for i, crop in enumerate(crop_faces(image, frame.xyxy, self.margin)):
            if still_name is not None:
                name = f"{still_name}_face{i}.jpg"
            elif frame.student_ids is None or frame.student_ids[i] <= 0:
                continue  # not a confirmed student yet: perhaps not a face at all
            else:
                student = int(frame.student_ids[i])
                if frame.time_s - self._last.get(student, -np.inf) < self.every_s:
                    continue
                self._last[student] = frame.time_s
                name = f"{self.stem}_s{student}_t{frame.time_s:08.2f}.jpg"
            ok, jpg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
            if ok:
                atomic_write_bytes(self.folder / guesses[i] / name, jpg.tobytes())
                self.saved += 1
