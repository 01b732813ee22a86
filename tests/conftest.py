"""Shared fixtures. Tests that need the development data in ``../shared`` skip with a reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FERVISION_SHARED", ROOT.parent / "shared"))

torch.set_num_threads(min(2, torch.get_num_threads()))


def shared_path(*parts: str) -> Path:
    """A path under ``../shared``, or skip the test when it is not there (a user's fresh clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: development data from ../shared is not available on this machine")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def make_faces(n: int, size: int = 48, classes: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic but learnable grey faces ``[n, size, size, 1]``: class c is a bright bar at height
    (c + 1) / (classes + 1), which survives flips, small rotations and crops."""
    g = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    yy = np.mgrid[:size, :size][0]
    images = np.empty((n, size, size, 1), dtype=np.uint8)
    for i, c in enumerate(labels):
        centre = size * (c + 1) / (classes + 1)
        bar = 200 * np.exp(-((yy - centre) ** 2) / (2 * (size / 16) ** 2))
        images[i, ..., 0] = np.clip(bar + g.normal(30, 12, (size, size)), 0, 255).astype(np.uint8)
    return images, labels
