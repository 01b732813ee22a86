"""The lesson record: per-student and per-second summaries built from the stream of FaceFrames.

Shared by the CSV sinks, the timeline plot and (later) the GUI's charts and tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..engine.frame import FaceFrame


@dataclass
class StudentStats:
    student_id: int
    first_s: float
    last_s: float
    frames: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # frames per top emotion
    timeline: list[tuple[float, int]] = field(default_factory=list)  # (time_s, top emotion index)
    seen_s: float = 0.0  # time in view: gaps longer than SEEN_GAP_S (hidden, away) do not count


@dataclass
class SecondStats:
    second: int
    frames: int = 0
    faces: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


SEEN_GAP_S = 1.0


def student_label(student_id: int, name: str | None = None) -> str:
    """``#3`` or ``#3 Ana``: the id always shows, so two students of the same name stay apart."""
    return f"#{student_id} {name}" if name else f"#{student_id}"


class LessonRecord:
    """Accumulates what the outputs need; only confirmed students (id > 0) enter the per-student part."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = list(labels)
        self.students: dict[int, StudentStats] = {}
        self.seconds: dict[int, SecondStats] = {}
        self.names: dict[int, str] = {}  # student id -> the name a user gave (GUI), used in exports
        self.frames = 0

    def add(self, frame: FaceFrame) -> None:
        k = len(self.labels)
        self.frames += 1
        second = int(math.floor(frame.time_s))
        sec = self.seconds.setdefault(second, SecondStats(second, counts=np.zeros(k, np.int64)))
        sec.frames += 1
        if frame.probs is None or not len(frame):
            return
        top = frame.probs.argmax(axis=1)
        sec.faces += len(frame)
        np.add.at(sec.counts, top, 1)
        ids = frame.student_ids if frame.student_ids is not None else np.full(len(frame), -1)
        for sid, emotion in zip(ids.tolist(), top.tolist()):
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
            st.timeline.append((frame.time_s, emotion))

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
