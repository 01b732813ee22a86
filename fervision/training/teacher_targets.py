"""Offline distillation: a teacher's predictions on the training faces, computed once.

Online distillation (``--teacher``) runs the teacher on every augmented batch, which on
2 CPU cores costs more than the student's own step when the teacher is a 112 px network.
Here the teachers (one checkpoint or an averaged ensemble) predict each training face once,
with flip averaging, and training mixes those probabilities into its targets
(``--teacher-targets``). The file carries a fingerprint of the faces it was made for, so it
cannot silently be applied to another split or another copy of the data.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import label_columns, load_checkpoint
from ..core.io import atomic_write_bytes
from ..data import FaceTensors
from ..errors import DataError, FervisionError
from ..inference import predict_tensor


def faces_fingerprint(data: FaceTensors) -> str:
    """SHA-256 of the uint8 faces and their labels, in order."""
    h = hashlib.sha256()
    h.update(data.images.cpu().contiguous().numpy().tobytes())
    h.update(data.labels.cpu().numpy().astype(np.int64).tobytes())
    return h.hexdigest()


def predict_teachers(checkpoints: Sequence[str | Path], data: FaceTensors, device: torch.device,
                     tta_flip: bool = True) -> np.ndarray:
    """Mean softmax ``float32 [N, K]`` of the ``checkpoints`` on ``data``, in the data's class order.

    A teacher may know more classes than the data (its probabilities over the data's classes
    are renormalised), but not fewer."""
    if not checkpoints:
        raise FervisionError("give at least one teacher checkpoint.")
    total = np.zeros((len(data), data.num_classes), dtype=np.float64)
    for ckpt in checkpoints:
        model, meta = load_checkpoint(ckpt, map_location=device)
        columns = label_columns(meta, data.label_names, ckpt)
        model.eval()
        probs = predict_tensor(model, data.images, meta.preprocessing, device, tta_flip=tta_flip)[:, columns]
        total += probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-12)
    return (total / len(checkpoints)).astype(np.float32)


def save_teacher_targets(path: str | Path, probs: np.ndarray, data: FaceTensors, teachers: Sequence[str]) -> None:
    """Write ``probs`` with the faces' fingerprint and the teachers' names (``.npz``, replaced atomically)."""
    buffer = io.BytesIO()
    np.savez(buffer, probs=probs.astype(np.float32), fingerprint=np.array(faces_fingerprint(data)),
             labels=np.array(list(data.label_names)), teachers=np.array([str(t) for t in teachers]))
    atomic_write_bytes(Path(path), buffer.getvalue())


def load_teacher_targets(path: str | Path, data: FaceTensors) -> np.ndarray:
    """The probabilities in ``path``, after checking they were computed for exactly ``data``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"teacher targets {path} do not exist (make them with `fervision teacher-targets`).")
    try:
        with np.load(path, allow_pickle=False) as f:
            probs, fingerprint, labels = f["probs"], str(f["fingerprint"]), [str(x) for x in f["labels"]]
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path} is not a teacher-targets file ({exc}).") from exc
    if labels != list(data.label_names):
        raise DataError(f"teacher targets {path} are over {labels}, not {list(data.label_names)}.")
    if probs.shape != (len(data), data.num_classes) or fingerprint != faces_fingerprint(data):
        hint = ("; for a run with --init, make them with `fervision teacher-targets … --init` and the same checkpoint"
                if len(probs) == len(data) else "")
        raise DataError(f"teacher targets {path} were computed for other faces than {data.name} "
                        f"({len(data)} faces here, {len(probs)} there{hint}).")
    return probs


def mix_targets(data: FaceTensors, teacher_probs: np.ndarray, weight: float, temperature: float) -> torch.Tensor:
    """``(1 − weight) · labels + weight · teacher``: labels as one-hot or vote distribution, the
    teacher softened to ``temperature`` (p^(1/T), renormalised, which equals softmax(logits / T))."""
    if not 0.0 <= weight <= 1.0:
        raise FervisionError(f"the distillation weight must lie in [0, 1], not {weight}.")
    base = data.soft if data.soft is not None else torch.nn.functional.one_hot(data.labels, data.num_classes).float()
    log_p = torch.from_numpy(teacher_probs).double().clamp_min(1e-12).log() / temperature
    teacher = torch.softmax(log_p, dim=1).float()
    return (1.0 - weight) * base.float() + weight * teacher
