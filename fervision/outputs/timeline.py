"""The lesson timeline PNG: the class's emotion distribution over time (stacked area), the share
of the class facing front (when head pose was read), and one strip per counted student coloured
by their top emotion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.frame import FaceFrame
from ..core.io import atomic_write_bytes
from ..labels import colour_hex
from .record import LessonRecord
from .sink import SinkBase


def class_facing(record: LessonRecord) -> tuple[list[int], np.ndarray]:
    """The analysed seconds and the class's share facing front in each (NaN where unknown)."""
    seconds = record.analysed_seconds()
    return seconds, np.array([record.class_facing_front(s) for s in seconds])


def draw_class(record: LessonRecord, seconds: list[int], facing: np.ndarray, ax_class: Any,
               ax_facing: Any | None) -> None:
    """The class's emotion shares per second as a stacked area on ``ax_class`` and, given an
    ``ax_facing``, the share facing front under it (the timeline PNG and the report draw both so)."""
    if seconds:
        shares = np.stack([record.class_shares(s) for s in seconds], axis=1)
        ax_class.stackplot(np.array(seconds) + 0.5, shares, colors=[colour_hex(label) for label in record.labels])
    ax_class.set_ylim(0, 1)
    ax_class.set_ylabel("share of faces")
    if ax_facing is not None:
        ax_facing.fill_between(np.array(seconds) + 0.5, np.nan_to_num(facing), step="mid", color="#4a7fb0",
                               alpha=0.8, where=np.isfinite(facing))
        ax_facing.set_ylim(0, 1)
        ax_facing.set_ylabel("facing\nfront", fontsize=8)


def save_timeline(record: LessonRecord, path: str | Path, title: str = "") -> Path:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    students = record.counted_ids()
    seconds, facing = class_facing(record)
    with_facing = bool(np.isfinite(facing).any())
    rows = max(len(students), 1)
    ratios = [2.2, *([0.7] if with_facing else []), 0.22 * rows + 0.4]
    fig, axes = plt.subplots(len(ratios), 1, figsize=(10, 2.6 + 0.22 * rows + (0.8 if with_facing else 0)), dpi=100,
                             sharex=True, gridspec_kw={"height_ratios": ratios})
    ax_class, ax_students = axes[0], axes[-1]
    draw_class(record, seconds, facing, ax_class, axes[1] if with_facing else None)
    colours = [colour_hex(label) for label in record.labels]
    ax_class.set_title(title or "Class emotion distribution over time", fontsize=10)
    for row, sid in enumerate(students):
        starts, ends, emotions = record.student_timeline(sid)
        ax_students.broken_barh(list(zip(starts, np.maximum(ends - starts, 0.04), strict=True)), (row - 0.4, 0.8),
                                facecolors=[colours[e] for e in emotions])
    ax_students.set_yticks(range(len(students)), [record.display_name(s) for s in students], fontsize=7)
    ax_students.set_ylim(-0.6, max(len(students), 1) - 0.4)
    ax_students.invert_yaxis()
    ax_students.set_xlabel("time (s)")
    ax_students.set_ylabel("students")
    fig.legend(handles=[Patch(color=c, label=name) for c, name in zip(colours, record.labels, strict=False)],
               loc="upper right", ncol=4, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue())
    return path


class TimelineSink(SinkBase):
    """Draws the lesson's timeline PNG from the record when closed (a plot is redrawn whole, so
    drawing it once at the end costs nothing per frame)."""

    def __init__(self, path: str | Path, record: LessonRecord, title: str = "") -> None:
        self.path, self.record, self.title = Path(path), record, title

    def write(self, faces: FaceFrame, image_bgr: np.ndarray | None = None) -> None:
        """Nothing per frame: the record (an earlier sink) already holds what the plot shows."""

    def close(self) -> None:
        save_timeline(self.record, self.path, self.title)
