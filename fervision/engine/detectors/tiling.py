"""Tiled detection: run a detector on the whole frame and on overlapping tiles, merge with NMS.

Detectors built for selfie-sized faces (BlazeFace) downscale the frame to their small input
and lose back-row faces of 20–40 px in a 1080p classroom; a tile seen at full resolution
keeps them.
"""

from __future__ import annotations

import numpy as np

from ..frame import FaceFrame
from .nms import nms


def tile_windows(width: int, height: int, grid: int, overlap: float = 0.2) -> list[tuple[int, int, int, int]]:
    """``grid × grid`` windows ``(x1, y1, x2, y2)`` covering the frame, each overlapping its neighbours."""
    tw = int(np.ceil(width / (grid - (grid - 1) * overlap)))
    th = int(np.ceil(height / (grid - (grid - 1) * overlap)))
    xs = np.linspace(0, width - tw, grid).astype(int)
    ys = np.linspace(0, height - th, grid).astype(int)
    return [(int(x), int(y), int(x) + tw, int(y) + th) for y in ys for x in xs]


class TiledDetector:
    """Wraps any detector; ``grid=1`` is the plain detector."""

    def __init__(self, detector, grid: int = 2, overlap: float = 0.2, iou_threshold: float = 0.4,
                 include_full_frame: bool = True) -> None:
        self.detector, self.grid, self.overlap = detector, grid, overlap
        self.iou_threshold, self.include_full_frame = iou_threshold, include_full_frame

    def __call__(self, image_bgr: np.ndarray) -> FaceFrame:
        if self.grid <= 1:
            return self.detector(image_bgr)
        h, w = image_bgr.shape[:2]
        boxes, scores = [], []
        windows = tile_windows(w, h, self.grid, self.overlap)
        if self.include_full_frame:
            windows = [(0, 0, w, h), *windows]
        for x1, y1, x2, y2 in windows:
            found = self.detector(np.ascontiguousarray(image_bgr[y1:y2, x1:x2]))
            if len(found):
                boxes.append(found.xyxy + np.array([x1, y1, x1, y1], np.float32))
                scores.append(found.confidence)
        if not boxes:
            return FaceFrame()
        xyxy, conf = np.concatenate(boxes), np.concatenate(scores)
        keep = nms(xyxy, conf, self.iou_threshold)
        return FaceFrame(xyxy=xyxy[keep], confidence=conf[keep])
