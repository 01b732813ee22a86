"""Write a whole lesson (record + every processed frame) in the formats of ``fervision annotate``.

``annotate`` streams these files as it goes; the desktop app keeps the session in memory
and writes them on request with this function, through the same sinks, so both produce
identical columns. Each file is written under a temporary name and then renamed, so an
export that fails half-way never leaves a truncated file where a good one was.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..engine.frame import FaceFrame
from .csv_sinks import ClassCsvSink, FacesCsvSink, StudentsCsvSink
from .record import LessonRecord
from .timeline import save_timeline


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def export_lesson(record: LessonRecord, frames: Iterable[FaceFrame], folder: str | Path, stem: str) -> dict[str, Path]:
    """Write ``<stem>_faces.csv``, ``_students.csv``, ``_class.csv`` and ``_timeline.png`` into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"{stem}_{kind}.csv" for kind in ("faces", "students", "class")}
    with FacesCsvSink(_partial(paths["faces"]), record.labels) as faces_csv:
        for frame in frames:
            faces_csv.write(frame)
    with ClassCsvSink(_partial(paths["class"]), record):
        pass  # closing writes every complete second
    StudentsCsvSink(paths["students"], record).close()  # already atomic
    for kind in ("faces", "class"):
        os.replace(_partial(paths[kind]), paths[kind])
    paths["timeline"] = save_timeline(record, folder / f"{stem}_timeline.png",
                                      title=f"{stem}: class emotion distribution")
    return paths
