"""An analysis session: the pipeline, the lesson record and every processed frame, for a UI.

The desktop app processes frames on a worker thread and reads summaries on the UI thread;
this class is the meeting point, with a lock around the shared record. It knows nothing of
Qt, so it is tested (and usable) without a window.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..outputs.export import export_lesson
from ..outputs.record import LessonRecord
from .frame import FaceFrame
from .pipeline import Pipeline
from .sources import VideoFrame

CURRENT_WINDOW_S = 2.0
"""The "current" class distribution and a student's current emotion cover this many seconds."""


@dataclass(frozen=True)
class StudentRow:
    student_id: int
    name: str
    current: str  # top emotion now, or "" when not in view
    dominant: str
    seen_s: float


@dataclass(frozen=True)
class SessionSnapshot:
    labels: list[str]
    seconds: np.ndarray  # [n] start of each second in the chart window
    shares: np.ndarray  # [n, k] share of faces per emotion in that second
    current: np.ndarray  # [k] share over the last CURRENT_WINDOW_S
    faces_now: int
    students: list[StudentRow]


class AnalysisSession:
    """``process`` a frame (worker thread); ``snapshot``, ``rename``, ``export`` from anywhere."""

    def __init__(self, pipeline: Pipeline, name: str = "session") -> None:
        self.pipeline = pipeline
        self.name = name
        self.record = LessonRecord(pipeline.labels)
        self.frames: list[FaceFrame] = []
        self.lock = threading.Lock()
        self._now = 0.0
        self._faces_now = 0

    def process(self, frame: VideoFrame) -> FaceFrame:
        faces = self.pipeline.process(frame)
        with self.lock:
            self.record.add(faces)
            self.frames.append(faces)
            self._now, self._faces_now = faces.time_s, len(faces)
        return faces

    def use_pipeline(self, pipeline: Pipeline) -> bool:
        """Switch model/detector mid-session, keeping the student numbering; returns True when the
        record had to start afresh because the new model reads a different set of emotions."""
        pipeline.tracker = self.pipeline.tracker
        with self.lock:
            self.pipeline = pipeline
            if list(pipeline.labels) == self.record.labels:
                return False
            names = self.record.names
            self.record, self.frames = LessonRecord(pipeline.labels), []
            self.record.names = names
            return True

    def rename(self, student_id: int, name: str) -> None:
        with self.lock:
            self.record.rename(student_id, name)

    def names(self) -> dict[int, str]:
        with self.lock:
            return dict(self.record.names)

    def snapshot(self, window_s: float = 300.0) -> SessionSnapshot:
        """What the charts and the students table show: the last ``window_s`` seconds and every student."""
        with self.lock:
            record, now = self.record, self._now
            seconds = np.array(sorted(s for s in record.seconds if now - window_s < s + 1 and s <= now), np.float64)
            k = len(record.labels)
            shares = np.stack([record.class_shares(int(s)) for s in seconds]) if len(seconds) else np.zeros((0, k))
            recent = [record.seconds[s].counts for s in record.seconds if now - CURRENT_WINDOW_S < s <= now]
            counts = np.sum(recent, axis=0) if recent else np.zeros(k)
            current = counts / counts.sum() if counts.sum() else np.zeros(k)
            rows = []
            for sid in sorted(record.students):
                st = record.students[sid]
                in_view = now - st.last_s <= CURRENT_WINDOW_S
                rows.append(StudentRow(sid, record.names.get(sid, ""),
                                       record.labels[st.timeline[-1][1]] if in_view else "",
                                       record.dominant(sid), st.seen_s))
            return SessionSnapshot(list(record.labels), seconds, shares, current, self._faces_now, rows)

    def student_timeline(self, student_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(times, top-emotion indices) of one student, for their timeline plot."""
        with self.lock:
            st = self.record.students.get(student_id)
            timeline = list(st.timeline) if st else []
        return (np.array([t for t, _ in timeline], np.float64), np.array([e for _, e in timeline], np.int64))

    def export(self, folder: str | Path, stem: str | None = None) -> dict[str, Path]:
        """The three CSVs and the timeline PNG of the session so far (``fervision annotate``'s formats)."""
        with self.lock:
            return export_lesson(self.record, list(self.frames), folder, stem or self.name)
