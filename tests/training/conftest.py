"""Shared fixtures of the training tests: a tiny FERPlus-layout folder and a fast run config."""

import numpy as np
import pytest

from fervision.training import TrainConfig

from ..conftest import make_faces


@pytest.fixture
def tiny_ferplus(tmp_path):
    """A FERPlus-layout folder of easy synthetic faces (class = blob position), votes all on the label."""
    return write_tiny_ferplus(tmp_path)


def write_tiny_ferplus(tmp_path):
    root = tmp_path / "ferplus"
    root.mkdir()
    for split, n, seed in (("train", 640, 0), ("valid", 80, 1), ("test", 80, 2)):
        images, labels = make_faces(n, seed=seed)
        votes = np.zeros((n, 10), np.uint8)
        votes[np.arange(n), labels] = 10
        np.savez(root / f"{split}.npz", images=images[..., 0], votes_label_csv=votes)
    return root


def _cfg(root, out, **kw):
    base = dict(model="nca_mobilenet", data=str(root), output=str(out), img_size=32, epochs=6, batch_size=32,
                lr=1e-3, warmup_epochs=0.5, device="cpu", model_options={"attention": "none"}, command="pytest")
    return TrainConfig(**{**base, **kw})
