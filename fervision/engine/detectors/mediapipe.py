"""MediaPipe BlazeFace, bundled with the ``mediapipe==0.10.21`` wheel (works offline).

``full`` is the full-range model (faces up to ~5 m away, what classrooms need); ``short``
the short-range one (faces within ~2 m, e.g. a webcam at a desk).
"""

from __future__ import annotations

import os

import numpy as np

from ...core.frame import FaceFrame
from ...errors import FervisionError
from ..native_noise import native_stderr_silenced
from .registry import FaceDetector, register_detector
from .yunet import check_bgr, check_fraction, check_tiles


class MediaPipeDetector:
    """Callable BlazeFace detector returning boxes in pixels."""

    def __init__(self, model: str = "full", min_confidence: float = 0.5) -> None:
        if model not in ("full", "short"):
            raise FervisionError(f"The mediapipe detector's model must be 'full' or 'short', not {model!r}.")
        min_confidence = check_fraction("minimum score", min_confidence)
        # mediapipe's C++ logging would print start-up chatter on every run; keep warnings and errors.
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import mediapipe as mp  # imported lazily: it loads TensorFlow Lite

        self.min_confidence = min_confidence

        with native_stderr_silenced():  # its graph starts on the first image: start it now, quietly
            self._detector = mp.solutions.face_detection.FaceDetection(
                model_selection=1 if model == "full" else 0, min_detection_confidence=min_confidence
            )
            self._detector.process(np.zeros((128, 128, 3), np.uint8))

    def __call__(self, image_bgr: np.ndarray) -> FaceFrame:
        check_bgr(image_bgr)
        if not image_bgr.size:
            return FaceFrame()
        h, w = image_bgr.shape[:2]
        result = self._detector.process(np.ascontiguousarray(image_bgr[..., ::-1]))
        boxes, scores = [], []
        for det in result.detections or []:
            if det.score[0] < self.min_confidence:  # BlazeFace's own threshold lets some lower scores through
                continue
            box = det.location_data.relative_bounding_box
            x1, y1 = box.xmin * w, box.ymin * h
            x2, y2 = x1 + box.width * w, y1 + box.height * h
            boxes.append([max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2)])
            scores.append(det.score[0])
        return FaceFrame(
            xyxy=np.asarray(boxes, np.float32).reshape(-1, 4), confidence=np.asarray(scores, np.float32)
        )

    def close(self) -> None:
        self._detector.close()


@register_detector("mediapipe")
def mediapipe_detector(model: str = "full", min_confidence: float = 0.5, tiles: int = 1) -> FaceDetector:
    """``tiles=N`` also runs BlazeFace on an N×N grid of overlapping tiles (for small faces)."""
    from .tiling import TiledDetector

    return TiledDetector(MediaPipeDetector(model=model, min_confidence=min_confidence), grid=check_tiles(tiles))
