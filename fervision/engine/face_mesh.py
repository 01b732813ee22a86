"""MediaPipe FaceMesh on each face's crop: 478 landmarks (irises included) in frame pixels.

FaceMesh ships inside the ``mediapipe==0.10.21`` wheel and runs offline. It expects a face that
fills most of its input, so each face is cut out with a margin around its detector box and read
on its own (``static_image_mode``: faces of one frame are unrelated crops). A crop where FaceMesh
finds no face gives NaNs: a back of a head, a hand, a shirt the detector took for a face.
"""

from __future__ import annotations

import os

import numpy as np

from .native_noise import native_stderr_silenced

MESH_LANDMARKS = 478
CROP_MARGIN = 0.25
"""Extra room on each side of the detector's box, as a share of its size (FaceMesh wants the
whole head, forehead and chin included)."""
MIN_CROP_PX = 96
"""Small faces are scaled up to this side before reading (FaceMesh reads at 192 px)."""


def square_crop(image_bgr: np.ndarray, box: np.ndarray, margin: float = CROP_MARGIN) -> tuple[np.ndarray, float, float]:
    """A square around ``box`` (x1, y1, x2, y2), grown by ``margin`` on each side (FaceMesh assumes
    a square input). At the frame's edge the square slides inside the frame; only a square larger
    than the frame is padded (the border repeated). Returns the crop and its top-left corner in
    the frame (negative when padded)."""
    import cv2

    height, width = image_bgr.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(2, round(max(x2 - x1, y2 - y1) * (1 + 2 * margin)))
    left, top = round((x1 + x2 - side) / 2), round((y1 + y2 - side) / 2)
    if side <= width:
        left = min(max(left, 0), width - side)
    if side <= height:
        top = min(max(top, 0), height - side)
    inner = image_bgr[max(0, top):min(height, top + side), max(0, left):min(width, left + side)]
    if inner.size == 0:
        return np.zeros((0, 0, 3), np.uint8), float(left), float(top)
    pads = (max(0, -top), max(0, top + side - height), max(0, -left), max(0, left + side - width))
    crop = cv2.copyMakeBorder(inner, *pads, cv2.BORDER_REPLICATE) if any(pads) else inner
    return crop, float(left), float(top)


NOSE_TIP = 1


def _inside(point: np.ndarray, box: np.ndarray, grow: float = 0.1) -> bool:
    x1, y1, x2, y2 = box
    mx, my = grow * (x2 - x1), grow * (y2 - y1)
    return bool(x1 - mx <= point[0] <= x2 + mx and y1 - my <= point[1] <= y2 + my)


class FaceMeshReader:
    """``read(image_bgr, xyxy)`` → [n, 478, 2] landmarks in the frame's pixels (NaN where no face)."""

    def __init__(self, min_confidence: float = 0.5) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's start-up chatter
        import mediapipe as mp  # lazily: it loads TensorFlow Lite

        with native_stderr_silenced():  # its graph starts on the first image: start it now, quietly
            self._mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1,
                                                         refine_landmarks=True,
                                                         min_detection_confidence=min_confidence)
            self._mesh.process(np.zeros((MIN_CROP_PX, MIN_CROP_PX, 3), np.uint8))
        self._quiet = True

    def read(self, image_bgr: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        import cv2

        out = np.full((len(xyxy), MESH_LANDMARKS, 2), np.nan, np.float32)
        for i, box in enumerate(np.asarray(xyxy, np.float32).reshape(-1, 4)):
            crop, left, top = square_crop(image_bgr, box)
            if min(crop.shape[:2]) < 8:
                continue
            scale = max(1.0, MIN_CROP_PX / min(crop.shape[:2]))
            if scale > 1:
                crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
            if self._quiet:  # its landmark stage warns on its first face (from C++): keep that quiet too
                with native_stderr_silenced():
                    result = self._mesh.process(np.ascontiguousarray(crop[..., ::-1]))
                self._quiet = not result.multi_face_landmarks
            else:
                result = self._mesh.process(np.ascontiguousarray(crop[..., ::-1]))
            if not result.multi_face_landmarks:
                continue
            points = result.multi_face_landmarks[0].landmark
            xy = np.array([(p.x, p.y) for p in points], np.float32) * [crop.shape[1] / scale, crop.shape[0] / scale]
            xy += [left, top]
            if _inside(xy[NOSE_TIP], box):  # the crop's margin can hold a neighbour's face: not this one's
                out[i, :len(xy)] = xy
        return out

    def close(self) -> None:
        self._mesh.close()
