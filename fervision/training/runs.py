"""What every training-like run (``train``, ``pretrain``) shares: its common settings and
the resumable state it keeps in its output folder (``config.json`` + ``last_state.pt``)."""

from __future__ import annotations

import dataclasses
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

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
            raise FervisionError(f"cannot resume {out}: it was trained with {key}={saved.get(key)!r}, not {mine[key]!r}.")
    return torch.load(out / STATE_FILE, map_location=device, weights_only=True)


def restore_generator(generator: torch.Generator, saved: torch.Tensor) -> None:
    """Put a saved (CPU) RNG state back into ``generator``, which may live on a GPU."""
    generator.set_state(saved.to(generator.device) if generator.device.type == "cuda" else saved)
