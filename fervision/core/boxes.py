"""Box geometry every layer shares: overlaps, non-maximum suppression, crops, camera warps."""

from __future__ import annotations

import numpy as np


def _intersections(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return np.clip(br - tl, 0, None).prod(axis=2)


def _areas(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2:] - boxes[:, :2]).prod(axis=1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``xyxy`` boxes, ``[len(a), len(b)]``."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    inter = _intersections(a, b)
    return inter / np.maximum(_areas(a)[:, None] + _areas(b)[None, :] - inter, 1e-9)


def share_inside(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise share of each ``a`` box's area that lies inside each ``b`` box, ``[len(a), len(b)]``
    (1 for a part of a face cut off by a window's edge inside the whole face's box)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    return _intersections(a, b) / np.maximum(_areas(a)[:, None], 1e-9)


def nms(xyxy: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.4) -> np.ndarray:
    """Indices of the boxes kept after non-maximum suppression, highest score first."""
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


def face_window(image: np.ndarray, box: np.ndarray, context: float,
                face_px: float) -> tuple[np.ndarray, float, np.ndarray] | None:
    """The face ``box`` shown in its surroundings at a standard size: a window ``context`` face
    sizes (sqrt(w·h)) wide around it, clipped to the image, scaled so the face is ``face_px``.
    Returns (window, scale, its top-left corner in the image), or None when nothing is left of it.
    A box in the window maps back to the image as ``box / scale + [x, y, x, y]`` of the corner."""
    import cv2

    h, w = image.shape[:2]
    size = float(np.sqrt(max((box[2] - box[0]) * (box[3] - box[1]), 1.0)))
    cx, cy, half = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, size * context / 2
    x1, y1 = int(max(0, cx - half)), int(max(0, cy - half))
    x2, y2 = int(min(w, cx + half)), int(min(h, cy + half))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    scale = face_px / size
    window = cv2.resize(image[y1:y2, x1:x2], None, fx=scale, fy=scale,
                        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return np.ascontiguousarray(window), scale, np.array([x1, y1], np.float32)


def warp_boxes(xyxy: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2×3 similarity transform to ``xyxy`` boxes (corners mapped, box re-fitted)."""
    if len(xyxy) == 0:
        return xyxy
    corners = np.stack([xyxy[:, [0, 1]], xyxy[:, [2, 1]], xyxy[:, [0, 3]], xyxy[:, [2, 3]]], axis=1)  # N 4 2
    mapped = corners @ matrix[:, :2].T + matrix[:, 2]
    return np.concatenate([mapped.min(axis=1), mapped.max(axis=1)], axis=1).astype(np.float32)
