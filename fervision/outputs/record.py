"""The lesson record: per-student and per-second summaries built from the stream of FaceFrames.

Shared by the CSV sinks, the timeline plot and the app's charts and tables. Its size stays
small over a long lesson: per student and per second of the source, counts (a few bytes); no
frame is kept. It is a sink, first in the list, so the sinks after it read an up-to-date record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.frame import FaceFrame
from .sink import SinkBase

SEEN_GAP_S = 1.0
"""A student unseen for longer than this was away: the gap counts neither as seen time nor in a run."""


class StudentStats:
    """One student over the lesson, stored per second of the source so that a second analysed
    again (after a seek back in the app) replaces what it held instead of counting twice.

    Per second: frames per top emotion, time in view, first and last sighting. Arrays grow with
    the lesson's length (an hour of 8 emotions is ~70 KB a student), never with the frame rate."""

    def __init__(self, student_id: int, labels: int) -> None:
        self.student_id = student_id
        self._k = labels
        self._counts = np.zeros((0, labels), np.uint16)
        self._seen = np.zeros(0, np.float32)
        self._first = np.zeros(0, np.float64)
        self._last = np.zeros(0, np.float64)
        self.last_seen_s = -math.inf  # the latest sighting in the current pass (a seek starts a new pass)
        self.last_emotion = 0

    def _grow(self, second: int) -> None:
        if second < len(self._seen):
            return
        size = max(second + 1, 2 * len(self._seen), 64)
        extra = size - len(self._seen)
        self._counts = np.concatenate([self._counts, np.zeros((extra, self._k), np.uint16)])
        self._seen = np.concatenate([self._seen, np.zeros(extra, np.float32)])
        self._first = np.concatenate([self._first, np.full(extra, np.inf)])
        self._last = np.concatenate([self._last, np.full(extra, -np.inf)])

    def clear_second(self, second: int) -> None:
        if second < len(self._seen):
            self._counts[second], self._seen[second] = 0, 0.0
            self._first[second], self._last[second] = np.inf, -np.inf

    def sighted(self, time_s: float, emotion: int | None) -> None:
        """Seen at ``time_s``; ``emotion`` is the top emotion read for this frame (``None``: a frame
        not analysed, the face held from the last one: it counts as time in view only)."""
        second = max(0, math.floor(time_s))
        self._grow(second)
        gap = time_s - self.last_seen_s
        if 0 < gap <= SEEN_GAP_S:
            self._seen[second] += gap
        self.last_seen_s = time_s
        self._first[second] = min(self._first[second], time_s)
        self._last[second] = max(self._last[second], time_s)
        if emotion is not None:
            self._counts[second, emotion] += 1
            self.last_emotion = emotion

    @property
    def counts(self) -> np.ndarray:
        """Analysed frames per top emotion."""
        return self._counts.sum(axis=0, dtype=np.int64)

    @property
    def frames(self) -> int:
        return int(self._counts.sum())

    @property
    def seen_s(self) -> float:
        """Time in view: gaps longer than SEEN_GAP_S (hidden, away) do not count."""
        return float(self._seen.sum())

    @property
    def first_s(self) -> float:
        return float(self._first.min()) if len(self._first) else math.nan

    @property
    def last_s(self) -> float:
        return float(self._last.max()) if len(self._last) else math.nan

    def timeline(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, emotion indices): runs of whole seconds with the same top emotion."""
        seconds = np.flatnonzero(self._counts.sum(axis=1))
        if not len(seconds):
            return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
        top = self._counts[seconds].argmax(axis=1)
        new_run = np.ones(len(seconds), bool)
        new_run[1:] = (np.diff(seconds) != 1) | (top[1:] != top[:-1])
        starts = np.flatnonzero(new_run)
        ends = np.append(starts[1:], len(seconds)) - 1
        return seconds[starts].astype(np.float64), seconds[ends] + 1.0, top[starts].astype(np.int64)


@dataclass
class SecondStats:
    second: int
    frames: int = 0
    faces: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pass_id: int = 0


def student_label(student_id: int, name: str | None = None) -> str:
    """``#3`` or ``#3 Ana``: the id always shows, so two students of the same name stay apart."""
    return f"#{student_id} {name}" if name else f"#{student_id}"


class LessonRecord(SinkBase):
    """Accumulates what the outputs need; only confirmed students (id > 0) enter the per-student part.

    Frames not analysed (``faces.held``: the last faces held on a skipped frame) count as time in
    view only. After :meth:`new_pass` (a seek), each second analysed again first forgets what it
    held, so every moment of the source is counted once."""

    every_frame = True

    def __init__(self, labels: list[str]) -> None:
        self.labels = list(labels)
        self.students: dict[int, StudentStats] = {}
        self.seconds: dict[int, SecondStats] = {}
        self.names: dict[int, str] = {}  # student id -> the name a user gave (GUI), used in exports
        self.frames = 0
        self.pass_id = 0

    def new_pass(self) -> None:
        """The source jumped (a seek, a replay): seconds seen again replace what they held."""
        self.pass_id += 1
        for st in self.students.values():
            st.last_seen_s = -math.inf

    def write(self, faces: FaceFrame, image_bgr: np.ndarray | None = None) -> None:
        self.add(faces)

    def _forget_if_stale(self, second: int) -> None:
        """A second analysed before this pass is forgotten when this pass reaches it."""
        sec = self.seconds.get(second)
        if sec is not None and sec.pass_id != self.pass_id:
            del self.seconds[second]
            for st in self.students.values():
                st.clear_second(second)

    def _second(self, second: int) -> SecondStats:
        self._forget_if_stale(second)
        sec = self.seconds.get(second)
        if sec is None:
            sec = self.seconds[second] = SecondStats(second, counts=np.zeros(len(self.labels), np.int64),
                                                     pass_id=self.pass_id)
        return sec

    def add(self, frame: FaceFrame) -> None:
        k = len(self.labels)
        second, held = max(0, math.floor(frame.time_s)), frame.held
        if held:
            self._forget_if_stale(second)
        else:
            sec = self._second(second)
            self.frames += 1
            sec.frames += 1
        probs = frame.probs
        if probs is None or not len(frame):
            return
        top = probs.argmax(axis=1)
        if not held:
            sec.faces += len(frame)
            np.add.at(sec.counts, top, 1)
        for sid, emotion in zip(frame.ids_or_unknown().tolist(), top.tolist(), strict=True):
            if sid <= 0:
                continue
            st = self.students.get(sid)
            if st is None:
                st = self.students[sid] = StudentStats(sid, k)
            st.sighted(frame.time_s, None if held else emotion)

    def student_timeline(self, student_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(run starts, run ends, top-emotion indices) of one student, in whole seconds."""
        st = self.students.get(student_id)
        return st.timeline() if st else (np.zeros(0), np.zeros(0), np.zeros(0, np.int64))

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
