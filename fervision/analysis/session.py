"""An analysis session: the pipeline, the sinks and the lesson record, for a UI.

The desktop app processes frames on a worker thread and reads summaries on the UI thread;
this class is the meeting point, with a lock around the shared record. It streams: each frame
goes through the same sinks as ``annotate`` (the record, and ``faces.csv`` spooled to a private
temporary file), and only bounded summaries stay in memory, so an hour-long session costs what
a minute does. It knows nothing of Qt, so it is tested (and usable) without a window.
"""

from __future__ import annotations

import bisect
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.frame import FaceFrame
from ..engine.pipeline import Pipeline
from ..engine.sources import VideoFrame
from ..engine.stages import TrackStage
from ..outputs.csv_sinks import ClassCsvSink, FacesCsvSink, StudentsCsvSink
from ..outputs.record import EVERY_FACE, HIDDEN, CountRules, LessonRecord
from ..outputs.report import write_report
from ..outputs.sink import Sink, SinkBase
from ..outputs.timeline import save_timeline
from .loop import FrameLoop

CURRENT_WINDOW_S = 2.0
"""The "current" class distribution and a student's current emotion cover this many seconds."""


@dataclass(frozen=True)
class StudentRow:
    student_id: int
    name: str
    current: str  # top emotion now, or "" when not in view
    dominant: str
    seen_s: float
    counted: bool = True
    reason: str = ""  # why not counted: "hidden", "walking past", "in view only briefly"
    merged: tuple[int, ...] = ()  # ids the user merged into this one
    facing_front_share: float = float("nan")  # NaN when no head direction was read


@dataclass(frozen=True)
class SessionSnapshot:
    labels: list[str]
    seconds: np.ndarray  # [n] start of each second in the chart window
    shares: np.ndarray  # [n, k] share of faces per emotion in that second
    current: np.ndarray  # [k] share over the last CURRENT_WINDOW_S
    faces_now: int
    students: list[StudentRow]
    facing: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [n] share facing front per second (NaN: unknown)


class _Locked(SinkBase):
    """Writes to ``sink`` holding ``lock`` (the UI thread reads the record meanwhile)."""

    def __init__(self, sink: Sink, lock: threading.Lock) -> None:
        self.sink, self.lock, self.name, self.every_frame = sink, lock, type(sink).__name__, sink.every_frame

    def write(self, faces: FaceFrame, image_bgr: np.ndarray) -> None:
        with self.lock:
            self.sink.write(faces, image_bgr)


