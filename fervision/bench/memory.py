"""Memory over a long app session (``fervision bench memory``): a synthetic lesson of N faces fed
through the app's own :class:`AnalysisSession` (its sinks, record and charts), no model needed.

Each frame holds ``faces`` students in fixed seats whose top emotion changes every few seconds;
only the detector and the recogniser are stand-ins: the read, smooth and every later step run
as in the app (the CPU defaults' budget, one label a second per student), and the charts'
snapshot is taken twice a second as the window does. Resident memory is printed at the start and at
every quarter, so a leak shows as growth between the quarters.
"""

from __future__ import annotations

import gc
import resource
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..analysis.session import AnalysisSession
from ..core.frame import EXPRESSION, TRACK_KEY, FaceFrame
from ..engine.pipeline import Pipeline
from ..engine.reading import ReadStage
from ..engine.scheduler import RecognitionScheduler
from ..engine.signals.expression import ExpressionSignal
from ..engine.smoothing import SmoothStage
from ..engine.sources import VideoFrame
from ..labels import FERPLUS_LABELS


class SyntheticSeats:
    """Stands in for detect → track: ``faces`` students in fixed seats, always found, ids 1..N."""

    name = "synthetic seats"

    def __init__(self, faces: int) -> None:
        cols = int(np.ceil(np.sqrt(faces)))
        self.xyxy = np.array([[40 + 60 * (i % cols), 40 + 60 * (i // cols), 90 + 60 * (i % cols),
                               90 + 60 * (i // cols)] for i in range(faces)], np.float32)
        self.ids = np.arange(1, faces + 1)
        self.counts: Counter[str] = Counter()

    def __call__(self, faces: FaceFrame, image_bgr: np.ndarray) -> FaceFrame:
        n = len(self.ids)
        return FaceFrame(xyxy=self.xyxy, confidence=np.full(n, 0.9, np.float32), time_s=faces.time_s,
                         index=faces.index, student_ids=self.ids, data={TRACK_KEY: self.ids})

    def reset(self) -> None:
        """Nothing to forget: the seats are fixed."""


class SyntheticExpression(ExpressionSignal):
    """Stands in for the recogniser: each student keeps an emotion for a few seconds (seeded)."""

    def __init__(self, labels: list[str], seed: int = 0) -> None:
        super().__init__(labels)
        self.rng = np.random.default_rng(seed)
        self.emotion: dict[int, int] = {}

    def read(self, image_bgr: np.ndarray, faces: FaceFrame) -> dict[str, np.ndarray]:
        k = len(self.labels)
        ids = faces.ids_or_unknown().tolist()
        for sid in ids:
            if sid not in self.emotion or self.rng.random() < 0.3:  # read once a second: a change every ~3 s
                self.emotion[sid] = int(self.rng.integers(0, k))
        probs = self.rng.dirichlet(np.ones(k), len(ids)).astype(np.float32) * 0.3
        probs[np.arange(len(ids)), [self.emotion[sid] for sid in ids]] += 0.7
        return {EXPRESSION: probs}


def _rss_mb() -> float:
    """Resident memory now (Linux: /proc), falling back to the peak where /proc is absent."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class MemoryBench:
    faces: int
    fps: float
    seconds: float
    frames: int = 0
    wall_s: float = 0.0
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (lesson time s, resident MB)


def bench_memory(faces: int = 30, minutes: float = 60.0, fps: float = 10.0) -> MemoryBench:
    """Feed ``minutes`` of a ``faces``-student lesson at ``fps`` analysed frames a second."""
    signal = SyntheticExpression(list(FERPLUS_LABELS))
    pipeline = Pipeline([SyntheticSeats(faces), ReadStage([signal], RecognitionScheduler(max_per_frame=0)),
                         SmoothStage(list(signal.smoothed))])  # the CPU defaults' budget: a label a second
    session = AnalysisSession(pipeline, name="synthetic")
    image = np.zeros((8, 8, 3), np.uint8)
    total = int(minutes * 60 * fps)
    result = MemoryBench(faces, fps, minutes * 60)
    quarters = {int(total * q / 4) for q in range(1, 5)}
    gc.collect()
    result.rss_mb.append((0.0, _rss_mb()))
    start = time.perf_counter()
    try:
        for i in range(1, total + 1):
            t = i / fps
            session.process(VideoFrame(image, t, i))
            if i % max(1, int(fps / 2)) == 0:
                session.snapshot(300.0)  # what the window's charts ask for, twice a second
            if i in quarters:
                gc.collect()
                result.rss_mb.append((t, _rss_mb()))
    finally:
        session.close()
    result.frames, result.wall_s = total, time.perf_counter() - start
    return result


def format_memory(b: MemoryBench) -> str:
    def row(points: list[tuple[float, float]]) -> str:
        return ", ".join(f"{t / 60:.0f} min {mb:.1f}" for t, mb in points)

    return "\n".join([
        f"synthetic lesson: {b.faces} faces, {b.seconds / 60:.0f} min at {b.fps:g} analysed frames/s "
        f"({b.frames} frames, {b.frames * b.faces} face rows) through the app's AnalysisSession in {b.wall_s:.0f} s",
        f"resident memory (MB): {row(b.rss_mb)}",
        f"growth from the first quarter to the end: {b.rss_mb[-1][1] - b.rss_mb[1][1]:+.1f} MB",
    ])
