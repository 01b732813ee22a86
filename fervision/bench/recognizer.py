"""Recogniser throughput: faces per second at a fixed batch size on CPU (torch and ONNX Runtime, one
after the other) and, when present, GPU."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ..onnx_model import onnx_export_available
from ..recognizer import ExpressionRecognizer


def faces_per_second(rec: ExpressionRecognizer, batch: int = 32, seconds: float = 5.0, crop: int = 96) -> float:
    """End-to-end ``predict`` rate (crop resizing included) on random face-sized crops."""
    rng = np.random.default_rng(0)
    faces = [rng.integers(0, 256, (crop, crop, 3), dtype=np.uint8) for _ in range(batch)]
    for _ in range(3):
        rec.predict(faces)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        rec.predict(faces)
        n += batch
    return n / (time.perf_counter() - start)


def bench_checkpoint(checkpoint: str | Path, batch: int = 32, seconds: float = 5.0) -> list[str]:
    """One line per device and runtime: faces/s at ``batch``, with the thread count (CPU) or GPU name."""
    lines = []
    runs = [("cpu", "torch")] + ([("cpu", "onnxruntime")] if onnx_export_available() else [])
    runs += [("cuda", "torch")] if torch.cuda.is_available() else []
    for device, runtime in runs:
        rec = ExpressionRecognizer.from_checkpoint(checkpoint, device=device, batch_size=batch, runtime=runtime)
        fps = faces_per_second(rec, batch, seconds)
        where = (f"CPU, {torch.get_num_threads()} threads, {runtime}" if device == "cpu"
                 else torch.cuda.get_device_name())
        tta = " (flip TTA: 2 passes)" if rec.tta_flip else ""
        lines.append(f"{Path(str(checkpoint)).stem}: {fps:,.0f} faces/s at batch {batch} on {where}{tta}")
    return lines
