"""Detection in windows of a frame, merged with NMS.

Tiling: detectors built for selfie-sized faces (BlazeFace) downscale the frame to their small
input and lose back-row faces of 20–40 px in a 1080p classroom; a tile seen at full
resolution keeps them. Windows around given boxes: to look again only where new faces were
(the pipeline confirms a new face that way at a fraction of a full frame's cost).
"""

from __future__ import annotations

import numpy as np

from ...core.boxes import nms
from ...core.frame import FaceFrame


def tile_windows(width: int, height: int, grid: int, overlap: float = 0.2) -> list[tuple[int, int, int, int]]:
    """``grid × grid`` windows ``(x1, y1, x2, y2)`` covering the frame, each overlapping its neighbours."""
    tw = int(np.ceil(width / (grid - (grid - 1) * overlap)))
    th = int(np.ceil(height / (grid - (grid - 1) * overlap)))
    xs = np.linspace(0, width - tw, grid).astype(int)
    ys = np.linspace(0, height - th, grid).astype(int)
    return [(int(x), int(y), int(x) + tw, int(y) + th) for y in ys for x in xs]


def windows_around(xyxy: np.ndarray, width: int, height: int, margin: float = 1.0,
                   min_side: int = 64) -> list[tuple[int, int, int, int]]:
    """A square window around each box, ``margin`` box sizes wider on every side (at least
    ``min_side`` px), clipped to the frame."""
    windows = []
    for x1, y1, x2, y2 in np.asarray(xyxy, np.float32).reshape(-1, 4):
        half = max(max(x2 - x1, y2 - y1) * (0.5 + margin), min_side / 2)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        windows.append((int(max(0, cx - half)), int(max(0, cy - half)),
                        int(min(width, cx + half)), int(min(height, cy + half))))
    return [w for w in windows if w[2] > w[0] and w[3] > w[1]]


def detect_in_windows(detector, image_bgr: np.ndarray, windows: list[tuple[int, int, int, int]],
                      iou_threshold: float = 0.4) -> FaceFrame:
    """Run ``detector`` on each window, map the boxes back to the frame and merge them with NMS."""
    boxes, scores = [], []
    for x1, y1, x2, y2 in windows:
        found = detector(np.ascontiguousarray(image_bgr[y1:y2, x1:x2]))
        if len(found):
            boxes.append(found.xyxy + np.array([x1, y1, x1, y1], np.float32))
            scores.append(found.confidence)
    if not boxes:
        return FaceFrame()
    xyxy, conf = np.concatenate(boxes), np.concatenate(scores)
    keep = nms(xyxy, conf, iou_threshold)
    return FaceFrame(xyxy=xyxy[keep], confidence=conf[keep])


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
        windows = tile_windows(w, h, self.grid, self.overlap)
        if self.include_full_frame:
            windows = [(0, 0, w, h), *windows]
        return detect_in_windows(self.detector, image_bgr, windows, self.iou_threshold)
