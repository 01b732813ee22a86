"""Checkpoint files: safetensors weights with fervision's JSON metadata in the header.

A checkpoint carries everything needed to use it (model name and options, labels in
order, input size, colour, mean/std, crop convention) plus how it was made (dataset,
metrics, command, commit). Loading never unpickles anything. A human-readable copy of the
metadata is written beside it as ``<name>.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import nn

from .core.io import atomic_write_bytes
from .errors import CheckpointError
from .models import create_model

FORMAT = "fervision-checkpoint"
FORMAT_VERSION = 1
METADATA_KEY = "fervision"


@dataclass
class Preprocessing:
    """How a face crop becomes a model input.

    The crop (detector box grown by ``crop_margin`` on each side) is converted to
    ``color``, resized with area interpolation to ``source_size``² (the resolution the
    training faces had, so the model sees the detail it learned from), then bilinearly
    to ``input_size``² and normalised with ``mean``/``std``.
    """

    input_size: int
    source_size: int
    color: str  # "grey" or "rgb"
    mean: tuple[float, ...]
    std: tuple[float, ...]
    crop_margin: float = 0.0

    @property
    def in_chans(self) -> int:
        return 1 if self.color == "grey" else 3


@dataclass
class CheckpointMeta:
    """Everything stored with the weights."""

    model: str
    model_options: dict[str, Any]
    labels: list[str]
    preprocessing: Preprocessing
    dataset: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **d}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CheckpointMeta:
        pre = d["preprocessing"]
        pre = Preprocessing(**{**pre, "mean": tuple(pre["mean"]), "std": tuple(pre["std"])})
        return cls(
            model=d["model"],
            model_options=d.get("model_options", {}),
            labels=list(d["labels"]),
            preprocessing=pre,
            dataset=d.get("dataset", {}),
            metrics=d.get("metrics", {}),
            training=d.get("training", {}),
        )


def save_checkpoint(model: nn.Module, meta: CheckpointMeta, path: str | Path, half: bool = False) -> Path:
    """Save weights (optionally as fp16) and metadata atomically; also writes ``path.json``."""
    path = Path(path)
    state = {
        k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in model.state_dict().items()
    }
    meta_json = meta.to_json()
    atomic_write_bytes(path, save(state, metadata={METADATA_KEY: json.dumps(meta_json)}))
    atomic_write_bytes(path.with_suffix(".json"), (json.dumps(meta_json, indent=2) + "\n").encode())
    return path


def read_metadata(path: str | Path) -> CheckpointMeta:
    """Read only the metadata of a checkpoint (cheap: the header, not the weights)."""
    return _open(Path(path))[0]


def _open(path: Path) -> tuple[CheckpointMeta, dict[str, torch.Tensor]]:
    if not path.is_file():
        raise CheckpointError(f"No checkpoint file at {path}.")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(METADATA_KEY)
            if raw is None:
                raise CheckpointError(f"{path} is a safetensors file but not a fervision checkpoint "
                                      "(no fervision metadata).")
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118  (safe_open has keys() but no __iter__)
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors checkpoint "
                              f"(corrupt or wrong format: {exc}).") from None
    try:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise KeyError("format")
        return CheckpointMeta.from_json(data), tensors
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path} has damaged fervision metadata ({exc}).") from None


def require_labels(meta: CheckpointMeta, labels: Sequence[str], path: str | Path, role: str = "checkpoint") -> None:
    """Refuse a checkpoint whose classes, or their order, differ from the data's (its outputs would be misread)."""
    if list(meta.labels) != list(labels):
        raise CheckpointError(f"{role} {path} predicts {meta.labels}, not the data's {list(labels)}.")


def label_columns(meta: CheckpointMeta, labels: Sequence[str], path: str | Path, role: str = "teacher") -> list[int]:
    """Index of each of ``labels`` among the checkpoint's outputs, so that a teacher over more
    classes, or in another order (class folders come sorted by name), can teach them."""
    missing = [name for name in labels if name not in meta.labels]
    if missing:
        raise CheckpointError(f"{role} {path} does not predict {', '.join(missing)} "
                              f"(it predicts {', '.join(meta.labels)}).")
    return [list(meta.labels).index(name) for name in labels]


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[nn.Module, CheckpointMeta]:
    """Rebuild the model described by a checkpoint and load its weights (float32, eval mode)."""
    path = Path(path)
    meta, tensors = _open(path)
    try:
        model = create_model(
            meta.model, num_classes=len(meta.labels), in_chans=meta.preprocessing.in_chans, **meta.model_options
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} describes a model this fervision cannot build ({exc}).") from None
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()})
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"{path} does not fit model {meta.model}: {first}") from None
    return model.to(map_location).eval(), meta
