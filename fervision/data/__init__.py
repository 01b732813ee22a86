"""Datasets (FERPlus, RAF-DB, image folders) as in-memory uint8 tensors, plus batched augmentation."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from .augment import AugmentConfig, augment, preprocess
from .dataset import FaceTensors, iterate_batches
from .ferplus import load_ferplus, majority_labels, vote_distribution
from .folder import load_image_folder
from .rafdb import load_rafdb

DATASETS = ("ferplus", "rafdb", "folder")


def load_dataset(name: str, root: str | Path, split: str, soft_labels: bool = False, size: int = 100,
                 grey: bool = False) -> FaceTensors:
    """Dispatch to a loader by dataset name (``ferplus``, ``rafdb`` or ``folder``).

    ``size`` and ``grey`` apply to RAF-DB and folders; FERPlus is always 48×48 grey."""
    if name == "ferplus":
        return load_ferplus(root, split, soft_labels=soft_labels)
    if name == "rafdb":
        return load_rafdb(root, split, size=size, grey=grey)
    if name == "folder":
        return load_image_folder(root, split, size=size, grey=grey)
    raise DataError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}.")


__all__ = [
    "AugmentConfig",
    "DATASETS",
    "FaceTensors",
    "augment",
    "iterate_batches",
    "load_dataset",
    "load_ferplus",
    "load_image_folder",
    "load_rafdb",
    "majority_labels",
    "preprocess",
    "vote_distribution",
]
