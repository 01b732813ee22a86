"""End-to-end throughput on a video (``fervision bench video``): decode-only fps, then the full
pipeline's fps with the time split per stage (decode wait, detect, track, recognise, draw, encode)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import torch

from ..engine.config import PipelineConfig, build_pipeline
from ..engine.detectors import DEFAULT_DETECTOR
from ..engine.sources import VideoFileSource
from ..outputs.overlay import draw_faces
from ..outputs.video import H264Writer


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


def bench_video(video: str | Path, model: str = "default", detector: str = DEFAULT_DETECTOR, device: str = "auto",
                max_frames: int = 300, tiles: int = 1, detect_every: int | None = None,
                max_faces_per_frame: int | None = None) -> VideoBench:
    """Throughput of what ``annotate`` runs with the same settings (the same ``build_pipeline``)."""
    with VideoFileSource(video) as src:
        t0 = time.perf_counter()
        n = sum(1 for _ in islice(src, max_frames))
        decode_fps = n / (time.perf_counter() - t0)
    config = PipelineConfig(model=model, device=device, detector=detector, tiles=tiles, detect_every=detect_every,
                            max_faces_per_frame=max_faces_per_frame)
    pipeline = build_pipeline(config)
    recognizer = pipeline.recognizer
    detect_every, max_faces = pipeline.detect_every, pipeline.scheduler.max_per_frame
    stages = {"decode": 0.0, "draw": 0.0, "encode": 0.0}
    with VideoFileSource(video) as src, tempfile.TemporaryDirectory() as tmp:
        result = VideoBench(str(video), (src.width, src.height), src.fps or 0.0, str(recognizer.device),
                            f"detector {detector} (tiles {tiles}), detect every {detect_every}, "
                            f"max faces/frame {'all' if max_faces is None else max_faces}")
        writer = H264Writer(Path(tmp) / "bench.mp4", src.fps or 25.0, (src.width, src.height))
        start = time.perf_counter()
        frames = iter(src)
        while result.frames < max_frames:
            t = time.perf_counter()
            frame = next(frames, None)
            stages["decode"] += time.perf_counter() - t
            if frame is None:
                break
            faces = pipeline.process(frame)
            t = time.perf_counter()
            image = draw_faces(frame.image, faces)
            t2 = time.perf_counter()
            writer.write(image, frame.time_s)
            t3 = time.perf_counter()
            stages["draw"] += t2 - t
            stages["encode"] += t3 - t2
            result.frames += 1
            result.faces += len(faces)
        t = time.perf_counter()
        writer.close()
        stages["encode"] += time.perf_counter() - t
        if recognizer.device.type == "cuda":
            torch.cuda.synchronize()  # count all queued GPU work in the total
        total = time.perf_counter() - start
    result.decode_only_fps = decode_fps
    result.pipeline_fps = result.frames / total
    result.stages = {"decode (wait)": stages["decode"], **dict(pipeline.timings), "draw": stages["draw"],
                     "encode (wait + finish)": stages["encode"]}
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
