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


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A small checkpoint trained on the synthetic FERPlus folder (nca_mobilenet, no attention, 32 px)."""
    from fervision.training import train

    root = write_tiny_ferplus(tmp_path_factory.mktemp("data"))
    return train(_cfg(root, tmp_path_factory.mktemp("run")))


def write_class_folders(root, names, n=96, size=80):
    """Synthetic faces as colour JPEGs in one folder per class; ``names`` maps a synthetic class (0-3) to a folder."""
    import cv2

    images, labels = make_faces(n, size=size)
    for i, (img, c) in enumerate(zip(images, labels, strict=True)):
        if c in names:
            (root / names[c]).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / names[c] / f"{i}.jpg"), np.repeat(img, 3, axis=2))
    return root
