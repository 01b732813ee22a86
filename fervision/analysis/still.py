"""One photo analysed (``fervision recognize``): its faces, each signal read, as a table."""

from __future__ import annotations

import csv
import io

import numpy as np

from ..core.frame import FaceFrame
from ..engine.detectors import FaceDetector
from ..engine.facing import FacingFrontStage
from ..engine.pipeline import Pipeline
from ..engine.reading import ReadStage
from ..engine.signals import FaceSignal
from ..engine.sources import VideoFrame
from ..engine.stages import DetectStage, Stage


def analyse_image(image_bgr: np.ndarray, detector: FaceDetector, signals: list[FaceSignal],
                  facing: FacingFrontStage | None = None) -> FaceFrame:
    """Detect every face and read every signal on each (the video road without tracking: one photo's
    faces are numbered, not followed); ``facing`` marks who faces front (the front learned from the
    photo's faces unless it was given)."""
    stages: list[Stage] = [DetectStage(detector), ReadStage(signals)]
    if facing is not None:
        stages.append(facing)
    return Pipeline(stages).process(VideoFrame(image_bgr, 0.0, 0))


def faces_csv(faces: FaceFrame, signals: list[FaceSignal]) -> str:
    """One row per face: box, detector score, then each signal's columns (``emotion,confidence,p_<label>…``)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["face", "x1", "y1", "x2", "y2", "det_score", *[c for s in signals for c in s.columns()]])
    for i, (box, score) in enumerate(zip(faces.xyxy, faces.confidence, strict=True)):
        writer.writerow([i, *[f"{v:.1f}" for v in box], f"{score:.3f}",
                         *[c for s in signals for c in s.cells(faces, i)]])
    return buf.getvalue()
