"""The lesson record: per-student and per-second summaries built from the stream of FaceFrames.

Shared by the CSV sinks, the timeline plot and the app's charts and tables. Its size stays
small over a long lesson: per student and per second of the source, counts (a few bytes); no
frame is kept. It is a sink, first in the list, so the sinks after it read an up-to-date record.

Who counts as a student is decided when the record is read, not when it is written: the raw
per-id summaries stay as they came, and the roster rules (:class:`CountRules`: someone seen
only briefly, or walking through the room, is not counted) and the user's edits (hide an id
that is not a student, count one the rules left out, merge two ids of the same student) apply
to every reading of it: class shares, the students table, exports. So edits can be undone, and
an edit made late in a lesson applies to its beginning too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.frame import FACING_FRONT, TRAVEL, FaceFrame
from .sink import SinkBase

SEEN_GAP_S = 1.0
"""A student unseen for longer than this was away: the gap counts neither as seen time nor in a run."""

HIDDEN = "hidden"
"""The reason given for a student the user hid (not a student)."""
WALKING = "walking past"


@dataclass(frozen=True)
class CountRules:
    """Which ids count as students when nobody said otherwise.

    ``min_seen_s``: an id in view for less than this in the whole lesson (a face seen for a
    moment, a false detection that got through) is not counted; in a clip shorter than
    ``1 / min_seen_share`` times that, the bar is that share of the clip. ``max_travel``: an id that moved
    through the scene further than this many face widths from where it was first seen (the
    teacher, someone walking past: students sit) is not counted. Photos use :data:`EVERY_FACE`.

    1.5 face widths: on classroom_pan_720p.mp4 the 21 seated students moved at most 0.52 (with or
    without camera motion, any detection cadence), a face pasted on the person walking past
    reached 2.4-10.2 under every setting; leaning to a neighbour stays under it, standing up and
    walking to the board does not."""

    min_seen_s: float = 2.0
    min_seen_share: float = 0.25
    max_travel: float = 1.5

    def reason(self, st: StudentStats, lesson_s: float) -> str:
        """Why ``st`` is not counted in a lesson analysed for ``lesson_s`` seconds, or ``""``."""
        if st.travel > self.max_travel:
            return WALKING
        if st.seen_s < min(self.min_seen_s, self.min_seen_share * lesson_s):
            return "in view only briefly"
        return ""


EVERY_FACE = CountRules(min_seen_s=0.0, min_seen_share=0.0)
"""Unrelated photos: every face found is someone (a photo has no time in view)."""


class StudentStats:
    """One student over the lesson, stored per second of the source so that a second analysed
    again (after a seek back in the app) replaces what it held instead of counting twice.

    Per second: frames per top emotion, frames facing front and frames with a known head
    direction, time in view, first and last sighting. Arrays grow with
    the lesson's length (an hour of 8 emotions is ~70 KB a student), never with the frame rate."""

    def __init__(self, student_id: int, labels: int) -> None:
        self.student_id = student_id
        self._k = labels
        self._counts = np.zeros((0, labels), np.uint16)
        self._facing = np.zeros((0, 2), np.uint16)  # per second: frames facing front, frames with a known direction
        self._seen = np.zeros(0, np.float32)
        self._first = np.zeros(0, np.float64)
        self._last = np.zeros(0, np.float64)
        self.last_seen_s = -math.inf  # the latest sighting in the current pass (a seek starts a new pass)
        self.last_emotion = 0
        self.travel = 0.0  # the farthest the face moved through the scene, in face widths (tracker's)

    @classmethod
    def combined(cls, student_id: int, parts: list[StudentStats]) -> StudentStats:
        """One student from the summaries of several ids (a student the tracker split in two):
        readings add up; time in view adds up too, at most a whole second per second."""
        out = cls(student_id, parts[0]._k)
        out._grow(max(len(p._seen) for p in parts) - 1)
        for p in parts:
            n = len(p._seen)
            out._counts[:n] += p._counts
            out._facing[:n] += p._facing
            out._seen[:n] += p._seen
            out._first[:n] = np.minimum(out._first[:n], p._first)
            out._last[:n] = np.maximum(out._last[:n], p._last)
        np.minimum(out._seen, 1.0, out=out._seen)
        latest = max(parts, key=lambda p: p.last_seen_s)
        out.last_seen_s, out.last_emotion = latest.last_seen_s, latest.last_emotion
        out.travel = max(p.travel for p in parts)
        return out

    def _grow(self, second: int) -> None:
        if second < len(self._seen):
            return
        size = max(second + 1, 2 * len(self._seen), 64)
        extra = size - len(self._seen)
        self._counts = np.concatenate([self._counts, np.zeros((extra, self._k), np.uint16)])
        self._facing = np.concatenate([self._facing, np.zeros((extra, 2), np.uint16)])
        self._seen = np.concatenate([self._seen, np.zeros(extra, np.float32)])
        self._first = np.concatenate([self._first, np.full(extra, np.inf)])
        self._last = np.concatenate([self._last, np.full(extra, -np.inf)])

    def clear_second(self, second: int) -> None:
        if second < len(self._seen):
            self._counts[second], self._seen[second], self._facing[second] = 0, 0.0, 0
            self._first[second], self._last[second] = np.inf, -np.inf

    def sighted(self, time_s: float, emotion: int | None, travel: float = 0.0, facing: float = math.nan) -> None:
        """Seen at ``time_s``; ``emotion`` is the top emotion read for this frame (``None``: a frame
        not analysed, the face held from the last one: it counts as time in view only); ``facing``
        1 or 0 when the head direction is known (NaN: not)."""
        if travel > self.travel:  # NaN (unknown) never raises it
            self.travel = travel
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
            if not math.isnan(facing):
                self._facing[second, 0] += facing > 0.5
                self._facing[second, 1] += 1

    @property
    def counts(self) -> np.ndarray:
        """Analysed frames per top emotion."""
        return self._counts.sum(axis=0, dtype=np.int64)

    @property
    def frames(self) -> int:
        return int(self._counts.sum())

    def counts_per_second(self) -> np.ndarray:
        """[seconds, labels] analysed frames per top emotion in each second of the source."""
        return self._counts

    def facing_per_second(self) -> np.ndarray:
        """[seconds, 2] analysed frames facing front, and with a known head direction, per second."""
        return self._facing

    @property
    def facing_front_share(self) -> float:
        """Share of the analysed frames with a known head direction where it faced front (NaN: none)."""
        facing, known = self._facing.sum(axis=0, dtype=np.int64)
        return float(facing / known) if known else math.nan

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
    """One second of the source: how many frames were analysed in it, and in which pass."""

    second: int
    frames: int = 0
    pass_id: int = 0


