"""Generic image-folder datasets: one sub-folder per class, class names = folder names."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import DataError
from .dataset import FaceTensors

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


def load_image_folder(
    root: str | Path,
    split: str | None = None,
    size: int = 100,
    grey: bool = False,
    label_names: tuple[str, ...] | None = None,
) -> FaceTensors:
    """Images under ``root[/split]/<class>/``, resized to ``size``² (grey or RGB).

    A folder without split sub-folders is its train split only: reading it again as
    ``valid`` would validate on the training faces. ``label_names`` fixes the class order
    (e.g. to match a checkpoint); otherwise the sorted folder names are used, hidden ones
    (``.ipynb_checkpoints``) left out.
    """
    base = Path(root)
    if split and (base / split).is_dir():
        base = base / split
    elif split not in (None, "train") and base.is_dir():
        raise DataError(f"{base} has no {split}/ folder (a folder of class folders is a train split only: "
                        "--split train reads all of it).")
    if not base.is_dir():
        raise DataError(f"image folder {base} does not exist.")
    # hidden folders (.ipynb_checkpoints, .git, …) are not classes
    folders = sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    names = tuple(label_names) if label_names else tuple(folders)
    missing = [n for n in names if n not in folders]
    if not names or missing:
        raise DataError(f"{base} needs one sub-folder per class; missing: {', '.join(missing) or 'all'}.")
    images, labels = [], []
    flag = cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR
    for index, name in enumerate(names):
        for file in sorted((base / name).iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            img = cv2.imread(str(file), flag)
            if img is None:
                raise DataError(f"{file} cannot be read as an image.")
            img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
            images.append(img[..., None] if grey else cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
            labels.append(index)
    if not images:
        raise DataError(f"{base} holds no images in its class folders.")
    return FaceTensors(
        images=torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous(),
        labels=torch.tensor(labels),
        label_names=names,
        name=f"folder/{base.name}",
        info={"source": str(base)},
    )
