"""Checkpoint files: safetensors weights with fervision's JSON metadata in the header.

A checkpoint carries everything needed to use it (model name and options, labels in
order, input size, colour, mean/std, crop convention) plus how it was made (dataset,
metrics, command, commit). Loading never unpickles anything. A human-readable copy of the
metadata is written beside it as ``<name>.json``.

The metadata is checked when a checkpoint is read (and before one is written): a checkpoint
is a file from anywhere, and its labels become folder names (``annotate --save-faces``), its
sizes become allocations and its model options go to the model's constructor, so anything
outside the plain values below (``MODEL_OPTIONS`` for each model's options) is refused with
one sentence naming the field.
"""

from __future__ import annotations

import dataclasses
import json
import math
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
from .models import create_model, list_models

FORMAT = "fervision-checkpoint"
FORMAT_VERSION = 1
METADATA_KEY = "fervision"
MAX_LABEL_LENGTH = 32
SIZE_RANGE = (8, 1024)  # input_size and source_size, in pixels
COLORS = ("grey", "rgb")
_DEVICE_NAMES = {"con", "prn", "aux", "nul", *(f"{port}{i}" for port in ("com", "lpt") for i in range(1, 10))}


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
        """Parse and check stored metadata; a ``ValueError`` naming the field for anything not plainly valid."""
        if not isinstance(d, dict):
            raise ValueError("metadata is not a JSON object")
        if d.get("format") != FORMAT:
            raise ValueError(f"format is {d.get('format')!r}, not {FORMAT!r}")
        if d.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format_version {d.get('format_version')!r} is not one this fervision reads "
                             f"({FORMAT_VERSION})")
        for key in ("model", "labels", "preprocessing"):
            if key not in d:
                raise ValueError(f"{key} is missing")
        pre = d["preprocessing"]
        if not isinstance(pre, dict):
            raise ValueError("preprocessing is not a JSON object")
        known = {f.name for f in dataclasses.fields(Preprocessing)}
        unknown = sorted(set(pre) - known)
        if unknown:
            raise ValueError(f"preprocessing.{unknown[0]} is not a preprocessing setting")
        missing = sorted(known - set(pre) - {"crop_margin"})
        if missing:
            raise ValueError(f"preprocessing.{missing[0]} is missing")
        for key in ("model_options", "dataset", "metrics", "training"):
            if not isinstance(d.get(key, {}), dict):
                raise ValueError(f"{key} is not a JSON object")
        meta = cls(
            model=d["model"],
            model_options=d.get("model_options", {}),
            labels=d["labels"],
            preprocessing=Preprocessing(**pre),
            dataset=d.get("dataset", {}),
            metrics=d.get("metrics", {}),
            training=d.get("training", {}),
        )
        meta.check()
        meta.labels = list(meta.labels)
        p = meta.preprocessing
        p.mean, p.std = tuple(p.mean), tuple(p.std)
        return meta

    def check(self) -> None:
        """Refuse metadata outside the plain values a checkpoint may carry (``ValueError`` naming the field)."""
        if not isinstance(self.model, str) or self.model not in list_models():
            raise ValueError(f"model {self.model!r} is not a model this fervision has "
                             f"({', '.join(list_models())})")
        if not isinstance(self.model_options, dict):
            raise ValueError("model_options is not a JSON object")
        problem = model_options_problem(self.model, self.model_options)
        if problem:
            raise ValueError(problem)
        if not isinstance(self.labels, (list, tuple)) or not self.labels:
            raise ValueError("labels is not a non-empty list of class names")
        for i, label in enumerate(self.labels):
            problem = label_problem(label)
            if problem:
                raise ValueError(f"labels[{i}] {label!r} {problem}")
        if len(set(self.labels)) != len(self.labels):
            twice = next(label for label in self.labels if list(self.labels).count(label) > 1)
            raise ValueError(f"labels list {twice!r} twice")
        p = self.preprocessing
        lo, hi = SIZE_RANGE
        for key in ("input_size", "source_size"):
            value = getattr(p, key)
            if not _is_int(value) or not lo <= value <= hi:
                raise ValueError(f"preprocessing.{key} {value!r} is not a whole number of pixels from {lo} to {hi}")
        if p.color not in COLORS:
            raise ValueError(f"preprocessing.color {p.color!r} is not one of {', '.join(COLORS)}")
        channels = 1 if p.color == "grey" else 3
        for key in ("mean", "std"):  # one per channel, or one shared by all (see data.augmentation.normalize)
            values = getattr(p, key)
            if (not isinstance(values, (list, tuple)) or len(values) not in (1, channels)
                    or not all(_is_number(v) for v in values)):
                expected = "1 number" if channels == 1 else f"1 number or {channels} (one per rgb channel)"
                raise ValueError(f"preprocessing.{key} {values!r} is not {expected}")
        if not all(v > 0 for v in p.std):
            raise ValueError(f"preprocessing.std {p.std!r} is not positive")
        if not _is_number(p.crop_margin) or not 0 <= p.crop_margin <= 1:
            raise ValueError(f"preprocessing.crop_margin {p.crop_margin!r} is not a number from 0 to 1")


