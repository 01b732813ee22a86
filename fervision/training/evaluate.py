"""Evaluation of a model or checkpoint on a dataset split: metrics, JSON report, confusion-matrix PNG."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..checkpoint import Preprocessing, load_checkpoint, require_labels
from ..core.io import atomic_write_bytes
from ..data import FaceTensors, load_dataset
from ..inference import predict_tensor, resolve_device
from ..metrics import classification_report
from ..models import count_macs, count_params
from ..onnx_model import Runtime, cpu_runtime


def evaluate_model(
    model: nn.Module,
    data: FaceTensors,
    pre: Preprocessing,
    device: torch.device,
    tta_flip: bool = False,
    batch_size: int = 256,
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, Any]:
    """Classification report of ``model`` on ``data`` (labels must be in the model's order).

    The model is evaluated in eval mode (BatchNorm running statistics, no dropout) and
    returned to the mode it was in. ``forward`` runs instead of ``model`` where given (its ONNX
    Runtime copy, :mod:`fervision.onnx_model`).
    """
    was_training = model.training
    model.eval()
    try:
        probs = predict_tensor(forward or model, data.images, pre, device, batch_size=batch_size, tta_flip=tta_flip)
    finally:
        model.train(was_training)
    return classification_report(data.labels.numpy(), probs.argmax(axis=1), data.label_names)


def evaluate_checkpoint(
    checkpoint: str | Path,
    dataset: str,
    data_root: str | Path,
    split: str = "test",
    device: str = "auto",
    tta_flip: bool | None = None,
    output: str | Path | None = None,
    runtime: Runtime = "auto",
) -> dict[str, Any]:
    """Evaluate a checkpoint on ``runtime`` as the recogniser runs it (ONNX Runtime on a CPU by
    default, :mod:`fervision.onnx_model`); writes ``<output>.json`` and ``<output>_confusion.png``
    when ``output`` is given.

    The report also carries the model's parameters and MACs at its input size, so a results
    table (model cards, docs/ablations.md) can be built from reports alone.

    ``tta_flip=None`` uses the setting recorded in the checkpoint's metrics, so the model
    card's numbers are reproduced by default.
    """
    dev = resolve_device(device)
    model, meta = load_checkpoint(checkpoint, map_location=dev)
    data = load_dataset(dataset, data_root, split)
    if dataset == "folder":  # class folders come sorted by name, and may hold only some of the classes
        data = data.in_label_order(meta.labels)
    require_labels(meta, data.label_names, checkpoint)
    if tta_flip is None:
        tta_flip = bool(meta.metrics.get("tta_flip", False))
    pre = meta.preprocessing
    onnx = cpu_runtime(model, pre.in_chans, pre.input_size, runtime, dev)
    report = evaluate_model(model, data, pre, dev, tta_flip=tta_flip, forward=onnx)
    report.update({"checkpoint": str(checkpoint), "dataset": dataset, "split": split, "tta_flip": tta_flip,
                   "runtime": "torch" if onnx is None else "onnxruntime",
                   "params": count_params(model), "input_size": meta.preprocessing.input_size,
                   "macs": count_macs(model, meta.preprocessing.input_size, meta.preprocessing.in_chans)})
    if output is not None:
        out = Path(output)
        atomic_write_bytes(out.with_suffix(".json"), (json.dumps(report, indent=2) + "\n").encode())
        from .plots import save_confusion_matrix  # matplotlib only when a figure is asked for

        save_confusion_matrix(np.asarray(report["confusion_matrix"]), report["labels"],
                              out.parent / f"{out.name}_confusion.png",
                              title=f"{Path(checkpoint).stem} on {dataset}/{split}")
    return report
