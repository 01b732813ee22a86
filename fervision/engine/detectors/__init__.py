"""Face detectors: the registry (``registry.py``) and the detectors that register themselves in it."""

from . import mediapipe as _mediapipe  # noqa: F401  (registration)
from . import yunet as _yunet  # noqa: F401
from .registry import (
    DEFAULT_DETECTOR,
    DEFAULT_MIN_FACE_PX,
    FaceDetector,
    SizeFilter,
    create_detector,
    list_detectors,
    register_detector,
)

__all__ = ["DEFAULT_DETECTOR", "DEFAULT_MIN_FACE_PX", "FaceDetector", "SizeFilter", "create_detector",
           "list_detectors", "register_detector"]
