"""Camera-motion estimation between consecutive frames.

A panning or zooming camera moves every face at once; a student who leaves the view and
comes back appears somewhere else in the frame. Tracks are therefore carried along with
the camera: sparse optical flow on a small grey copy of the frame, and a similarity
transform (shift, zoom, rotation) fitted with RANSAC, so people walking past are outliers.
"""

from __future__ import annotations

import cv2
import numpy as np

IDENTITY = np.array([[1, 0, 0], [0, 1, 0]], np.float32)


class CameraMotion:
    """``estimate(frame)`` → 2×3 matrix mapping the previous frame's pixels to this frame's."""

    def __init__(self, width: int = 320, max_corners: int = 300, min_inliers: int = 20) -> None:
        self.width, self.max_corners, self.min_inliers = width, max_corners, min_inliers
        self._prev: np.ndarray | None = None
        self._scale = 1.0

    def _small_grey(self, image_bgr: np.ndarray) -> np.ndarray:
        _h, w = image_bgr.shape[:2]
        self._scale = self.width / w if w > self.width else 1.0
        small = cv2.resize(image_bgr, None, fx=self._scale, fy=self._scale, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)

    def estimate(self, image_bgr: np.ndarray) -> np.ndarray:
        grey = self._small_grey(image_bgr)
        prev, self._prev = self._prev, grey
        if prev is None or prev.shape != grey.shape:
            return IDENTITY.copy()
        corners = cv2.goodFeaturesToTrack(prev, self.max_corners, 0.01, 7)
        if corners is None or len(corners) < self.min_inliers:
            return IDENTITY.copy()
        moved, status, _ = cv2.calcOpticalFlowPyrLK(prev, grey, corners, None)  # type: ignore[call-overload]  # None is allowed (OpenCV allocates)
        ok = status.ravel() == 1
        if ok.sum() < self.min_inliers:
            return IDENTITY.copy()
        matrix, inliers = cv2.estimateAffinePartial2D(corners[ok], moved[ok], method=cv2.RANSAC,
                                                      ransacReprojThreshold=2.0)
        if matrix is None or inliers is None or inliers.sum() < self.min_inliers:
            return IDENTITY.copy()
        matrix = matrix.astype(np.float32)
        matrix[:, 2] /= self._scale  # translation back to full-resolution pixels
        return matrix
