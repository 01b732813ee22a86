"""The in-memory dataset every loader returns.

Training runs on 2 CPU cores by default, so images stay in memory as one uint8 tensor
and are augmented in batches on tensors (see ``augment.py``); nothing is decoded per epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import DataError


@dataclass
class FaceTensors:
    """Faces as ``uint8 [N, C, H, W]`` (C = 1 grey or 3 RGB) with labels in ``label_names`` order.

    ``soft`` optionally holds a label distribution ``float32 [N, K]`` (e.g. FERPlus votes).
    """

    images: torch.Tensor
    labels: torch.Tensor
    label_names: tuple[str, ...]
    name: str = ""
    soft: torch.Tensor | None = None
    info: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError("images must be a uint8 tensor [N, C, H, W]")
        if len(self.labels) != len(self.images):
            raise ValueError("images and labels differ in length")
        if self.soft is not None and self.soft.shape != (len(self.images), len(self.label_names)):
            raise ValueError("soft labels must be [N, num_classes]")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.images.shape[-1])

    def class_counts(self) -> list[int]:
        return torch.bincount(self.labels, minlength=self.num_classes).tolist()

    def subset(self, index: torch.Tensor | np.ndarray | slice) -> FaceTensors:
        index = torch.as_tensor(index) if not isinstance(index, slice) else index
        return FaceTensors(
            self.images[index],
            self.labels[index],
            self.label_names,
            self.name,
            None if self.soft is None else self.soft[index],
            dict(self.info),
        )

    def in_label_order(self, label_names: Sequence[str]) -> FaceTensors:
        """The same faces with labels indexed in ``label_names`` order, which must hold every class here.

        So a folder with some of a checkpoint's classes, in any order, can be scored against it."""
        missing = [n for n in self.label_names if n not in label_names]
        if missing:
            raise DataError(f"{self.name or 'the data'} has classes the model does not know: {', '.join(missing)} "
                            f"(it knows {', '.join(label_names)}).")
        index = torch.tensor([list(label_names).index(n) for n in self.label_names], dtype=self.labels.dtype)
        soft = None
        if self.soft is not None:
            soft = self.soft.new_zeros((len(self), len(label_names)))
            soft[:, index] = self.soft
        return FaceTensors(self.images, index[self.labels], tuple(label_names), self.name, soft, dict(self.info))

    def to(self, device: torch.device | str) -> FaceTensors:
        return FaceTensors(
            self.images.to(device),
            self.labels.to(device),
            self.label_names,
            self.name,
            None if self.soft is None else self.soft.to(device),
            self.info,
        )


def iterate_batches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool,
    generator: torch.Generator | None = None,
    rank: int = 0,
    world_size: int = 1,
    drop_last: bool = False,
) -> Iterator[torch.Tensor]:
    """Index batches over ``range(n)``; with ``world_size > 1`` each rank gets its own shard
    of one shared permutation (the generator must be seeded identically on every rank)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    order = order[rank::world_size]
    stop = len(order) - (len(order) % batch_size if drop_last else 0)
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
