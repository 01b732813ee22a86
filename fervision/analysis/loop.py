"""The frame loop: each frame through the pipeline, then into every sink.

``annotate``, ``fervision bench video`` and the desktop app all analyse frames with
:class:`FrameLoop`; :func:`run` drives it over a whole source (the app's worker drives it
itself, frame by frame, because playback pacing and the user's commands decide which frames).
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..core.frame import FaceFrame
from ..engine.pipeline import Pipeline
from ..engine.sources import VideoFrame
from ..outputs.sink import Sink


def sink_name(sink: Sink) -> str:
    return str(getattr(sink, "name", type(sink).__name__))


class FrameLoop:
    """Analyses frames (:meth:`step`) or holds the last faces on frames it skips (:meth:`hold`).

    ``timings`` accumulates seconds per sink; with ``on_sink_error`` a failing sink is closed,
    dropped and reported instead of stopping the analysis (the app keeps playing when a disk
    fills up under a recording)."""

    def __init__(self, pipeline: Pipeline, sinks: Iterable[Sink] = (),
                 on_sink_error: Callable[[Sink, Exception], None] | None = None) -> None:
        self.pipeline = pipeline
        self.sinks = list(sinks)
        self.on_sink_error = on_sink_error
        self.last: FaceFrame | None = None
        self.timings: dict[str, float] = defaultdict(float)

    def step(self, frame: VideoFrame) -> FaceFrame:
        """Analyse ``frame`` and write it to every sink."""
        faces = self.pipeline.process(frame)
        self.last = faces
        self._write(faces, frame, every_frame_only=False)
        return faces

    def hold(self, frame: VideoFrame) -> FaceFrame | None:
        """A frame not analysed: the last faces, at this frame's time, go to ``every_frame`` sinks."""
        if self.last is None:
            return None
        faces = self.last.at(frame.time_s, frame.index)
        self._write(faces, frame, every_frame_only=True)
        return faces

    def _write(self, faces: FaceFrame, frame: VideoFrame, every_frame_only: bool) -> None:
        for sink in list(self.sinks):
            if every_frame_only and not sink.every_frame:
                continue
            start = time.perf_counter()
            try:
                sink.write(faces, frame.image)
            except Exception as exc:
                if self.on_sink_error is None:
                    raise
                self.sinks.remove(sink)
                with contextlib.suppress(Exception):  # the write's error is the one to report
                    sink.close()
                self.on_sink_error(sink, exc)
            self.timings[sink_name(sink)] += time.perf_counter() - start

    def remove(self, sink: Sink) -> None:
        """Stop writing to ``sink`` and close it."""
        if sink in self.sinks:
            self.sinks.remove(sink)
            sink.close()


@dataclass
class RunStats:
    frames: int = 0
    processed: int = 0
    faces: int = 0
    decode_wait_s: float = 0.0


def run(frames: Iterable[VideoFrame], loop: FrameLoop, stride: int = 1, max_frames: int | None = None,
        on_frame: Callable[[VideoFrame, FaceFrame | None], None] | None = None) -> RunStats:
    """Every frame of ``frames`` through ``loop``: frames ``index % stride == 0`` (and the first) are
    analysed, the others hold the last faces. Sinks are the caller's to close (use them as context
    managers), so an interrupted run still finishes every file."""
    if stride < 1:
        raise ValueError("stride must be >= 1")
    stats = RunStats()
    iterator = iter(frames)
    while max_frames is None or stats.frames < max_frames:
        start = time.perf_counter()
        frame = next(iterator, None)
        stats.decode_wait_s += time.perf_counter() - start
        if frame is None:
            break
        stats.frames += 1
        if frame.index % stride == 0 or loop.last is None:
            faces: FaceFrame | None = loop.step(frame)
            stats.processed += 1
        else:
            faces = loop.hold(frame)
        stats.faces += len(faces) if faces is not None else 0
        if on_frame is not None:
            on_frame(frame, faces)
    return stats
