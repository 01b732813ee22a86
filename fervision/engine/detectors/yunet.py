"""YuNet, the default face detector (opencv_zoo's face_detection_yunet_2023mar), run by ONNX
Runtime or OpenCV's DNN (:mod:`.yunet_runtime`).

Its ONNX file (230 KB, MIT licence, from opencv_zoo, with its input size made free by
``scripts/yunet_any_size.py``) ships as package data in ``fervision/checkpoints/``. The file is
looked up in this order: the ``model_path`` option, ``$FERVISION_YUNET``, then the package's
``checkpoints/`` folder (found with :mod:`importlib.resources`).
"""

from __future__ import annotations

import math
import os
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from ...core.frame import FaceFrame
from ...errors import FervisionError
from .registry import FaceDetector, register_detector
from .yunet_runtime import Backend, open_yunet

YUNET_FILE = "face_detection_yunet_2023mar_anysize.onnx"


def check_fraction(name: str, value: object) -> float:
    """``value`` as a float in [0, 1], or one sentence (OpenCV's NMS asserts on a negative or NaN one)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not 0 <= float(value) <= 1:
        raise FervisionError(f"The face detector's {name} must be a number from 0 to 1, not {value}.")
    return float(value)


def check_tiles(tiles: object) -> int:
    if isinstance(tiles, bool) or not isinstance(tiles, (int, np.integer)) or tiles < 1:
        raise FervisionError(f"Tiling needs 1 or more tiles per side (1: no tiling), not {tiles}.")
    return int(tiles)


def check_bgr(image: object) -> None:
    """One sentence for what a detector cannot read (OpenCV's DNN fails deep inside otherwise)."""
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3):
        what = f"an array of shape {image.shape} and type {image.dtype}" if isinstance(image, np.ndarray) \
            else f"a {type(image).__name__}"
        raise FervisionError(f"The face detector needs a colour BGR image (height × width × 3, uint8), not {what}.")


def find_yunet(model_path: str | Path | None = None, search: list[Path] | None = None) -> Path:
    """The YuNet ONNX file; ``search`` replaces the package folder after ``model_path`` and ``$FERVISION_YUNET``.

    A file the user names (``model_path``, ``$FERVISION_YUNET``) must exist: a mistyped path would
    otherwise fall through to the shipped model without a word."""
    for given, what in ((model_path, "YuNet's model_path"), (os.environ.get("FERVISION_YUNET"), "FERVISION_YUNET")):
        if given:
            if not Path(given).is_file():
                raise FervisionError(f"{what} names {given}, which is not a file.")
            return Path(given)
    if search is None:
        search = [Path(str(resources.files("fervision") / "checkpoints" / YUNET_FILE))]
    for c in search:
        if Path(c).is_file():
            return Path(c)
    raise FervisionError(
        f"YuNet needs its model file {YUNET_FILE}, which this installation lacks: pass model_path or set "
        "FERVISION_YUNET "
        "(opencv_zoo publishes face_detection_yunet_2023mar.onnx, which OpenCV's DNN runs as it is)."
    )


class YuNetDetector:
    def __init__(self, model_path: str | Path | None = None, min_confidence: float = 0.7, nms: float = 0.3,
                 max_side: int | None = 1280, backend: Backend = "auto") -> None:
        """``max_side`` downscales larger frames before detection (boxes are mapped back):
        1080p costs 2.25x the time of 1280 px for faces that are large enough at either.
        ``backend``: ``onnxruntime``, ``opencv`` or ``auto`` (:func:`.yunet_runtime.open_yunet`)."""
        min_confidence, nms = check_fraction("minimum score", min_confidence), check_fraction("NMS threshold", nms)
        if max_side is not None and (isinstance(max_side, bool) or not isinstance(max_side, (int, float))
                                     or not math.isfinite(max_side) or max_side < 32):
            raise FervisionError(f"YuNet's max_side must be 32 pixels or more (or None), not {max_side}.")
        self.path = find_yunet(model_path)
        self.max_side = max_side
        self.min_confidence = min_confidence
        self.runtime = open_yunet(self.path, min_confidence, nms, backend)

    def __call__(self, image_bgr: np.ndarray) -> FaceFrame:
        return self.detect_with_landmarks(image_bgr)[0]

    def detect_with_landmarks(self, image_bgr: np.ndarray) -> tuple[FaceFrame, np.ndarray]:
        """The faces and, for each, YuNet's five points in frame pixels ([n, 5, 2]: the student's
        right eye, left eye, nose tip, right and left mouth corner), which head pose can use."""
        check_bgr(image_bgr)
        none = (FaceFrame(), np.zeros((0, 5, 2), np.float32))
        if not image_bgr.size:
            return none
        scale = 1.0
        if self.max_side and max(image_bgr.shape[:2]) > self.max_side:
            scale = self.max_side / max(image_bgr.shape[:2])
            image_bgr = cv2.resize(image_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = image_bgr.shape[:2]
        faces = self.runtime.detect(image_bgr)
        if not len(faces):
            return none
        xywh = faces[:, :4]
        xyxy = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:4]], axis=1)
        xyxy = (np.clip(xyxy, 0, [w, h, w, h]) / scale).astype(np.float32)
        landmarks = (faces[:, 4:14].reshape(-1, 5, 2) / scale).astype(np.float32)
        return FaceFrame(xyxy=xyxy, confidence=faces[:, -1].astype(np.float32)), landmarks


@register_detector("yunet")
def yunet_detector(model_path: str | None = None, min_confidence: float = 0.7, tiles: int = 1,
                   max_side: int | None = 1280, backend: Backend = "auto") -> FaceDetector:
    """The default: 0.7 is the threshold with >= 90 % recall on faces >= 24 px in our benchmark (README)."""
    from .tiling import TiledDetector

    return TiledDetector(YuNetDetector(model_path, min_confidence, max_side=max_side, backend=backend),
                         grid=check_tiles(tiles))
