"""What a user can choose about the video road, and the one function that builds it.

``fervision annotate`` and the desktop app both build their pipeline here, so the two faces
of the product always analyse a video the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..recognizer import ExpressionRecognizer
from .detectors import DEFAULT_DETECTOR, create_detector
from .motion import CameraMotion
from .pipeline import Pipeline
from .scheduler import RecognitionScheduler
from .tracking import StudentTracker


@dataclass(frozen=True)
class PipelineConfig:
    """Model, device and detector settings; ``None`` keeps each component's own default."""

    model: str = "default"
    device: str = "auto"
    detector: str = DEFAULT_DETECTOR
    min_face_score: float | None = None
    min_face_px: int = 0
    tiles: int = 1
    detect_every: int = 1
    max_faces_per_frame: int | None = None
    camera_motion: bool = False

    def with_(self, **changes: object) -> "PipelineConfig":
        return replace(self, **changes)

    def detector_options(self) -> dict[str, object]:
        options: dict[str, object] = {}
        if self.min_face_score is not None:
            options["min_confidence"] = self.min_face_score
        if self.tiles > 1:
            options["tiles"] = self.tiles
        return options


def build_recognizer(config: PipelineConfig) -> ExpressionRecognizer:
    return ExpressionRecognizer.from_checkpoint(config.model, device=config.device)


def build_pipeline(config: PipelineConfig, still: bool = False,
                   recognizer: ExpressionRecognizer | None = None) -> Pipeline:
    """The pipeline for ``config``; ``still`` is for unrelated images (no tracking across them)."""
    if config.detect_every < 1:
        raise ValueError("detect_every must be >= 1")
    return Pipeline(
        create_detector(config.detector, **config.detector_options()),
        recognizer or build_recognizer(config),
        tracker=StudentTracker(min_hits=1 if still else 2),
        scheduler=RecognitionScheduler(max_per_frame=config.max_faces_per_frame),
        camera_motion=CameraMotion() if config.camera_motion and not still else None,
        detect_every=1 if still else config.detect_every,
        min_face_px=config.min_face_px,
    )
