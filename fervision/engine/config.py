"""What a user can choose about the video road, and the one function that builds it.

``fervision annotate`` and the desktop app both build their pipeline here, so the two faces
of the product always analyse a video the same way.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..errors import FervisionError
from .detectors import DEFAULT_DETECTOR, DEFAULT_MIN_FACE_PX, create_detector
from .facing import DEFAULT_CONE_DEG, FacingFrontStage
from .pipeline import Pipeline
from .reading import ReadStage
from .scheduler import RecognitionScheduler
from .second_look import SecondLook
from .signals import FaceSignal, create_signal
from .signals.head_pose import DEFAULT_POSE_LANDMARKS, LANDMARKS
from .smoothing import SmoothStage
from .stages import DetectStage, FollowCameraStage, SceneCutStage, Stage, TrackStage
from .tracking import StudentTracker

if TYPE_CHECKING:
    from ..recognizer import ExpressionRecognizer

CPU_DETECT_EVERY = 3
CPU_MAX_FACES_PER_FRAME = 0


class ConfigError(FervisionError, ValueError):
    """A ``PipelineConfig`` value out of range (also a ``ValueError``, for callers that restore
    saved settings and fall back to the defaults on one)."""


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: object, minimum: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= minimum


@dataclass(frozen=True)
class PipelineConfig:
    """Model, device and detector settings; ``None`` keeps each component's own default."""

    model: str = "default"
    device: str = "auto"
    detector: str = DEFAULT_DETECTOR
    min_face_score: float | None = None
    min_face_px: int = DEFAULT_MIN_FACE_PX  # sqrt(w·h); 0 keeps every detection
    tiles: int = 1
    detect_every: int | None = None  # None: auto (see speed_settings)
    max_faces_per_frame: int | None = None  # None: auto; negative: every face every frame
    camera_motion: bool = False
    signals: tuple[str, ...] = ("expression", "head_pose")  # registered per-face signals read on each face
    head_pose_landmarks: str = DEFAULT_POSE_LANDMARKS  # engine/signals/head_pose.py
    facing_cone_deg: float = DEFAULT_CONE_DEG  # a head within this angle of the front faces front
    front: tuple[float, float] | None = None  # (yaw, pitch) of the room's front; None: learned from the class

    def __post_init__(self) -> None:
        """Refuse values the detector or the stages would fail on later, with one sentence."""
        score = self.min_face_score
        if score is not None and not (_is_number(score) and 0 <= score <= 1):
            raise ConfigError(f"The minimum face score (--min-face-score) must be a number from 0 to 1, not {score}.")
        if not (_is_number(self.min_face_px) and self.min_face_px >= 0):
            raise ConfigError("The minimum face size (--min-face-size) must be 0 pixels or more, "
                              f"not {self.min_face_px}.")
        if not _is_count(self.tiles, 1):
            raise ConfigError(f"Tiling needs 1 or more tiles per side (1: no tiling), not {self.tiles}.")
        if self.detect_every is not None and not _is_count(self.detect_every, 1):
            raise ConfigError("detect every N frames needs N >= 1.")
        if not (_is_number(self.facing_cone_deg) and 0 < self.facing_cone_deg <= 180):
            raise ConfigError("The facing-front cone (--facing-cone) must be more than 0 and at most 180 degrees, "
                              f"not {self.facing_cone_deg}.")
        if self.front is not None and not (len(self.front) == 2 and all(_is_number(v) for v in self.front)
                                           and abs(self.front[0]) <= 180 and abs(self.front[1]) <= 90):
            raise ConfigError(f"The front (--front YAW,PITCH) must be two angles in degrees, yaw within ±180 and "
                              f"pitch within ±90, not {self.front}.")
        if self.head_pose_landmarks not in LANDMARKS:
            raise ConfigError(f"Head-pose landmarks must be one of {', '.join(LANDMARKS)}, "
                              f"not {self.head_pose_landmarks!r}.")

    def with_(self, **changes: Any) -> PipelineConfig:
        return replace(self, **changes)

    def speed_settings(self, device_type: str) -> tuple[int, int | None]:
        """(detect every N frames, faces re-read per frame or None for all) on this device.

        Auto on a CPU: detect on every 3rd frame and refresh each label once a second in one
        batch (``fervision bench video``: 0.42x -> 1.24-1.28x real time for a 720p class of 20 on
        2 cores; students sit still, and no label is older than 1 s). Auto on a GPU: every
        frame, every face.
        """
        cpu = device_type == "cpu"
        every = self.detect_every if self.detect_every is not None else (CPU_DETECT_EVERY if cpu else 1)
        faces = self.max_faces_per_frame
        if faces is None:
            faces = CPU_MAX_FACES_PER_FRAME if cpu else None
        elif faces < 0:
            faces = None
        return every, faces

    def detector_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"min_size": self.min_face_px}
        if self.min_face_score is not None:
            options["min_confidence"] = self.min_face_score
        if self.tiles > 1:
            options["tiles"] = self.tiles
        return options


def build_recognizer(config: PipelineConfig) -> ExpressionRecognizer:
    from ..recognizer import ExpressionRecognizer  # torch loads here, not when the config is made

    return ExpressionRecognizer.from_checkpoint(config.model, device=config.device)


def build_signals(config: PipelineConfig, recognizer: ExpressionRecognizer) -> list[FaceSignal]:
    """The per-face signals ``config`` names, each given the shared resources it may need."""
    return [create_signal(name, recognizer=recognizer, head_pose_landmarks=config.head_pose_landmarks)
            for name in config.signals]


def facing_stage(config: PipelineConfig) -> FacingFrontStage | None:
    """The facing-front stage when head pose is read (it needs the smoothed head directions)."""
    return FacingFrontStage(config.facing_cone_deg, config.front) if "head_pose" in config.signals else None


def build_pipeline(config: PipelineConfig, still: bool = False,
                   recognizer: ExpressionRecognizer | None = None) -> Pipeline:
    """The pipeline for ``config``: find cuts (→ follow the camera) → detect → track → read → smooth.

    ``still`` is for unrelated images: every frame detected, no cuts or camera motion, a face is
    a student at once (no tracking across them is meaningful). Either way a face is looked at a
    second time before it becomes a student (:class:`SecondLook`)."""
    recognizer = recognizer or build_recognizer(config)
    detect_every, max_faces = config.speed_settings(recognizer.device.type)
    signals = build_signals(config, recognizer)
    detect = DetectStage(create_detector(config.detector, **config.detector_options()),
                         every=1 if still else detect_every)
    track = TrackStage(StudentTracker(min_hits=1 if still else 2), SecondLook())
    stages: list[Stage] = [detect, track, ReadStage(signals, RecognitionScheduler(max_per_frame=max_faces)),
                           SmoothStage([key for s in signals for key in s.smoothed])]
    if (facing := facing_stage(config)) is not None:
        stages.append(facing)
    if still:
        return Pipeline(stages, still=True)
    followers: list[DetectStage | TrackStage | FollowCameraStage] = [detect, track]
    if config.camera_motion:
        camera = FollowCameraStage([detect, track])
        stages.insert(0, camera)
        followers.append(camera)
    stages.insert(0, SceneCutStage(followers))
    return Pipeline(stages)
