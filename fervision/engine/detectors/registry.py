"""The face-detector registry: ``create_detector(name, **options)``; a detector maps a BGR uint8
image to a :class:`~fervision.core.frame.FaceFrame` with ``xyxy`` and ``confidence``.

A new detector is one module that registers itself here, plus its import in ``__init__.py``."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ...core.frame import FaceFrame
from ...core.registry import Registry


class FaceDetector(Protocol):
    def __call__(self, image_bgr: np.ndarray) -> FaceFrame: ...


DETECTORS: Registry[FaceDetector] = Registry("detector")
register_detector = DETECTORS.register
list_detectors = DETECTORS.names


DEFAULT_DETECTOR = "yunet"
"""Chosen by ``fervision bench detect`` (README, "Face detection"): YuNet at 0.7 finds 90 % of
classroom faces >= 24 px where BlazeFace finds 23 %."""


DEFAULT_MIN_FACE_PX = 16
"""Faces smaller than this (sqrt(w·h), pixels) are dropped by default: too few pixels to read an
expression from, and where most false detections are (``fervision bench detect``: YuNet 0.7's
precision goes from 92.5 % to 95.5 % on wider_classroom with recall on faces ≥ 24 px unchanged)."""


class SizeFilter:
    """Drops detections whose size sqrt(w·h) is below ``min_size`` pixels."""

    def __init__(self, detector: FaceDetector, min_size: float) -> None:
        self.detector, self.min_size = detector, min_size

    def __call__(self, image_bgr: np.ndarray) -> FaceFrame:
        faces = self.detector(image_bgr)
        wh = np.clip(faces.xyxy[:, 2:] - faces.xyxy[:, :2], 0, None)
        return faces[np.sqrt(wh[:, 0] * wh[:, 1]) >= self.min_size]


def create_detector(name: str = DEFAULT_DETECTOR, min_size: float = DEFAULT_MIN_FACE_PX,
                    **options: Any) -> FaceDetector:
    """Build a registered face detector (``yunet``, the default, or ``mediapipe``); ``min_size``
    (pixels, sqrt(w·h); 0 keeps all) applies to every detector."""
    detector = DETECTORS.create(name, **options)
    return SizeFilter(detector, min_size) if min_size > 0 else detector
