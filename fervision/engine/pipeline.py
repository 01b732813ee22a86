"""The video road for one frame: an ordered list of stages, each taking and returning the faces.

``build_pipeline`` (``config.py``) puts together the usual road: (follow the camera →) detect →
track → read the signals → smooth. The processing itself is plain sequential code; decoding and
encoding run on their own threads (``sources.py``, ``outputs/video.py``).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..core.frame import FaceFrame
from .reading import ReadStage
from .signals import FaceSignal
from .sources import VideoFrame
from .stages import Stage

if TYPE_CHECKING:
    from ..recognizer import ExpressionRecognizer


class Pipeline:
    """Turns each :class:`VideoFrame` into a :class:`FaceFrame`, stage by stage.

    ``timings`` accumulates seconds per stage and ``counts`` the work the stages did (detector
    runs, recognition batches, faces read), for ``fervision bench``.
    """

    def __init__(self, stages: Sequence[Stage], still: bool = False) -> None:
        """``still``: built for unrelated photos (each face a student at once, no time in view)."""
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique: {names}")
        self.stages = list(stages)
        self.still = still
        self.timings: dict[str, float] = defaultdict(float)

    def process(self, frame: VideoFrame) -> FaceFrame:
        faces = FaceFrame(time_s=frame.time_s, index=frame.index)
        for stage in self.stages:
            start = time.perf_counter()
            faces = stage(faces, frame.image)
            self.timings[stage.name] += time.perf_counter() - start
        return faces

    def restart(self) -> None:
        """The source jumped (a seek, a replay): forget the faces in view and start reading afresh;
        the tracker keeps its students, to be re-found where they sit, with their ids."""
        for stage in self.stages:
            stage.reset()

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage named {name!r}; stages: {', '.join(s.name for s in self.stages)}")

    @property
    def counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for stage in self.stages:
            total.update(stage.counts)
        return total

    @property
    def signals(self) -> list[FaceSignal]:
        """The per-face signals read (their columns and overlay text go to the sinks)."""
        return [s for stage in self.stages if isinstance(stage, ReadStage) for s in stage.signals]

    @property
    def labels(self) -> list[str]:
        """The expression labels (empty when no expression is read)."""
        return next((list(getattr(s, "labels", [])) for s in self.signals if s.name == "expression"), [])

    @property
    def recognizer(self) -> ExpressionRecognizer:
        """The expression signal's recogniser."""
        for signal in self.signals:
            if signal.name == "expression":
                return signal.recognizer  # type: ignore[attr-defined]
        raise LookupError("this pipeline reads no expression")
