"""The three CSV outputs of ``fervision annotate``.

* faces: one row per face per processed frame, appended and flushed as frames arrive;
* class: one row per second, written as soon as that second is complete;
* students: one row per student, rewritten atomically every few seconds and at the end.

So an interrupted run keeps every finished frame. All are context managers.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import TextIO

from ..core.io import atomic_write_bytes
from ..engine.frame import FaceFrame
from .record import LessonRecord


def faces_header(labels: list[str]) -> list[str]:
    return ["frame", "time_s", "student_id", "x1", "y1", "x2", "y2", "det_score", "emotion", "confidence",
            *[f"p_{label}" for label in labels]]


def students_header(labels: list[str]) -> list[str]:
    return ["student_id", "name", "first_s", "last_s", "frames", "dominant_emotion",
            *[f"share_{label}" for label in labels]]


def class_header(labels: list[str]) -> list[str]:
    return ["time_s", "faces", *[f"share_{label}" for label in labels]]


class _CsvFile:
    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = Path(path)
        self._file: TextIO = open(self.path, "w", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(header)
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FacesCsvSink(_CsvFile):
    """``frame,time_s,student_id,x1,y1,x2,y2,det_score,emotion,confidence,p_<label>…``"""

    def __init__(self, path: Path, labels: list[str]) -> None:
        super().__init__(path, faces_header(labels))

    def write(self, frame: FaceFrame) -> None:
        emotions = frame.emotions()
        ids = frame.student_ids if frame.student_ids is not None else [-1] * len(frame)
        for i, box in enumerate(frame.xyxy):
            p = frame.probs[i]
            self._writer.writerow([frame.index, f"{frame.time_s:.3f}", int(ids[i]), *[f"{v:.1f}" for v in box],
                                   f"{frame.confidence[i]:.3f}", emotions[i], f"{p.max():.4f}", *[f"{v:.4f}" for v in p]])
        self._file.flush()


class ClassCsvSink(_CsvFile):
    """``time_s,faces,share_<label>…``: per second, mean faces per frame and the share of each top emotion."""

    def __init__(self, path: Path, record: LessonRecord) -> None:
        super().__init__(path, class_header(record.labels))
        self.record = record
        self._next = 0

    def write(self, frame: FaceFrame) -> None:
        self._flush_until(int(math.floor(frame.time_s)))

    def _flush_until(self, second: int) -> None:
        for s in sorted(k for k in self.record.seconds if self._next <= k < second):
            st = self.record.seconds[s]
            self._writer.writerow([s, f"{st.faces / max(st.frames, 1):.2f}", *[f"{v:.4f}" for v in self.record.class_shares(s)]])
            self._next = s + 1
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._flush_until(max(self.record.seconds, default=-1) + 1)
        super().close()


class StudentsCsvSink:
    """``student_id,name,first_s,last_s,frames,dominant_emotion,share_<label>…``, replaced atomically
    (``name`` is blank unless a user named the student in the app)."""

    def __init__(self, path: Path, record: LessonRecord, every_s: float = 5.0) -> None:
        self.path, self.record, self.every_s = Path(path), record, every_s
        self._last_write = -math.inf
        self.flush()

    def write(self, frame: FaceFrame) -> None:
        if frame.time_s - self._last_write >= self.every_s:
            self.flush()
            self._last_write = frame.time_s

    def flush(self) -> None:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(students_header(self.record.labels))
        for sid in sorted(self.record.students):
            st = self.record.students[sid]
            shares = st.counts / max(st.frames, 1)
            w.writerow([sid, self.record.names.get(sid, ""), f"{st.first_s:.3f}", f"{st.last_s:.3f}", st.frames,
                        self.record.dominant(sid), *[f"{v:.4f}" for v in shares]])
        atomic_write_bytes(self.path, buf.getvalue().encode())

    def close(self) -> None:
        self.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
