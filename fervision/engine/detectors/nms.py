"""Non-maximum suppression for merging overlapping detections (e.g. from image tiles)."""

from __future__ import annotations

import numpy as np

from ..tracking import box_iou


def nms(xyxy: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.4) -> np.ndarray:
    """Indices of the boxes kept, highest score first."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    while len(order):
        i = int(order[0])
        keep.append(i)
        if len(order) == 1:
            break
        iou = box_iou(xyxy[i : i + 1], xyxy[order[1:]])[0]
        order = order[1:][iou < iou_threshold]
    return np.asarray(keep, dtype=np.int64)
