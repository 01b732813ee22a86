"""The one dataclass that travels through detector → tracker → recogniser → outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class FaceFrame:
    """Faces found in one frame, in the frame's pixel coordinates.

    Stages fill their own fields: detectors ``xyxy``/``confidence``, the tracker
    ``student_ids``, the recogniser ``probs`` (columns in ``labels`` order).
    """

    xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    confidence: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    time_s: float = 0.0
    index: int = 0
    student_ids: np.ndarray | None = None
    probs: np.ndarray | None = None
    labels: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.xyxy)

    def emotions(self) -> list[str]:
        """Top emotion per face (empty when not recognised yet)."""
        if self.probs is None or not self.labels:
            return []
        return [self.labels[i] for i in self.probs.argmax(axis=1)]


def crop_faces(image: np.ndarray, xyxy: np.ndarray, margin: float = 0.0) -> list[np.ndarray]:
    """Square-ish crops of each box grown by ``margin`` of its size on every side, clipped to the image."""
    h, w = image.shape[:2]
    crops = []
    for x1, y1, x2, y2 in np.asarray(xyxy, dtype=np.float32):
        mx, my = (x2 - x1) * margin, (y2 - y1) * margin
        a, b = int(max(0, np.floor(x1 - mx))), int(max(0, np.floor(y1 - my)))
        c, d = int(min(w, np.ceil(x2 + mx))), int(min(h, np.ceil(y2 + my)))
        crops.append(image[b:max(d, b + 1), a:max(c, a + 1)])
    return crops
