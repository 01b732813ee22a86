"""Datasets (FERPlus, RAF-DB, image folders) as in-memory uint8 tensors, plus batched augmentation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import DataError
from .augment import AugmentConfig, augment, preprocess
from .dataset import FaceTensors, iterate_batches
from .ferplus import load_ferplus, majority_labels, vote_distribution
from .folder import load_image_folder
from .rafdb import load_rafdb

# loader(root, split, soft_labels, size, grey) per dataset name, in the order the CLI offers them.
# ``size`` and ``grey`` apply to RAF-DB and folders (FERPlus is always 48×48 grey), ``soft_labels`` to FERPlus.
_LOADERS: dict[str, Callable[[str | Path, str, bool, int, bool], FaceTensors]] = {
    "ferplus": lambda root, split, soft_labels, size, grey: load_ferplus(root, split, soft_labels=soft_labels),
    "rafdb": lambda root, split, soft_labels, size, grey: load_rafdb(root, split, size=size, grey=grey),
    "folder": lambda root, split, soft_labels, size, grey: load_image_folder(root, split, size=size, grey=grey),
}
DATASETS = tuple(_LOADERS)


def list_datasets() -> list[str]:
    """The dataset names :func:`load_dataset` accepts (``ferplus``, ``rafdb``, ``folder``), default first."""
    return list(_LOADERS)


def load_dataset(name: str, root: str | Path, split: str, soft_labels: bool = False, size: int = 100,
                 grey: bool = False) -> FaceTensors:
    """Dispatch to a loader by dataset name (one of :func:`list_datasets`).

    ``size`` and ``grey`` apply to RAF-DB and folders; FERPlus is always 48×48 grey."""
    try:
        loader = _LOADERS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; choose from {', '.join(_LOADERS)}.") from None
    return loader(root, split, soft_labels, size, grey)


__all__ = [
    "DATASETS",
    "AugmentConfig",
    "FaceTensors",
    "augment",
    "iterate_batches",
    "list_datasets",
    "load_dataset",
    "load_ferplus",
    "load_image_folder",
    "load_rafdb",
    "majority_labels",
    "preprocess",
    "vote_distribution",
]