class AnalysisSession:
    """``process`` a frame (worker thread); ``snapshot``, ``rename``, ``export`` from anywhere.

    ``add_sink``/``remove_sink`` attach outputs the user turns on and off (a recording, face crops);
    ``close()`` when done (it removes the spooled table)."""

    def __init__(self, pipeline: Pipeline, name: str = "session", rules: CountRules | None = None) -> None:
        self.name = name
        self.lock = threading.Lock()
        self._spool = Path(tempfile.mkdtemp(prefix="fervision-session-"))
        self.loop = FrameLoop(pipeline)
        self._own_sinks: list[Sink] = []
        self._passes: list[tuple[int, int]] = []  # (byte offset in the spooled faces.csv, pass id)
        # photos have no time in view: every face found in them is someone
        self._start_record(pipeline, LessonRecord(pipeline.labels, rules or (EVERY_FACE if pipeline.still else None)))
        self._now = 0.0
        self._faces_now = 0

    @property
    def pipeline(self) -> Pipeline:
        return self.loop.pipeline

    def _start_record(self, pipeline: Pipeline, record: LessonRecord) -> None:
        """A new record and spooled ``faces.csv`` (the columns follow the pipeline's signals)."""
        for sink in self._own_sinks:
            self.loop.remove(sink)
        self._faces_csv = FacesCsvSink(self._spool / "faces.csv", pipeline.signals)
        self._passes = [(0, record.pass_id)]
        self._own_sinks = [_Locked(record, self.lock), self._faces_csv]
        self.loop.sinks[:0] = self._own_sinks
        with self.lock:
            self.record = record

    def process(self, frame: VideoFrame) -> FaceFrame:
        faces = self.loop.step(frame)
        with self.lock:
            self._now, self._faces_now = faces.time_s, len(faces)
        return faces

    def hold(self, frame: VideoFrame) -> None:
        """A frame skipped to keep real time: the last faces held on it go to the sinks that take
        every frame (a recording; the record, as time in view)."""
        self.loop.hold(frame)
        with self.lock:
            self._now = frame.time_s  # "current" emotions and charts follow skipped frames too

    def jumped(self, replay: bool = True) -> None:
        """The source jumped: students are re-found where they sit, with their ids and names. With
        ``replay`` (a seek or replay of a file) every second analysed again replaces what it held in
        every export; without (a camera started again, its time going on) nothing is replaced."""
        self.pipeline.restart()
        self.loop.last = None
        if not replay:
            return
        with self.lock:
            self.record.new_pass()
            self._passes.append((self._faces_csv.path.stat().st_size, self.record.pass_id))

    def add_sink(self, sink: Sink) -> None:
        self.loop.sinks.append(sink)

    def remove_sink(self, sink: Sink) -> None:
        """Stop writing to ``sink`` and close it."""
        self.loop.remove(sink)

    def use_pipeline(self, pipeline: Pipeline) -> bool:
        """Switch model/detector mid-session, keeping the students being followed and their numbering;
        returns True when the record had to start afresh because the new model reads other emotions."""
        old_track, new_track = self.pipeline.stage("track"), pipeline.stage("track")
        if isinstance(old_track, TrackStage) and isinstance(new_track, TrackStage):
            new_track.tracker = old_track.tracker
        with self.lock:
            self.loop.pipeline = pipeline
            if list(pipeline.labels) == self.record.labels:
                return False
        with self.lock:
            old = self.record
            record = LessonRecord(pipeline.labels, old.rules)
            # who is who carries over: names and the user's roster edits
            record.names, record.counted_by_user = dict(old.names), dict(old.counted_by_user)
            record.merged_into = dict(old.merged_into)
        self._start_record(pipeline, record)
        return True

    def rename(self, student_id: int, name: str) -> None:
        with self.lock:
            self.record.rename(student_id, name)

    def names(self) -> dict[int, str]:
        with self.lock:
            return dict(self.record.names)

    def set_counted(self, student_id: int, counted: bool | None) -> None:
        """False hides a student from the charts and every export (not a student); True counts one
        the roster rules leave out (walking past, seen briefly); None goes back to the rules."""
        with self.lock:
            self.record.set_counted(student_id, counted)

    def merge_students(self, source_id: int, into_id: int) -> None:
        """One student the tracker split in two: ``source_id`` becomes ``into_id`` everywhere, in the
        past and from now on (``ValueError`` with a sentence for the same or an unknown id)."""
        with self.lock:
            self.record.merge(source_id, into_id)

    def unmerge_student(self, source_id: int) -> None:
        with self.lock:
            self.record.unmerge(source_id)

    def edited(self, faces: FaceFrame) -> FaceFrame:
        """``faces`` as the view and a recording draw them: merged ids shown as the id they joined,
        students the user hid left out."""
        if faces.student_ids is None:
            return faces
        with self.lock:
            record = self.record
            if not record.merged_into and not record.counted_by_user:
                return faces
            ids = np.array([record.root(int(sid)) if sid > 0 else int(sid) for sid in faces.student_ids], np.int64)
            keep = np.array([record.counted_by_user.get(int(sid)) is not False for sid in ids], bool)
        out = faces[keep]
        out.student_ids = ids[keep]
        return out

    def snapshot(self, window_s: float = 300.0) -> SessionSnapshot:
        """What the charts and the students table show: the last ``window_s`` seconds and every student."""
        with self.lock:
            record, now = self.record, self._now
            seconds = np.array([s for s in record.analysed_seconds() if now - window_s < s + 1 and s <= now],
                               np.float64)
            k = len(record.labels)
            shares = np.stack([record.class_shares(int(s)) for s in seconds]) if len(seconds) else np.zeros((0, k))
            facing = np.array([record.class_facing_front(int(s)) for s in seconds], np.float64)
            recent = [record.class_counts(s) for s in record.seconds if now - CURRENT_WINDOW_S < s <= now]
            counts = np.sum(recent, axis=0) if recent else np.zeros(k)
            current = counts / counts.sum() if counts.sum() else np.zeros(k)
            rows = []
            for sid in record.student_ids():
                st, reason = record.student(sid), record.reason(sid)
                in_view = 0 <= now - st.last_seen_s <= CURRENT_WINDOW_S
                rows.append(StudentRow(sid, record.names.get(sid, ""),
                                       record.labels[st.last_emotion] if in_view else "",
                                       record.dominant(sid), st.seen_s, counted=not reason, reason=reason,
                                       merged=tuple(record.members(sid)[1:]),
                                       facing_front_share=st.facing_front_share))
            return SessionSnapshot(list(record.labels), seconds, shares, current, self._faces_now, rows, facing)

    def student_timeline(self, student_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(run starts, run ends, top-emotion indices) of one student, for their timeline plot."""
        with self.lock:
            return self.record.student_timeline(student_id)

    def student_facing(self, student_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, share of that second facing front) of one student, where a head direction was read."""
        with self.lock:
            return self.record.student_facing(student_id)

    def export(self, folder: str | Path, stem: str | None = None, settings: Sequence[tuple[str, str]] = (),
               front_rule: str | None = None) -> dict[str, Path]:
        """The three CSVs, the timeline PNG and the lesson report of the session so far
        (``fervision annotate``'s formats); ``settings`` and ``front_rule`` are what the report says
        the lesson was analysed with (see :mod:`.run_settings`).

        Each file is written under a temporary name and renamed, so an export that fails half-way
        never leaves a truncated file where a good one was. Call it from the thread that processes
        frames (the app's worker does): the UI thread only waits for the small files."""
        folder, stem = Path(folder), stem or self.name
        folder.mkdir(parents=True, exist_ok=True)
        paths = {kind: folder / f"{stem}_{kind}.csv" for kind in ("faces", "students", "class")}
        partial = {kind: path.with_name(path.name + ".partial") for kind, path in paths.items()}
        with self.lock:
            record = self.record
            pass_of_second = {second: sec.pass_id for second, sec in record.seconds.items()}
            new_id = {sid: (-1 if record.reason(sid) == HIDDEN else record.root(sid)) for sid in record.students}
        self._export_faces(partial["faces"], pass_of_second, new_id)  # the long one, without holding the lock
        with self.lock:
            ClassCsvSink(partial["class"], self.record).close()  # closing writes every complete second
            StudentsCsvSink(paths["students"], self.record).close()  # already atomic
            for kind in ("faces", "class"):
                os.replace(partial[kind], paths[kind])
            paths["timeline"] = save_timeline(self.record, folder / f"{stem}_timeline.png",
                                              title=f"{stem}: class emotion distribution")
            length = max(self._now, self.record.length_s)
            extra = {"front_rule": front_rule} if front_rule else {}
            paths["report"] = write_report(self.record, folder / f"{stem}_report.html", title=stem, length_s=length,
                                           settings=settings, metrics=self._metrics(), **extra)
        return paths

    def _metrics(self) -> Mapping[str, Any]:
        """The expression model's measured per-class results, for the report's miss rates."""
        try:
            return self.pipeline.recognizer.meta.metrics
        except (LookupError, AttributeError):  # a pipeline that reads no expression
            return {}

    def _export_faces(self, path: Path, pass_of_second: dict[int, int], new_id: dict[int, int]) -> None:
        """The spooled faces table; after seeks, only the rows of the pass that last analysed each
        second, in time order (every row is flushed as it is written, so the spool is complete).
        ``new_id`` applies the user's roster: a merged id becomes the one it joined; -1 drops the
        rows of a student the user hid."""
        edited = any(old != new for old, new in new_id.items())
        if len(self._passes) == 1 and not edited:
            shutil.copyfile(self._faces_csv.path, path)
            return
        starts = [offset for offset, _ in self._passes]
        rows: list[tuple[float, str]] = []
        with open(self._faces_csv.path, "rb") as spool:
            header = spool.readline()
            offset = len(header)
            for line in spool:
                pass_id = self._passes[bisect.bisect_right(starts, offset) - 1][1]
                offset += len(line)
                frame, time_text, sid_text, rest = line.split(b",", 3)
                time_s, sid = float(time_text), int(sid_text)
                if pass_of_second.get(max(0, math.floor(time_s))) != pass_id:
                    continue
                if sid in new_id and new_id[sid] != sid:
                    if new_id[sid] < 0:
                        continue
                    line = b",".join([frame, time_text, str(new_id[sid]).encode(), rest])
                rows.append((time_s, line.decode()))
        rows.sort(key=lambda row: row[0])  # stable: rows of one frame keep their order
        with open(path, "w", newline="") as out:
            out.write(header.decode())
            out.writelines(line for _, line in rows)

    def close(self) -> None:
        """Close every sink and remove the spooled table."""
        for sink in list(self.loop.sinks):
            self.loop.remove(sink)
        shutil.rmtree(self._spool, ignore_errors=True)
