"""Where a training run's weights start (``fervision train --init``).

Three starts: a fervision checkpoint (fine-tuning: the shipped model on a researcher's own
labelled faces, or more epochs for a trained one), an FCMAE encoder from ``fervision
pretrain``, or ImageNet weights for efficientnet_lite0. Each returns a small record of
where it came from, stored in the fine-tuned checkpoint, because the file it names may be
gone by the time someone reads the metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from ..checkpoint import CheckpointMeta, load_checkpoint, read_metadata
from ..errors import CheckpointError, FervisionError
from ..models import create_model, model_config, model_options
from ..models.efficientnet import load_imagenet_init
from .pretrain import load_encoder, read_encoder_metadata

_ENCODER_PROVENANCE = ("epochs_done", "img_size", "patch_size", "mask_ratio", "dataset", "final_loss", "command",
                       "git_commit", "hardware", "wall_time_s")


def init_checkpoint_meta(init: str | None) -> CheckpointMeta | None:
    """The metadata of ``init`` when it names a fervision checkpoint, else ``None``.

    Read before the data, so that faces are loaded the way the checkpoint saw them
    (grey or colour, its training resolution)."""
    if not init or Path(init).suffix != ".safetensors" or not Path(init).is_file():
        return None
    try:
        return read_metadata(init)
    except CheckpointError:  # an encoder, or a file load_init will refuse with its own sentence
        return None


def reading_form(start: CheckpointMeta | None) -> dict[str, Any]:
    """How RAF-DB and folder faces are read for a run started from ``start``: the way that
    checkpoint saw its faces (colour, training resolution); the loaders' defaults otherwise.
    ``teacher-targets --init`` uses it too, so its targets fit that run's faces."""
    return {"size": start.preprocessing.source_size, "grey": start.preprocessing.color == "grey"} if start else {}


def load_init(model: nn.Module, model_name: str, init: str, labels: Sequence[str]) -> dict[str, Any]:
    """Fill ``model`` (built for ``labels``) from ``init``; returns where the start came from."""
    if Path(init).suffix == ".safetensors":
        if not Path(init).is_file():
            raise FervisionError(f"--init {init}: no such file.")
        if read_encoder_metadata(init) is not None:
            recipe = load_encoder(model, init)
            return {"kind": "fcmae", "file": init} | {k: recipe.get(k) for k in _ENCODER_PROVENANCE}
        return load_checkpoint_init(model, init, labels)
    if model_name != "efficientnet_lite0":
        raise FervisionError(f"--init {init} is neither a .safetensors checkpoint or encoder nor usable for "
                             f"{model_name} (ImageNet weights install offline for efficientnet_lite0 only).")
    load_imagenet_init(model, None if init == "imagenet" else init)
    return {"kind": "imagenet", "file": init}


def load_checkpoint_init(model: nn.Module, path: str | Path, labels: Sequence[str]) -> dict[str, Any]:
    """Copy a trained checkpoint into ``model``, the classifier row by row by label name.

    The model must be the checkpoint's own (same name and options, same colour): a Mish
    network's weights fit a Hardswish one by shape but would be wrong, so options are
    compared, not just shapes. Classes the checkpoint knows keep their trained classifier
    rows whatever their order in the new data; new classes start from the fresh head."""
    source, meta = load_checkpoint(path)
    name, options = model_config(model).name, model_options(model)
    if meta.model != name or meta.model_options != options:
        raise CheckpointError(f"{path} holds {meta.model} with {meta.model_options}, not {name} with {options}; "
                              "leave out --model and --model-option to fine-tune it as it was built.")
    theirs, ours = source.state_dict(), model.state_dict()
    head = _classifier_keys(meta, theirs)
    wrong = [k for k, v in ours.items() if k not in head and (k not in theirs or theirs[k].shape != v.shape)]
    if wrong:
        raise CheckpointError(f"{path} was trained on {meta.preprocessing.color} faces and does not fit this model "
                              f"({len(wrong)} weights differ, first: {wrong[0]}).")
    state = {k: theirs[k] for k in ours if k not in head}
    kept = [label for label in labels if label in meta.labels]
    for k in head:
        rows = ours[k].clone()
        if rows.shape[1:] == theirs[k].shape[1:] and rows.shape[0] == len(labels):
            for i, label in enumerate(labels):
                if label in meta.labels:
                    rows[i] = theirs[k][meta.labels.index(label)]
        else:
            kept = []
        state[k] = rows
    model.load_state_dict(state)
    return {"kind": "checkpoint", "file": str(path), "model": meta.model, "labels": list(meta.labels),
            "classifier_rows_kept": kept, "dataset": meta.dataset.get("name"),
            "valid_accuracy": meta.metrics.get("valid", {}).get("accuracy"),
            "command": meta.training.get("command"), "git_commit": meta.training.get("git_commit"),
            "init": meta.training.get("init")}


def _classifier_keys(meta: CheckpointMeta, weights: dict[str, Any]) -> set[str]:
    """The weights whose shape follows the number of classes: the same model built with one class more differs there."""
    other = create_model(meta.model, num_classes=len(meta.labels) + 1, in_chans=meta.preprocessing.in_chans,
                         **meta.model_options).state_dict()
    return {k for k, v in other.items() if k in weights and weights[k].shape != v.shape}
