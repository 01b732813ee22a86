"""The lesson record: per-student and per-second summaries built from the stream of FaceFrames.

Shared by the CSV sinks, the timeline plot and the app's charts and tables. Its size stays
small over a long lesson: per student, counts and a run-length timeline (a run per change of
top emotion, ~17 bytes); per second, counts. It is a sink, first in the list, so the sinks
after it read an up-to-date record.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

import numpy as np

from ..core.frame import FaceFrame
from .sink import SinkBase

SEEN_GAP_S = 1.0
"""A student unseen for longer than this was away: the gap counts neither as seen time nor in a run."""


@dataclass
class EmotionRuns:
    """A student's top emotion over time as runs ``[start_s, end_s)`` of one emotion each; a run
    ends where the next begins, or at the last sighting before a gap longer than ``SEEN_GAP_S``."""

    starts: array = field(default_factory=lambda: array("d"))
    ends: array = field(default_factory=lambda: array("d"))
    emotions: array = field(default_factory=lambda: array("h"))

    def add(self, time_s: float, emotion: int) -> None:
        if self.emotions and 0 <= time_s - self.ends[-1] <= SEEN_GAP_S:
            self.ends[-1] = time_s
            if self.emotions[-1] == emotion:
                return
        self.starts.append(time_s)
        self.ends.append(time_s)
        self.emotions.append(emotion)

    def __len__(self) -> int:
        return len(self.emotions)

    @property
    def last(self) -> int:
        return self.emotions[-1]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, emotion indices) as numpy arrays."""
        return (np.frombuffer(self.starts, np.float64).copy(), np.frombuffer(self.ends, np.float64).copy(),
                np.frombuffer(self.emotions, np.int16).astype(np.int64))


@dataclass
class StudentStats:
    student_id: int
    first_s: float
    last_s: float
    frames: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # frames per top emotion
    runs: EmotionRuns = field(default_factory=EmotionRuns)
    seen_s: float = 0.0  # time in view: gaps longer than SEEN_GAP_S (hidden, away) do not count


@dataclass
class SecondStats:
    second: int
    frames: int = 0
    faces: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def student_label(student_id: int, name: str | None = None) -> str:
    """``#3`` or ``#3 Ana``: the id always shows, so two students of the same name stay apart."""
    return f"#{student_id} {name}" if name else f"#{student_id}"


class LessonRecord(SinkBase):
    """Accumulates what the outputs need; only confirmed students (id > 0) enter the per-student part."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = list(labels)
        self.students: dict[int, StudentStats] = {}
        self.seconds: dict[int, SecondStats] = {}
        self.names: dict[int, str] = {}  # student id -> the name a user gave (GUI), used in exports
        self.frames = 0

    def write(self, faces: FaceFrame, image_bgr: np.ndarray) -> None:
        self.add(faces)

    def add(self, frame: FaceFrame) -> None:
        k = len(self.labels)
        self.frames += 1
        second = math.floor(frame.time_s)
        sec = self.seconds.setdefault(second, SecondStats(second, counts=np.zeros(k, np.int64)))
        sec.frames += 1
        if frame.probs is None or not len(frame):
            return
        top = frame.probs.argmax(axis=1)
        sec.faces += len(frame)
        np.add.at(sec.counts, top, 1)
        for sid, emotion in zip(frame.ids_or_unknown().tolist(), top.tolist(), strict=True):
            if sid <= 0:
                continue
            st = self.students.get(sid)
            if st is None:
                st = self.students[sid] = StudentStats(sid, frame.time_s, frame.time_s, counts=np.zeros(k, np.int64))
            if 0 < frame.time_s - st.last_s <= SEEN_GAP_S:
                st.seen_s += frame.time_s - st.last_s
            st.last_s = frame.time_s
            st.frames += 1
            st.counts[emotion] += 1
            st.runs.add(frame.time_s, emotion)

    def class_shares(self, second: int) -> np.ndarray:
        """Share of face observations per emotion in one second (zeros when no face was seen)."""
        c = self.seconds[second].counts
        return c / c.sum() if c.sum() else np.zeros(len(self.labels))

    def dominant(self, student_id: int) -> str:
        return self.labels[int(self.students[student_id].counts.argmax())]

    def rename(self, student_id: int, name: str) -> None:
        """Give a student a name (blank removes it); ids stay the join key in every export."""
        name = " ".join(name.split())
        if name:
            self.names[student_id] = name
        else:
            self.names.pop(student_id, None)

    def display_name(self, student_id: int) -> str:
        return student_label(student_id, self.names.get(student_id))