@dataclass(frozen=True)
class OptionRule:
    """What one model option may be: one of ``choices``, or a number (a whole one with ``whole``)
    from ``low`` to ``high`` (``low`` itself excluded with ``above_low``, ``high`` with ``below_high``)."""

    choices: tuple[str, ...] = ()
    whole: bool = False
    low: float = 0
    high: float = 1
    above_low: bool = False
    below_high: bool = False

    def allows(self, value: object) -> bool:
        if self.choices:
            return isinstance(value, str) and value in self.choices
        if isinstance(value, bool) or not isinstance(value, int if self.whole else (int, float)):
            return False
        return (math.isfinite(value) and (value > self.low if self.above_low else value >= self.low)
                and (value < self.high if self.below_high else value <= self.high))

    def describe(self) -> str:
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        kind = "a whole number" if self.whole else "a number"
        high = f"below {self.high:g}" if self.below_high else f"{self.high:g}"
        if self.above_low:
            return f"{kind} above {self.low:g}, {high if self.below_high else 'at most ' + high}"
        return f"{kind} from {self.low:g} to {high}"


_DROP = OptionRule(below_high=True)  # a dropout or drop-path probability
_REDUCTION = OptionRule(whole=True, low=1, high=1024)  # an attention block's channel reduction
# The options each registered model family takes (its builder's keyword arguments) and their
# values. A checkpoint's options go to the model's constructor, so nothing else is let through
# (tests/test_checkpoint.py checks this table against the builders).
MODEL_OPTIONS: dict[str, dict[str, OptionRule]] = {
    "convnextv2_pico": {"drop_path_rate": _DROP},
    "convnextv2_pico_csa": {"drop_path_rate": _DROP, "csa_placement": OptionRule(choices=("last", "stages")),
                            "csa_reduction": _REDUCTION, "simam_lambda": OptionRule(above_low=True)},
    "efficientnet_lite0": {"drop_rate": _DROP},
    "mobilenetv3_small_100": {"drop_rate": _DROP},
    "mobilenetv3_large_100": {"drop_rate": _DROP},
    "nca_mobilenet": {"act": OptionRule(choices=("mish", "hardswish")),
                      "attention": OptionRule(choices=("nca", "ca", "none")),
                      "nca_pool": OptionRule(choices=("avg", "localmax", "maxavg")),
                      "ca_reduction": _REDUCTION, "drop_rate": _DROP},
}


def model_options_problem(model: str, options: dict[str, Any]) -> str | None:
    """Why ``options`` cannot build ``model`` (a sentence after "its "), or ``None`` when they can."""
    rules = MODEL_OPTIONS.get(model, {})
    for key, value in options.items():
        rule = rules.get(key)
        if rule is None:
            takes = f"it takes {', '.join(rules)}" if rules else "it takes none"
            return f"model_options.{key} is not an option of model {model} ({takes})"
        if not rule.allows(value):
            return f"model_options.{key} {value!r} is not {rule.describe()}"
    return None


def label_problem(label: object) -> str | None:
    """Why ``label`` cannot be a class name, or ``None`` when it can.

    Class names become folder names (``annotate --save-faces`` writes ``<folder>/<label>/``),
    so they are plain names: at most 32 letters, digits, ``_``, ``-`` and inner spaces, and
    so never a path, ``..``, a hidden name or a name Windows keeps for a device (``con``, ``nul``, …)."""
    if not isinstance(label, str) or not label:
        return "is not a non-empty name"
    if len(label) > MAX_LABEL_LENGTH:
        return f"is longer than {MAX_LABEL_LENGTH} characters"
    if label != label.strip() or not all(ch.isalnum() or ch in "_- " for ch in label):
        return "is not a plain name (letters, digits, _, - and spaces inside)"
    if label.lower() in _DEVICE_NAMES:
        return "is a name Windows keeps for a device"
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def save_checkpoint(model: nn.Module, meta: CheckpointMeta, path: str | Path, half: bool = False) -> Path:
    """Save weights (optionally as fp16) and metadata atomically; also writes ``path.json``.

    Metadata that :func:`load_checkpoint` would refuse is refused here, before anything is written."""
    path = Path(path)
    try:
        meta.check()
    except ValueError as exc:
        raise CheckpointError(f"cannot save {path}: its {exc}.") from None
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
    return _open(Path(path), weights=False)[0]


def _open(path: Path, weights: bool = True) -> tuple[CheckpointMeta, dict[str, torch.Tensor]]:
    """The checked metadata and (with ``weights``) the tensors: none is read when the metadata is refused."""
    if not path.is_file():
        raise CheckpointError(f"No checkpoint file at {path}.")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(METADATA_KEY)
            if raw is None:
                raise CheckpointError(f"{path} is a safetensors file but not a fervision checkpoint "
                                      "(no fervision metadata).")
            meta = _parse_metadata(path, raw)
            tensors = {k: f.get_tensor(k) for k in f.keys()} if weights else {}  # noqa: SIM118  (no __iter__)
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors checkpoint "
                              f"(corrupt or wrong format: {exc}).") from None
    return meta, tensors


def _parse_metadata(path: Path, raw: str) -> CheckpointMeta:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} has damaged fervision metadata ({exc}).") from None
    try:
        return CheckpointMeta.from_json(data)
    except ValueError as exc:
        raise CheckpointError(f"{path} is refused: its {exc}.") from None


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
