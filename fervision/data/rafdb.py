"""RAF-DB basic, from its official layout.

``basic/EmoLabel/list_patition_label.txt`` (sic) lists ``train_00001.jpg 5`` lines; the
aligned 100×100 RGB faces are ``basic/Image/aligned/train_00001_aligned.jpg``; labels 1..7
are surprise, fear, disgust, happiness, sadness, anger, neutral.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import DataError
from ..labels import RAFDB_LABELS
from .dataset import FaceTensors

_LIST = Path("EmoLabel") / "list_patition_label.txt"
_ALIGNED = Path("Image") / "aligned"


def _basic_root(root: Path) -> Path:
    for candidate in (root, root / "basic"):
        if (candidate / _LIST).is_file():
            return candidate
    raise DataError(f"{root} is not RAF-DB basic: {_LIST} was not found there or under basic/.")


def load_rafdb(root: str | Path, split: str, size: int = 100, grey: bool = False) -> FaceTensors:
    """RAF-DB basic ``split`` (``train`` or ``test``) as RGB (or grey) uint8 faces of ``size``²."""
    if split not in ("train", "test"):
        raise DataError(f"RAF-DB has splits train and test, not {split!r}.")
    base = _basic_root(Path(root))
    images, labels = [], []
    for line in (base / _LIST).read_text().splitlines():
        parts = line.split()
        if len(parts) != 2 or not parts[0].startswith(split + "_"):
            continue
        name, label = parts
        file = base / _ALIGNED / (Path(name).stem + "_aligned.jpg")
        bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if bgr is None:
            raise DataError(f"{file} is listed in {_LIST} but cannot be read.")
        if bgr.shape[:2] != (size, size):
            bgr = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)
        images.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)[..., None] if grey
                      else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        labels.append(int(label) - 1)
    if not images:
        raise DataError(f"{base / _LIST} lists no {split} images.")
    lab = np.asarray(labels)
    if lab.min() < 0 or lab.max() >= len(RAFDB_LABELS):
        raise DataError(f"{base / _LIST} has labels outside 1..7.")
    return FaceTensors(
        images=torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous(),
        labels=torch.from_numpy(lab),
        label_names=RAFDB_LABELS,
        name=f"rafdb/{split}",
        info={"source": str(base)},
    )
