"""YuNet's five landmarks for given faces: each face shown in its surroundings at a standard size.

Head pose reads these on a CPU, and where FaceMesh finds no face (small, blurred or turned
faces: FaceMesh reads 63 % of ``wider_classroom``'s faces >= 24 px, this 94 %; ``fervision bench
pose``). The face is looked for again in a window of ``context`` face sizes, scaled so the face
is ``face_px`` wide, and the detection overlapping its box best gives the points. The windows of
all the faces read together are laid side by side in one picture (a mosaic) and YuNet runs once
on it: one detector call per batch instead of one per face (YuNet is convolutional, so a face in
its cell is found as it would be alone; a cell holds one window with a black margin).
"""

from __future__ import annotations

import numpy as np

from ..core.boxes import box_iou, face_window
from .detectors.yunet import YuNetDetector

FACE_PX = 64
"""The face's size in the window YuNet reads. ``fervision bench pose`` on ``wider_classroom``
(so chosen on the photos it is reported on), one run: 96 px read 96 % of faces, AUC 0.76, median
mirror error 5.6°, 6.4 ms per face; 64 px 94 %, 0.78, 5.3°, 3.2 ms (48 px: 93 %, 0.81, 5.4°,
2.5 ms, but roll mirrors worse, r 0.63 vs 0.79)."""
CELL_MARGIN_PX = 8
"""At least this many black pixels between two faces' windows in the mosaic."""
YUNET_STRIDE = 32


class FivePointReader:
    """``read(image_bgr, xyxy)`` → [n, 5, 2] points in frame pixels (NaN where no face is found)."""

    def __init__(self, face_px: float = FACE_PX, context: float = 2.0, min_score: float = 0.3, min_iou: float = 0.4,
                 detector: YuNetDetector | None = None) -> None:
        self.face_px, self.context, self.min_iou = face_px, context, min_iou
        self.detector = detector or YuNetDetector(min_confidence=min_score, max_side=None)

    def read(self, image_bgr: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
        out = np.full((len(boxes), 5, 2), np.nan, np.float32)
        windows = [(i, w) for i, box in enumerate(boxes)
                   if (w := face_window(image_bgr, box, self.context, self.face_px)) is not None]
        if not windows:
            return out
        # cells a multiple of YuNet's largest stride: each window meets the detector's grid as it would alone
        cell = -(-(int(np.ceil(self.context * self.face_px)) + CELL_MARGIN_PX) // YUNET_STRIDE) * YUNET_STRIDE
        columns = int(np.ceil(np.sqrt(len(windows))))
        rows = int(np.ceil(len(windows) / columns))
        mosaic = np.zeros((rows * cell, columns * cell, 3), np.uint8)
        origins = np.zeros((len(windows), 2), np.float32)
        for k, (_, (crop, _, _)) in enumerate(windows):
            origins[k] = (k % columns * cell, k // columns * cell)
            x, y = (int(v) for v in origins[k])
            crop = crop[:cell - CELL_MARGIN_PX, :cell - CELL_MARGIN_PX]  # (never more than a pixel cut)
            mosaic[y:y + crop.shape[0], x:x + crop.shape[1]] = crop
        found, points = self.detector.detect_with_landmarks(mosaic)
        if not len(found):
            return out
        centres = (found.xyxy[:, :2] + found.xyxy[:, 2:]) / 2
        in_cell = (centres[:, 1] // cell).astype(int) * columns + (centres[:, 0] // cell).astype(int)
        for k, (i, (_, scale, corner)) in enumerate(windows):
            mine = np.flatnonzero(in_cell == k)
            if not len(mine):
                continue
            shift = corner - origins[k] / scale  # cell pixels → frame pixels: p / scale + shift
            overlap = box_iou(boxes[i][None], found.xyxy[mine] / scale + np.tile(shift, 2))[0]
            best = int(overlap.argmax())
            if overlap[best] >= self.min_iou:
                out[i] = points[mine[best]] / scale + shift
        return out
