"""What every training-like run (``train``, ``pretrain``) shares: its common settings, the
resumable state it keeps in its output folder (``config.json`` + ``last_state.pt``), the
provenance it records (commit, hardware), and its AdamW parameter groups and learning-rate
schedule."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core.io import atomic_write_bytes
from ..errors import FervisionError

STATE_FILE = "last_state.pt"


@dataclass
class RunConfig:
    """Settings of every run, the same options as the CLI's shared ones; saved as ``config.json``."""

    model: str
    data: str
    dataset: str = "ferplus"
    output: str = "runs/default"
    model_options: dict[str, Any] = field(default_factory=dict)
    img_size: int = 112
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    max_train_samples: int | None = None
    seed: int = 0
    device: str = "auto"
    command: str = ""


def write_config(cfg: RunConfig) -> None:
    """``config.json`` and ``command.txt`` in the run's output folder."""
    out = Path(cfg.output)
    atomic_write_bytes(out / "config.json", (json.dumps(dataclasses.asdict(cfg), indent=2) + "\n").encode())
    atomic_write_bytes(out / "command.txt", (cfg.command + "\n").encode())


def write_state(out: Path, state: dict[str, Any]) -> None:
    """Save ``state`` through an atomic write, so an interrupted save never leaves half a state file."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(out / STATE_FILE, buffer.getvalue())


def read_state(cfg: RunConfig, must_match: Sequence[str], device: torch.device) -> dict[str, Any] | None:
    """The saved state of the run in ``cfg.output`` (``None`` when it has none), refused when a
    setting in ``must_match`` differs from the one the run was started with."""
    out = Path(cfg.output)
    if not (out / STATE_FILE).is_file():
        return None
    saved = json.loads((out / "config.json").read_text())
    mine = dataclasses.asdict(cfg)
    for key in must_match:
        if saved.get(key) != mine[key]:
            raise FervisionError(f"cannot resume {out}: it was trained with {key}={saved.get(key)!r}, "
                                 f"not {mine[key]!r}.")
    return torch.load(out / STATE_FILE, map_location=device, weights_only=True)


def restore_generator(generator: torch.Generator, saved: torch.Tensor) -> None:
    """Put a saved (CPU) RNG state back into ``generator``, which may live on a GPU."""
    generator.set_state(saved.to(generator.device) if generator.device.type == "cuda" else saved)


def git_commit() -> str:
    """The commit the code runs from (``FERVISION_GIT_COMMIT`` overrides, for copies without ``.git``)."""
    if os.environ.get("FERVISION_GIT_COMMIT"):
        return os.environ["FERVISION_GIT_COMMIT"]
    try:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def hardware_description(device: torch.device) -> str:
    """The device a run used, for its record: GPU name, or CPU and thread count; with torch's version."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (torch {torch.__version__})"
    cpu = platform.processor() or platform.machine()
    return f"CPU {cpu}, {torch.get_num_threads()} threads (torch {torch.__version__})"


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """No weight decay on norms, biases and scalar gates (the usual AdamW practice)."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def fit_batch_size(n: int, batch_size: int, world_size: int = 1) -> tuple[int, str | None]:
    """The batch size a run over ``n`` training faces uses on each of ``world_size`` processes, and a
    note when it differs from the one asked for.

    Batches are full (the last, partial one is dropped), so with fewer faces per process than
    ``batch_size`` no batch would run: the batch is made as large as the faces allow instead.
    Fewer than two faces per process cannot train (BatchNorm needs two), which is refused."""
    if batch_size < 1:
        raise FervisionError(f"--batch-size must be at least 1, not {batch_size}.")
    if n == 0:
        raise FervisionError("the training set is empty: there are no faces to train on.")
    per_rank = n // world_size
    if per_rank < 2:
        on = f" on each of {world_size} processes" if world_size > 1 else ""
        raise FervisionError(f"the training set has {n} face{'s' if n != 1 else ''}, too few to train{on}: "
                             "at least 2 are needed.")
    if per_rank >= batch_size:
        return batch_size, None
    faces = f"{per_rank} faces per process" if world_size > 1 else f"{n} faces"
    return per_rank, (f"note: the training set has only {faces}, fewer than --batch-size {batch_size}; "
                      f"using batches of {per_rank}.")


def warmup_cosine(step: int, warmup_steps: int, progress: float) -> float:
    """Learning-rate factor: linear warm-up over ``warmup_steps``, then cosine decay to zero
    as ``progress`` goes 0 → 1."""
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, progress))))
    return min((step + 1) / warmup_steps, cosine)
