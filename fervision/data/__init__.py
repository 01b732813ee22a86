"""Datasets (FERPlus, RAF-DB, image folders) as in-memory uint8 tensors, plus batched augmentation.

The dataset table and :func:`list_datasets` load no torch (the CLI builds its choices from them
before any model is needed); the loaders and tensors are imported on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError

if TYPE_CHECKING:
    from .augmentation import AugmentConfig, augment, preprocess
    from .dataset import FaceTensors, iterate_batches
    from .ferplus import load_ferplus, majority_labels, vote_distribution
    from .folder import load_image_folder
    from .rafdb import load_rafdb

# dataset name -> (module, loader, which of soft_labels/size/grey it takes), in the order the CLI offers them.
# ``size`` and ``grey`` apply to RAF-DB and folders (FERPlus is always 48×48 grey), ``soft_labels`` to FERPlus.
_LOADERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "ferplus": ("ferplus", "load_ferplus", ("soft_labels",)),
    "rafdb": ("rafdb", "load_rafdb", ("size", "grey")),
    "folder": ("folder", "load_image_folder", ("size", "grey")),
}
DATASETS = tuple(_LOADERS)

_LAZY = {
    "AugmentConfig": "augmentation", "augment": "augmentation", "preprocess": "augmentation",
    "FaceTensors": "dataset", "iterate_batches": "dataset",
    "load_ferplus": "ferplus", "majority_labels": "ferplus", "vote_distribution": "ferplus",
    "load_image_folder": "folder", "load_rafdb": "rafdb",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def list_datasets() -> list[str]:
    """The dataset names :func:`load_dataset` accepts (``ferplus``, ``rafdb``, ``folder``), default first."""
    return list(_LOADERS)


def load_dataset(name: str, root: str | Path, split: str, soft_labels: bool = False, size: int = 100,
                 grey: bool = False) -> FaceTensors:
    """Dispatch to a loader by dataset name (one of :func:`list_datasets`).

    ``size`` and ``grey`` apply to RAF-DB and folders; FERPlus is always 48×48 grey."""
    try:
        module, function, takes = _LOADERS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; choose from {', '.join(_LOADERS)}.") from None
    options = {"soft_labels": soft_labels, "size": size, "grey": grey}
    loader = getattr(importlib.import_module(f".{module}", __name__), function)
    return loader(root, split, **{key: options[key] for key in takes})


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
