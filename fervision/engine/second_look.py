"""A second look at a face before it becomes a student.

A detector's false faces (a white shirt and lap cut by a tile's edge, a bag, a hand) are often
tied to the one crop and scale they were found at, and YuNet gives them landmarks of a face's
shape, so landmark geometry cannot tell them apart (``wider_classroom``: YuNet's ten detections
>= 0.7 that overlap no labelled face by IoU 0.3 all have eyes above nose above mouth corners). A real face is
found again when it is shown in its own surroundings at a standard size; most such artefacts
are not. The tracker asks this once, when a face is about to get its id (and again at most once
a second while it is refused), so the cost is one small detector run per new face.
"""

from __future__ import annotations

import numpy as np

from ..core.boxes import box_iou, face_window
from .detectors.registry import FaceDetector
from .detectors.yunet import YuNetDetector


class SecondLook:
    """``look(image, xyxy)`` → one bool per box: is a face found there again?

    The window around each box is ``context`` face sizes wide, rescaled so that the face is
    ``face_px`` pixels (sqrt(w·h)); a face must be found in it with a score of at least
    ``min_score`` and an overlap (IoU) of at least ``min_iou`` with the box. On
    ``wider_classroom`` (``fervision bench detect``'s data and scoring) the defaults keep all 341
    real faces YuNet finds at 0.7 and refuse 3 of its 16 false ones (10 of 39 with 2×2 tiles),
    about 9 ms a face on 2 cores."""

    def __init__(self, face_px: float = 80, context: float = 3.0, min_score: float = 0.4, min_iou: float = 0.4,
                 detector: FaceDetector | None = None) -> None:
        self.face_px, self.context, self.min_iou = face_px, context, min_iou
        self.detector = detector or YuNetDetector(min_confidence=min_score, max_side=None)

    def look(self, image_bgr: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
        return np.array([self._found_again(image_bgr, box) for box in boxes], bool)

    def _found_again(self, image: np.ndarray, box: np.ndarray) -> bool:
        window = face_window(image, box, self.context, self.face_px)
        if window is None:
            return True  # nothing to look at (a box off the frame): no reason to refuse it
        crop, scale, corner = window
        found = self.detector(crop)
        if not len(found):
            return False
        again = found.xyxy / scale + np.tile(corner, 2)
        return bool(box_iou(box[None], again).max() >= self.min_iou)
