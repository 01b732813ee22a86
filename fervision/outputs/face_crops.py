"""Face crops from a lesson, sorted by the model's guess: the start of a labelled set for fine-tuning.

Written only when the user asks (``annotate --save-faces``): they are pictures of people.
The layout is the one ``fervision train --dataset folder`` reads, ``<folder>/<expression>/
<stem>_s<student>_t<seconds>.jpg``, so correcting the labels means moving the wrong files
to the right folder. Crops are cut the way the recogniser cuts them (its margin), so a
model fine-tuned on them sees faces framed as it will at analysis time. Only faces worth
learning from are saved (:func:`worth_saving`): ``annotate --save-faces`` and the app's Save faces
pick the same ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ..core.boxes import crop_faces
from ..core.frame import HEAD_POSE, FaceFrame
from ..core.io import atomic_write_bytes
from .sink import SinkBase

MIN_CROP_SCORE = 0.8
"""Face crops are saved only from detections this sure: backs of heads, hands and blurred passers-by
that pass the detector's own threshold (0.7) mostly score under it (looked at on the shared clips)."""
FRONTAL_DEG = (45.0, 35.0)
"""With head pose read: the most a saved face may be turned aside (yaw) and up or down (pitch)."""


def worth_saving(faces: FaceFrame, confirmed_only: bool = True) -> np.ndarray:
    """Which faces make useful pictures for fine-tuning: confident detections, confirmed students
    (``confirmed_only``; an unconfirmed face may be no face at all), and, where head pose is read, a
    face turned towards the camera (no pose found there is the back of a head)."""
    keep = faces.confidence >= MIN_CROP_SCORE
    if confirmed_only:
        keep &= faces.student_ids > 0 if faces.student_ids is not None else False
    pose = faces.data.get(HEAD_POSE)
    if pose is not None:
        with np.errstate(invalid="ignore"):  # NaN (no pose) compares False: left out
            keep &= (np.abs(pose[:, 0]) <= FRONTAL_DEG[0]) & (np.abs(pose[:, 1]) <= FRONTAL_DEG[1])
    return np.asarray(keep, bool)


class FaceCropSink(SinkBase):
    """Save each student's face at most once every ``every_s`` seconds of the source (every face of a
    still), of the faces :func:`worth_saving` picks."""

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
        keep = np.flatnonzero(worth_saving(faces, confirmed_only=still_name is None))
        if not len(keep):
            return
        guesses = faces.emotions() or ["unknown"] * len(faces)
        for i, crop in zip(keep, crop_faces(image_bgr, faces.xyxy[keep], self.margin), strict=True):
            if still_name is not None:
                name = f"{still_name}_face{i}.jpg"  # numbered as found in the photo
            else:
                assert faces.student_ids is not None  # (worth_saving kept confirmed students only)
                student = int(faces.student_ids[i])
                if faces.time_s - self._last.get(student, -np.inf) < self.every_s:
                    continue
                self._last[student] = faces.time_s
                name = f"{self.stem}_s{student}_t{faces.time_s:08.2f}.jpg"
            ok, jpg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
            if ok:
                atomic_write_bytes(self.folder / guesses[i] / name, jpg.tobytes())
                self.saved += 1
