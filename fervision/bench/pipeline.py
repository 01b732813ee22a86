"""End-to-end throughput on a video (``fervision bench video``): decode-only fps, then the full
pipeline's fps with the time split per stage (decode wait, detect, track, recognise, draw, encode)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path

import torch

from ..analysis.loop import FrameLoop, run
from ..engine.config import PipelineConfig, build_pipeline
from ..engine.reading import ReadStage
from ..engine.sources import VideoFileSource
from ..engine.stages import DetectStage
from ..outputs import VIDEO_MAX_SIDE
from ..outputs.overlay import draw_faces
from ..outputs.video import AnnotatedVideoSink


@dataclass
class VideoBench:
    video: str
    size: tuple[int, int]
    source_fps: float
    device: str
    settings: str = ""
    frames: int = 0
    faces: int = 0
    decode_only_fps: float = 0.0
    pipeline_fps: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage
    work: dict[str, int] = field(default_factory=dict)  # detector runs, recognition batches, faces read


def bench_video(video: str | Path, config: PipelineConfig | None = None, max_frames: int = 300) -> VideoBench:
    """Throughput of what ``annotate`` runs with the same settings: the same ``build_pipeline`` and
    the same frame loop, writing the annotated video (to a temporary folder)."""
    config = config or PipelineConfig()
    with VideoFileSource(video) as src:
        t0 = time.perf_counter()
        n = sum(1 for _ in islice(src, max_frames))
        decode_fps = n / (time.perf_counter() - t0)
    pipeline = build_pipeline(config)
    recognizer = pipeline.recognizer
    detect, read = pipeline.stage("detect"), pipeline.stage("recognise")
    assert isinstance(detect, DetectStage) and isinstance(read, ReadStage)
    max_faces = read.scheduler.max_per_frame
    with VideoFileSource(video) as src, tempfile.TemporaryDirectory() as tmp:
        result = VideoBench(str(video), (src.width, src.height), src.fps or 0.0, str(recognizer.device),
                            f"detector {config.detector} (tiles {config.tiles}), detect every {detect.every}, "
                            f"max faces/frame {'all' if max_faces is None else max_faces}")
        video_sink = AnnotatedVideoSink(Path(tmp) / "bench.mp4", src.fps or 25.0, (src.width, src.height),
                                        partial(draw_faces, signals=pipeline.signals), max_side=VIDEO_MAX_SIDE)
        loop = FrameLoop(pipeline, [video_sink])
        start = time.perf_counter()
        stats = run(src, loop, max_frames=max_frames)
        t = time.perf_counter()
        video_sink.close()
        finish = time.perf_counter() - t
        if recognizer.device.type == "cuda":
            torch.cuda.synchronize()  # count all queued GPU work in the total
        total = time.perf_counter() - start
    result.frames, result.faces = stats.frames, stats.faces
    result.decode_only_fps = decode_fps
    result.pipeline_fps = result.frames / total
    result.stages = {"decode (wait)": stats.decode_wait_s, **dict(pipeline.timings),
                     "draw + encode (wait)": loop.timings["AnnotatedVideoSink"], "encode (finish)": finish}
    result.work = dict(pipeline.counts)
    return result


def format_bench(b: VideoBench) -> str:
    total = sum(b.stages.values())
    lines = [
        f"{b.video}: {b.size[0]}x{b.size[1]} at {b.source_fps:.2f} fps, {b.frames} frames, "
        f"{b.faces / max(b.frames, 1):.1f} faces/frame, device {b.device}, {torch.get_num_threads()} CPU threads",
        f"settings: {b.settings}",
        f"decode only:   {b.decode_only_fps:7.1f} fps",
        f"full pipeline: {b.pipeline_fps:7.1f} fps = {b.pipeline_fps / max(b.decode_only_fps, 1e-9):.2f} x decode-only"
        + (f" = {b.pipeline_fps / b.source_fps:.2f} x real time" if b.source_fps else ""),
        "time per stage (ms/frame): " + ", ".join(f"{k} {1000 * v / max(b.frames, 1):.1f}" for k, v in b.stages.items())
        + f" (sum {1000 * total / max(b.frames, 1):.1f})",
        "work: " + ", ".join(f"{k} {v}" for k, v in b.work.items()),
    ]
    return "\n".join(lines)
