"""Expression analysis of a single still image (``fervision recognize``)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import cv2
import numpy as np

from ..core.io import atomic_write_bytes
from ..errors import FervisionError
from ..recognizer import ExpressionRecognizer
from .detectors import FaceDetector
from .frame import FaceFrame


def read_image(path: str | Path) -> np.ndarray:
    """BGR uint8 image, or a one-sentence error for a missing, empty or undecodable file."""
    path = Path(path)
    if not path.is_file():
        raise FervisionError(f"No image file at {path}.")
    if path.stat().st_size == 0:
        raise FervisionError(f"{path} is empty (0 bytes).")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FervisionError(f"{path} is not an image OpenCV can decode.")
    return image


def analyse_image(image_bgr: np.ndarray, detector: FaceDetector, recognizer: ExpressionRecognizer) -> FaceFrame:
    """Detect every face and attach the recogniser's probabilities (the video pipeline on one frame)."""
    from .pipeline import Pipeline
    from .sources import VideoFrame
    from .tracking import StudentTracker

    frame = Pipeline(detector, recognizer, tracker=StudentTracker(min_hits=1)).process(VideoFrame(image_bgr, 0.0, 0))
    frame.student_ids = None  # one photo: faces are numbered, not followed
    return frame


def faces_csv(frame: FaceFrame) -> str:
    """One row per face: box, detector score, top emotion, its confidence, one probability column per label."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["face", "x1", "y1", "x2", "y2", "det_score", "emotion", "confidence", *[f"p_{lab}" for lab in frame.labels]])
    for i, (box, score, emotion) in enumerate(zip(frame.xyxy, frame.confidence, frame.emotions())):
        probs = frame.probs[i]
        writer.writerow([i, *[f"{v:.1f}" for v in box], f"{score:.3f}", emotion, f"{probs.max():.4f}",
                         *[f"{p:.4f}" for p in probs]])
    return buf.getvalue()


def write_image(path: Path, image_bgr: np.ndarray) -> None:
    """Encode by the file's extension and replace ``path`` atomically."""
    ok, data = cv2.imencode(path.suffix or ".jpg", image_bgr)
    if not ok:
        raise FervisionError(f"cannot encode an image as {path.suffix}.")
    atomic_write_bytes(path, data.tobytes())