def student_label(student_id: int, name: str | None = None) -> str:
    """``#3`` or ``#3 Ana``: the id always shows, so two students of the same name stay apart."""
    return f"#{student_id} {name}" if name else f"#{student_id}"


class LessonRecord(SinkBase):
    """Accumulates what the outputs need; only confirmed students (id > 0) enter the per-student part.

    Frames not analysed (``faces.held``: the last faces held on a skipped frame) count as time in
    view only. After :meth:`new_pass` (a seek), each second analysed again first forgets what it
    held, so every moment of the source is counted once.

    Reading it: :meth:`student_ids` (every student, merged ids folded in), :meth:`reason` (why one
    is not counted), :meth:`counted_ids`, :meth:`student` (one student's summary), and the class
    per second (:meth:`class_shares`, :meth:`class_faces`), which count the counted students only."""

    every_frame = True

    def __init__(self, labels: list[str], rules: CountRules | None = None) -> None:
        self.labels = list(labels)
        self.rules = rules or CountRules()
        self.students: dict[int, StudentStats] = {}  # raw, per tracker id
        self.seconds: dict[int, SecondStats] = {}
        self.names: dict[int, str] = {}  # student id -> the name a user gave (GUI), used in exports
        self.counted_by_user: dict[int, bool] = {}  # False: hidden (not a student); True: counted regardless
        self.merged_into: dict[int, int] = {}  # an id the user merged -> the id it joined
        self.frames = 0
        self.pass_id = 0
        self._class_cache: tuple[int, np.ndarray, np.ndarray] | None = None
        self._version = 0

    def new_pass(self) -> None:
        """The source jumped (a seek, a replay): seconds seen again replace what they held."""
        self.pass_id += 1
        for st in self.students.values():
            st.last_seen_s = -math.inf

    def write(self, faces: FaceFrame, image_bgr: np.ndarray | None = None) -> None:
        self.add(faces)

    @property
    def length_s(self) -> int:
        """Whole seconds from the start to the end of the last second seen (held ones included)."""
        return max(self.seconds, default=-1) + 1

    def analysed_seconds(self) -> list[int]:
        """The seconds in which at least one frame was analysed (not only held), in order."""
        return sorted(second for second, sec in self.seconds.items() if sec.frames)

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
            sec = self.seconds[second] = SecondStats(second, pass_id=self.pass_id)
        return sec

    def add(self, frame: FaceFrame) -> None:
        k = len(self.labels)
        self._version += 1
        second, held = max(0, math.floor(frame.time_s)), frame.held
        sec = self._second(second)  # a second only held (every frame skipped) is lesson time too
        if not held:
            self.frames += 1
            sec.frames += 1
        probs = frame.probs
        if probs is None or not len(frame):
            return
        top = probs.argmax(axis=1)
        travel, facing = frame.data.get(TRAVEL), frame.data.get(FACING_FRONT)
        for i, (sid, emotion) in enumerate(zip(frame.ids_or_unknown().tolist(), top.tolist(), strict=True)):
            if sid <= 0:
                continue
            st = self.students.get(sid)
            if st is None:
                st = self.students[sid] = StudentStats(sid, k)
            st.sighted(frame.time_s, None if held else emotion, float(travel[i]) if travel is not None else 0.0,
                       float(facing[i]) if facing is not None else math.nan)

    # -- who is a student -------------------------------------------------------------------

    def root(self, student_id: int) -> int:
        """The id ``student_id`` was merged into (itself when not merged)."""
        seen = {student_id}
        while student_id in self.merged_into:
            student_id = self.merged_into[student_id]
            if student_id in seen:  # never built by merge(); a guard for hand-made records
                break
            seen.add(student_id)
        return student_id

    def members(self, student_id: int) -> list[int]:
        """The raw ids that make up one student (itself first, then the ids merged into it)."""
        root = self.root(student_id)
        return [root, *sorted(sid for sid in self.students if sid != root and self.root(sid) == root)]

    def student_ids(self) -> list[int]:
        """Every student (counted or not), each once: merged ids are folded into the one they joined."""
        return sorted({self.root(sid) for sid in self.students})

    def student(self, student_id: int) -> StudentStats:
        """One student's summary, the ids merged into it included (``KeyError`` for an unknown id)."""
        parts = [self.students[sid] for sid in self.members(student_id) if sid in self.students]
        if not parts:
            raise KeyError(student_id)
        return parts[0] if len(parts) == 1 else StudentStats.combined(self.root(student_id), parts)

    def reason(self, student_id: int) -> str:
        """Why a student is not counted (``hidden``, ``walking past``, ``in view only briefly``), or ``""``."""
        root = self.root(student_id)
        by_user = self.counted_by_user.get(root)
        if by_user is not None:
            return "" if by_user else HIDDEN
        return self.rules.reason(self.student(root), len(self.seconds))

    def counted_ids(self) -> list[int]:
        return [sid for sid in self.student_ids() if not self.reason(sid)]

    def set_counted(self, student_id: int, counted: bool | None) -> None:
        """The user's say: False hides a student (not one: a shirt, a poster), True counts one the
        rules leave out, None goes back to the rules."""
        root = self.root(student_id)
        if root not in self.students:
            raise ValueError(f"there is no student #{student_id}.")
        if counted is None:
            self.counted_by_user.pop(root, None)
        else:
            self.counted_by_user[root] = counted
        self._version += 1

    def merge(self, source_id: int, into_id: int) -> None:
        """Two ids of one student: ``source_id``'s time and readings become ``into_id``'s, in the
        past and from now on; the name it had is kept when ``into_id`` has none."""
        source, into = self.root(source_id), self.root(into_id)
        for sid in (source_id, into_id):
            if sid not in self.students:
                raise ValueError(f"there is no student #{sid}.")
        if source == into:
            raise ValueError(f"#{source_id} and #{into_id} are already one student.")
        self.merged_into[source] = into
        if source in self.names and into not in self.names:
            self.names[into] = self.names[source]
        self.names.pop(source, None)
        self.counted_by_user.pop(source, None)
        self._version += 1

    def unmerge(self, source_id: int) -> None:
        """Undo :meth:`merge` of ``source_id`` (and of nothing else merged into the same student)."""
        if self.merged_into.pop(source_id, None) is None:
            raise ValueError(f"#{source_id} was not merged into another student.")
        self._version += 1

    # -- readings ---------------------------------------------------------------------------

    def _class_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Per second, summed over the counted students: [seconds, labels] analysed frames per top
        emotion and [seconds, 2] frames facing front / with a known head direction (cached until
        the record or the roster changes)."""
        if self._class_cache is not None and self._class_cache[0] == self._version:
            return self._class_cache[1], self._class_cache[2]
        length = max([len(st.counts_per_second()) for st in self.students.values()]
                     + [self.length_s])
        counts = np.zeros((length, len(self.labels)), np.int64)
        facing = np.zeros((length, 2), np.int64)
        for root in self.counted_ids():
            for sid in self.members(root):
                st = self.students[sid]
                n = len(st.counts_per_second())
                counts[:n] += st.counts_per_second()
                facing[:n] += st.facing_per_second()
        self._class_cache = (self._version, counts, facing)
        return counts, facing

    def class_counts(self, second: int) -> np.ndarray:
        """Analysed frames per top emotion of the counted students in one second."""
        counts = self._class_tables()[0]
        return counts[second] if 0 <= second < len(counts) else np.zeros(len(self.labels), np.int64)

    def class_facing_front(self, second: int) -> float:
        """Share of the counted students' analysed frames in one second where the head faced front
        (NaN when no head direction was known)."""
        facing = self._class_tables()[1]
        if not 0 <= second < len(facing) or not facing[second, 1]:
            return math.nan
        return float(facing[second, 0] / facing[second, 1])

    def lesson_shares(self) -> tuple[np.ndarray, float]:
        """Over the whole lesson, the counted students' readings: the share of each top emotion, and
        the share facing front (NaN when no head direction was read)."""
        counts, facing = self._class_tables()
        total, (front, known) = counts.sum(axis=0), facing.sum(axis=0)
        shares = total / total.sum() if total.sum() else np.zeros(len(self.labels))
        return shares, float(front / known) if known else math.nan

    def class_shares(self, second: int) -> np.ndarray:
        """Share of the counted students' readings per emotion in one second (zeros when none)."""
        c = self.class_counts(second)
        return c / c.sum() if c.sum() else np.zeros(len(self.labels))

    def class_faces(self, second: int) -> float:
        """Counted students per analysed frame in one second (the class's size, on average)."""
        sec = self.seconds.get(second)
        return float(self.class_counts(second).sum() / sec.frames) if sec and sec.frames else 0.0

    def student_timeline(self, student_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(run starts, run ends, top-emotion indices) of one student, in whole seconds."""
        if self.root(student_id) not in self.students:
            return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
        return self.student(student_id).timeline()

    def student_facing(self, student_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, share of that second's analysed frames facing front) of one student, for the
        seconds where a head direction was read."""
        if self.root(student_id) not in self.students:
            return np.zeros(0), np.zeros(0)
        per_second = self.student(student_id).facing_per_second()
        seconds = np.flatnonzero(per_second[:, 1])
        return seconds.astype(np.float64), per_second[seconds, 0] / per_second[seconds, 1]

    def dominant(self, student_id: int) -> str:
        return self.labels[int(self.student(student_id).counts.argmax())]

    def rename(self, student_id: int, name: str) -> None:
        """Give a student a name (blank removes it); ids stay the join key in every export."""
        student_id = self.root(student_id)
        name = " ".join(name.split())
        if name:
            self.names[student_id] = name
        else:
            self.names.pop(student_id, None)

    def display_name(self, student_id: int) -> str:
        student_id = self.root(student_id)
        return student_label(student_id, self.names.get(student_id))
