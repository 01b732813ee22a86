"""Face-detector registry: ``create_detector(name, **options)``; a detector maps a BGR uint8
image to a :class:`~fervision.engine.frame.FaceFrame` with ``xyxy`` and ``confidence``."""

from __future__ import annotations

from typing import Any, Callable, Protocol

import numpy as np

from ..frame import FaceFrame


class FaceDetector(Protocol):
    def __call__(self, image_bgr: np.ndarray) -> FaceFrame: ...


_DETECTORS: dict[str, Callable[..., FaceDetector]] = {}


def register_detector(name: str) -> Callable[[Callable[..., FaceDetector]], Callable[..., FaceDetector]]:
    def wrap(factory: Callable[..., FaceDetector]) -> Callable[..., FaceDetector]:
        _DETECTORS[name] = factory
        return factory

    return wrap


def list_detectors() -> list[str]:
    return sorted(_DETECTORS)


DEFAULT_DETECTOR = "yunet"
"""Chosen by ``fervision bench detect`` (README, "Face detection"): YuNet at 0.7 finds 90 % of
classroom faces >= 24 px where BlazeFace finds 23 %."""


def create_detector(name: str = DEFAULT_DETECTOR, **options: Any) -> FaceDetector:
    """Build a registered face detector (``yunet``, the default, or ``mediapipe``)."""
    if name not in _DETECTORS:
        raise KeyError(f"unknown detector {name!r}; registered: {', '.join(list_detectors())}")
    return _DETECTORS[name](**options)


from . import mediapipe as _mediapipe  # noqa: E402,F401  (registration)
from . import yunet as _yunet  # noqa: E402,F401
