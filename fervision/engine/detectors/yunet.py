"""OpenCV's YuNet face detector (``cv2.FaceDetectorYN``), the default detector.

Its ONNX file (232 KB, MIT licence, from opencv_zoo) ships as package data in
``fervision/checkpoints/``. The file is looked up in this order: the ``model_path`` option,
``$FERVISION_YUNET``, then the package's ``checkpoints/`` folder (found with :mod:`importlib.resources`).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from ...core.frame import FaceFrame
from ...errors import FervisionError
from .registry import FaceDetector, register_detector

YUNET_FILE = "face_detection_yunet_2023mar.onnx"


def find_yunet(model_path: str | Path | None = None, search: list[Path] | None = None) -> Path:
    """The YuNet ONNX file; ``search`` replaces the package folder after ``model_path`` and ``$FERVISION_YUNET``."""
    if search is None:
        search = [Path(str(resources.files("fervision") / "checkpoints" / YUNET_FILE))]
    candidates = [model_path, os.environ.get("FERVISION_YUNET"), *search]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    raise FervisionError(
        f"YuNet needs its model file {YUNET_FILE}: pass model_path or set FERVISION_YUNET "
        "(it is published in the opencv_zoo repository)."
    )


class YuNetDetector:
    def __init__(self, model_path: str | Path | None = None, min_confidence: float = 0.7, nms: float = 0.3,
                 max_side: int | None = 1280) -> None:
        """``max_side`` downscales larger frames before detection (boxes are mapped back):
        1080p costs 2.25x the time of 1280 px for faces that are large enough at either."""
        self.path = find_yunet(model_path)
        self.max_side = max_side
        self.min_confidence = min_confidence
        self._net = cv2.FaceDetectorYN.create(str(self.path), "", (320, 320), min_confidence, nms, 5000)
        self._size: tuple[int, int] | None = None

    def __call__(self, image_bgr: np.ndarray) -> FaceFrame:
        scale = 1.0
        if self.max_side and max(image_bgr.shape[:2]) > self.max_side:
            scale = self.max_side / max(image_bgr.shape[:2])
            image_bgr = cv2.resize(image_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = image_bgr.shape[:2]
        if self._size != (w, h):
            self._net.setInputSize((w, h))
            self._size = (w, h)
        _, faces = self._net.detect(image_bgr)
        if faces is None or not len(faces):
            return FaceFrame()
        xywh = faces[:, :4]
        xyxy = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:4]], axis=1)
        xyxy = (np.clip(xyxy, 0, [w, h, w, h]) / scale).astype(np.float32)
        return FaceFrame(xyxy=xyxy, confidence=faces[:, -1].astype(np.float32))


@register_detector("yunet")
def yunet_detector(model_path: str | None = None, min_confidence: float = 0.7, tiles: int = 1,
                   max_side: int | None = 1280) -> FaceDetector:
    """The default: 0.7 is the threshold with >= 90 % recall on faces >= 24 px in our benchmark (README)."""
    from .tiling import TiledDetector

    return TiledDetector(YuNetDetector(model_path, min_confidence, max_side=max_side), grid=tiles)
