"""YuNet's five landmarks for given faces: each face shown in its surroundings at a standard size.

Head pose falls back to these where FaceMesh finds no face (small, blurred or turned faces:
FaceMesh reads 62 % of ``wider_classroom``'s faces >= 24 px, this 96 %; ``fervision bench
pose``). The face is looked for again in a window of ``context`` face sizes, scaled so the face
is ``face_px`` wide, and the detection overlapping its box best gives the points.
"""

from __future__ import annotations

import numpy as np

from ..core.boxes import box_iou, face_window
from .detectors.yunet import YuNetDetector


class FivePointReader:
    """``read(image_bgr, xyxy)`` → [n, 5, 2] points in frame pixels (NaN where no face is found)."""

    def __init__(self, face_px: float = 96, context: float = 2.0, min_score: float = 0.3, min_iou: float = 0.4,
                 detector: YuNetDetector | None = None) -> None:
        self.face_px, self.context, self.min_iou = face_px, context, min_iou
        self.detector = detector or YuNetDetector(min_confidence=min_score, max_side=None)

    def read(self, image_bgr: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
        out = np.full((len(boxes), 5, 2), np.nan, np.float32)
        for i, box in enumerate(boxes):
            window = face_window(image_bgr, box, self.context, self.face_px)
            if window is None:
                continue
            crop, scale, corner = window
            found, points = self.detector.detect_with_landmarks(crop)
            if not len(found):
                continue
            overlap = box_iou(box[None], found.xyxy / scale + np.tile(corner, 2))[0]
            best = int(overlap.argmax())
            if overlap[best] >= self.min_iou:
                out[i] = points[best] / scale + corner
        return out
