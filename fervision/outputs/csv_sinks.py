"""The three CSV outputs of ``fervision annotate``.

* faces: one row per face per processed frame, appended and flushed as frames arrive;
* class: one row per second, written as soon as that second is complete, and rewritten
  atomically at the end (who counts as a student is only known then: see ``record.py``);
* students: one row per student, rewritten atomically every few seconds and at the end.

So an interrupted run keeps every finished frame. A frame's rows reach the file in one write,
and a write the disk cannot take (full) is cut back to the last whole row before its error is
raised, so the tables never end in half a row, even when the run is killed. All are sinks
(``sink.py``). The per-face
columns after ``det_score`` are the pipeline's signals' own (``emotion,confidence,p_<label>…``
for the expression), so a new signal adds its columns without a change here.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.frame import FaceFrame
from ..core.io import atomic_write_bytes
from ..core.signal_format import SignalFormat
from .record import HIDDEN, LessonRecord
from .sink import SinkBase

FACE_COLUMNS = ["frame", "time_s", "student_id", "x1", "y1", "x2", "y2", "det_score"]


def faces_header(signals: Sequence[SignalFormat]) -> list[str]:
    return [*FACE_COLUMNS, *[c for signal in signals for c in signal.columns()]]


def students_header(labels: list[str]) -> list[str]:
    return ["student_id", "name", "counted", "not_counted_because", "first_s", "last_s", "seen_s", "frames",
            "dominant_emotion", *[f"share_{label}" for label in labels], "facing_front_share"]


def class_header(labels: list[str]) -> list[str]:
    return ["time_s", "faces", *[f"share_{label}" for label in labels], "facing_front_share"]


def _share(value: float) -> str:
    """A share with four decimals, blank when unknown (no head direction was read)."""
    return "" if math.isnan(value) else f"{value:.4f}"


class _CsvFile(SinkBase):
    """A CSV file that grows by whole rows: each ``_append`` is one write of complete lines, undone
    (the file cut back to its previous length) if it cannot be written completely."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = Path(path)
        self._file = open(self.path, "wb", buffering=0)  # noqa: SIM115 - open for the sink's life
        self._size = 0
        self._append([header])

    def _append(self, rows: Iterable[Sequence[Any]]) -> None:
        text = io.StringIO()
        csv.writer(text).writerows(rows)
        data = memoryview(text.getvalue().encode())
        if not data:
            return
        try:
            done = 0
            while done < len(data):  # a regular file takes it in one go unless the disk fills up
                done += self._file.write(data[done:]) or 0
        except BaseException as exc:
            try:
                os.ftruncate(self._file.fileno(), self._size)  # no half row, whatever stopped the write
                self._file.seek(self._size)
            except OSError:
                pass
            if isinstance(exc, OSError) and exc.filename is None:
                raise OSError(exc.errno, exc.strerror, str(self.path)) from None
            raise
        self._size += len(data)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class FacesCsvSink(_CsvFile):
    """``frame,time_s,student_id,x1,y1,x2,y2,det_score,<each signal's columns>``, a row per face."""

    def __init__(self, path: Path, signals: Sequence[SignalFormat]) -> None:
        super().__init__(path, faces_header(signals))
        self.signals = list(signals)

    def write(self, faces: FaceFrame, image_bgr: np.ndarray | None = None) -> None:
        ids = faces.ids_or_unknown()
        self._append([faces.index, f"{faces.time_s:.3f}", int(ids[i]), *[f"{v:.1f}" for v in box],
                      f"{faces.confidence[i]:.3f}", *[c for signal in self.signals for c in signal.cells(faces, i)]]
                     for i, box in enumerate(faces.xyxy))


class ClassCsvSink(_CsvFile):
    """``time_s,faces,share_<label>…,facing_front_share``: per second, the counted students per
    analysed frame, the share of each top emotion among their readings, and the share of them
    facing front (blank without head pose). Streamed as seconds complete (a killed run
    keeps them), then replaced whole at ``close()`` with the lesson's final roster."""

    def __init__(self, path: Path, record: LessonRecord) -> None:
        super().__init__(path, class_header(record.labels))
        self.record = record
        self._next = 0

    def write(self, faces: FaceFrame, image_bgr: np.ndarray | None = None) -> None:
        self._flush_until(math.floor(faces.time_s))

    def _rows(self, seconds: Iterable[int]) -> list[list[Any]]:
        """One row per second; a second in which no frame was analysed (all skipped to keep real
        time, or between ``--stride`` frames) has its time and blank cells: no reading, not zero."""
        blank = [""] * (len(self.record.labels) + 2)
        return [[s, f"{self.record.class_faces(s):.2f}", *[f"{v:.4f}" for v in self.record.class_shares(s)],
                 _share(self.record.class_facing_front(s))] if self.record.seconds[s].frames else [s, *blank]
                for s in seconds]

    def _flush_until(self, second: int) -> None:
        done = sorted(k for k in self.record.seconds if self._next <= k < second)
        self._append(self._rows(done))
        if done:
            self._next = done[-1] + 1

    def close(self) -> None:
        if self._file.closed:
            return
        self._flush_until(self.record.length_s)
        super().close()
        text = io.StringIO()
        csv.writer(text).writerows([class_header(self.record.labels), *self._rows(sorted(self.record.seconds))])
        atomic_write_bytes(self.path, text.getvalue().encode())


class StudentsCsvSink(SinkBase):
    """``student_id,name,counted,not_counted_because,first_s,last_s,seen_s,frames,dominant_emotion,
    share_<label>…,facing_front_share``, replaced atomically (``name`` is blank unless a user named
    the student in the app).

    Every id the tracker confirmed has a row, with ``counted`` 0 and the reason for those the
    roster rules leave out (walking past, seen only briefly); ids the user hid are left out, and
    ids the user merged appear once, under the id they joined."""

    def __init__(self, path: Path, record: LessonRecord, every_s: float = 5.0) -> None:
        self.path, self.record, self.every_s = Path(path), record, every_s
        self._last_write = -math.inf
        self.flush()

    def write(self, faces: FaceFrame, image_bgr: np.ndarray | None = None) -> None:
        if faces.time_s - self._last_write >= self.every_s:
            self.flush()
            self._last_write = faces.time_s

    def flush(self) -> None:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(students_header(self.record.labels))
        for sid in self.record.student_ids():
            reason = self.record.reason(sid)
            if reason == HIDDEN:
                continue
            st = self.record.student(sid)
            shares = st.counts / max(st.frames, 1)
            w.writerow([sid, self.record.names.get(sid, ""), 0 if reason else 1, reason, f"{st.first_s:.3f}",
                        f"{st.last_s:.3f}", f"{st.seen_s:.1f}", st.frames, self.record.dominant(sid),
                        *[f"{v:.4f}" for v in shares], _share(st.facing_front_share)])
        atomic_write_bytes(self.path, buf.getvalue().encode())

    def close(self) -> None:
        self.flush()
