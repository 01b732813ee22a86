"""FERPlus: FER2013 faces with Microsoft's 10-annotator labels.

Three layouts are understood, found automatically under the given folder:

* ``{split}.npz`` as in ``../shared/data/ferplus`` (arrays ``images``, ``votes_label_csv``);
* Microsoft's generated folders ``FER2013Train|Valid|Test/label.csv`` + PNG files;
* the original ``fer2013.csv`` (pixels) next to ``fer2013new.csv`` (votes).

Labels follow Microsoft's majority protocol (their ``ferplus.py``, mode ``majority``): votes
of one are dropped as outliers, the top emotion must hold more than half of the remaining
votes, and faces whose winner is *unknown* or *not a face* are dropped. On the official
label files this gives 25,045 / 3,191 / 3,137 train / valid / test faces.
"""

from __future__ import annotations

import csv
from itertools import zip_longest
from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import DataError
from ..labels import FERPLUS_LABELS
from .dataset import FaceTensors

SPLITS = ("train", "valid", "test")
_MS_FOLDERS = {"train": "FER2013Train", "valid": "FER2013Valid", "test": "FER2013Test"}
_FER2013_USAGE = {"train": "Training", "valid": "PublicTest", "test": "PrivateTest"}


def majority_labels(votes: np.ndarray) -> np.ndarray:
    """Microsoft's majority label per row of ``votes [N, 10]``; −1 where the face is dropped."""
    v = np.asarray(votes, dtype=np.float64).copy()
    v[v <= 1.0] = 0.0  # single votes are treated as outliers
    total = v.sum(axis=1)
    top = v.argmax(axis=1)
    top_votes = v[np.arange(len(v)), top]
    keep = (top_votes > 0.5 * total) & (top < len(FERPLUS_LABELS))
    return np.where(keep, top, -1).astype(np.int64)


def vote_distribution(votes: np.ndarray) -> np.ndarray:
    """Normalised votes over the eight emotions, for label-distribution training."""
    v = np.asarray(votes, dtype=np.float32)[:, : len(FERPLUS_LABELS)]
    total = v.sum(axis=1, keepdims=True)
    return np.divide(v, total, out=np.zeros_like(v), where=total > 0)


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise DataError(f"FERPlus has splits {', '.join(SPLITS)}, not {split!r}.")


def _from_npz(file: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(file) as d:
        if "images" not in d or ("votes_label_csv" not in d and "votes" not in d):
            raise DataError(f"{file} has no 'images' and 'votes_label_csv' arrays.")
        votes = d["votes_label_csv"] if "votes_label_csv" in d else d["votes"]
        return d["images"], votes


def _from_ms_folder(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    images, votes = [], []
    with open(folder / "label.csv", newline="") as f:
        for row in csv.reader(f):
            if len(row) < 12:
                continue
            img = cv2.imread(str(folder / row[0]), cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise DataError(f"{folder / row[0]} is listed in label.csv but cannot be read.")
            images.append(cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA) if img.shape != (48, 48) else img)
            votes.append([int(x) for x in row[2:12]])
    return np.stack(images), np.asarray(votes, dtype=np.uint8)


def _from_fer2013_csv(root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    images, votes = [], []
    with open(root / "fer2013.csv", newline="") as f_img, open(root / "fer2013new.csv", newline="") as f_lab:
        pix_rows, lab_rows = csv.DictReader(f_img), csv.DictReader(f_lab)
        for pix, lab in zip_longest(pix_rows, lab_rows):  # row i of one file is row i of the other
            if pix is None or lab is None:
                raise DataError(f"fer2013.csv and fer2013new.csv in {root} have different numbers of rows; "
                                "they must list the same faces in the same order.")
            if lab["Usage"] != _FER2013_USAGE[split] or not lab["Image name"].strip():
                continue
            px = np.array(pix["pixels"].split(), dtype=np.uint8)
            if px.size != 48 * 48:
                raise DataError(f"fer2013.csv row for {lab['Image name']} does not hold 48×48 pixels.")
            images.append(px.reshape(48, 48))
            votes.append([int(lab[c]) for c in list(lab)[2:12]])
    if not images:
        raise DataError(f"fer2013new.csv in {root} has no rows for usage {_FER2013_USAGE[split]}.")
    return np.stack(images), np.asarray(votes, dtype=np.uint8)


def load_ferplus(root: str | Path, split: str, soft_labels: bool = False) -> FaceTensors:
    """FERPlus ``split`` from ``root`` in any supported layout, majority-vote protocol."""
    _check_split(split)
    root = Path(root)
    if not root.exists():
        raise DataError(f"FERPlus folder {root} does not exist.")
    if (root / f"{split}.npz").is_file():
        images, votes = _from_npz(root / f"{split}.npz")
    elif (root / _MS_FOLDERS[split] / "label.csv").is_file():
        images, votes = _from_ms_folder(root / _MS_FOLDERS[split])
    elif (root / "fer2013.csv").is_file() and (root / "fer2013new.csv").is_file():
        images, votes = _from_fer2013_csv(root, split)
    else:
        raise DataError(
            f"{root} holds no FERPlus data: expected {split}.npz, "
            f"{_MS_FOLDERS[split]}/label.csv, or fer2013.csv with fer2013new.csv."
        )
    labels = majority_labels(votes)
    keep = labels >= 0
    soft = torch.from_numpy(vote_distribution(votes[keep])) if soft_labels else None
    return FaceTensors(
        images=torch.from_numpy(np.ascontiguousarray(images[keep])).unsqueeze(1),
        labels=torch.from_numpy(labels[keep]),
        label_names=FERPLUS_LABELS,
        name=f"ferplus/{split}",
        soft=soft,
        info={"dropped": int((~keep).sum()), "source": str(root)},
    )
