"""Figures for evaluation reports (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def save_confusion_matrix(cm: np.ndarray, labels: Sequence[str], path: str | Path, title: str = "") -> Path:
    """Row-normalised confusion matrix (recall on the diagonal) with raw counts in each cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros(cm.shape, dtype=float), where=rows > 0)
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * len(labels), 0.8 + 0.7 * len(labels)), dpi=110)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{norm[i, j]:.2f}\n{cm[i, j]}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def image_grid_png(rows: Sequence[np.ndarray]) -> bytes:
    """PNG of image rows (each ``uint8 [N, C, H, W]``, C = 1 or 3), e.g. original / masked / redrawn faces."""
    import cv2

    lines = []
    for row in rows:
        tiles = [np.ascontiguousarray(np.transpose(img, (1, 2, 0))) for img in row]
        tiles = [cv2.cvtColor(t, cv2.COLOR_GRAY2BGR) if t.shape[2] == 1 else cv2.cvtColor(t, cv2.COLOR_RGB2BGR)
                 for t in tiles]
        lines.append(np.concatenate(tiles, axis=1))
    ok, data = cv2.imencode(".png", np.concatenate(lines, axis=0))
    if not ok:
        raise ValueError("could not encode the image grid as PNG")
    return data.tobytes()
