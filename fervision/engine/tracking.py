"""Student identities: one id per student for the whole lesson.

Classroom faces stay roughly in place and are often hidden for a moment (a hand, a turned
head, someone walking past). Association is a standard IoU matching solved with SciPy's
Hungarian algorithm (``linear_sum_assignment``); on top of it, a student lost for up to
``max_lost_s`` seconds who reappears near where they were gets their old id back. A
detection becomes a student only after ``min_hits`` sightings, so a one-frame false
detection never creates an id, and a one-frame detector miss never loses one; a caller may also
have it looked at once more then (``check``: :class:`~fervision.engine.second_look.SecondLook`),
and a face refused there gets the id :data:`NOT_A_FACE` until a later look accepts it.

Each track also measures how far its face moved through the scene: where it was first seen
is carried along with the camera like its box, so the distance from there (in face sizes) is the
face's own motion. Students sit; the teacher or someone walking past travels.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..core.boxes import box_iou, warp_boxes

_track_keys = itertools.count(1)

NOT_A_FACE = 0
"""The id of a box whose track the second look refused (students are numbered from 1)."""

FaceCheck = Callable[[np.ndarray], np.ndarray]
"""Boxes ``[N, 4]`` about to become students → one bool per box: is it a face?"""


def _size(box: np.ndarray) -> float:
    """A box's face size, sqrt(w·h)."""
    return float(np.sqrt(max((box[2:] - box[:2]).prod(), 1.0)))


@dataclass(eq=False)  # tracks are compared by identity
class Track:
    box: np.ndarray
    first_s: float
    last_s: float
    hits: int = 1
    student_id: int = -1  # assigned once confirmed
    key: int = field(default_factory=lambda: next(_track_keys))  # unique per track, confirmed or not
    refused_s: float = -math.inf  # when the second look last refused it
    travel: float = 0.0  # the farthest its centre has been from ``origin``'s, in face sizes
    origin: np.ndarray = field(init=False)  # the box when first seen, moved with the camera since

    def __post_init__(self) -> None:
        self.origin = self.box

    def moved_to(self, box: np.ndarray, time_s: float) -> None:
        """Seen again at ``box``. Travel is counted in the larger of the face's sizes then and now,
        so a face half hidden (a smaller box, its centre shifted) does not seem to move far."""
        self.box, self.last_s, self.hits = box, time_s, self.hits + 1
        start = (self.origin[:2] + self.origin[2:]) / 2
        size = max(self.size, _size(self.origin))
        self.travel = max(self.travel, float(np.linalg.norm(self.centre - start)) / size)

    @property
    def centre(self) -> np.ndarray:
        return (self.box[:2] + self.box[2:]) / 2

    @property
    def size(self) -> float:
        return _size(self.box)


@dataclass
class StudentTracker:
    """Assigns ``student_ids`` (−1 while a face is not yet confirmed) to each frame's boxes."""

    iou_threshold: float = 0.3
    max_lost_s: float = 10.0
    reacquire_distance: float = 1.0  # centre distance, in face sizes, to re-attach a lost student
    min_hits: int = 2
    confirm_window_s: float = 1.0  # an unconfirmed face must be seen again within this time
    recheck_s: float = 1.0  # a face the check refused is checked again at most this often
    tracks: list[Track] = field(default_factory=list)
    next_id: int = 1
    _last: list[Track] = field(default_factory=list, init=False, repr=False)  # the track of each box last update
    _rebase: bool = field(default=False, init=False, repr=False)

    def update(self, xyxy: np.ndarray, time_s: float, check: FaceCheck | None = None) -> np.ndarray:
        """Match this frame's boxes to students; returns one id per box (−1 = not confirmed yet,
        :data:`NOT_A_FACE` = refused by ``check``, which is asked before a face gets its id)."""
        boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
        if self._rebase:
            for track in self.tracks:
                track.last_s = time_s
            self._rebase = False
        self.tracks = [t for t in self.tracks if self._alive(t, time_s)]
        ids = np.full(len(boxes), -1, np.int64)
        owners: dict[int, Track] = {}
        unmatched = list(range(len(boxes)))
        recent = [t for t in self.tracks if time_s - t.last_s <= self.confirm_window_s]
        matches = self._match_iou(recent, boxes, unmatched)
        # Students not matched by overlap (hidden, partly covered, or back after a while) are
        # looked for near where they were before a detection is allowed to start a new id.
        taken = {id(t) for t, _ in matches}
        waiting = [t for t in self.tracks if id(t) not in taken and t.student_id > 0]
        matches += self._match_distance(waiting, boxes, [d for d in unmatched if d not in {m[1] for m in matches}])
        for track, d in matches:
            track.moved_to(boxes[d], time_s)
            owners[d] = track
        for d in range(len(boxes)):
            if d not in owners:
                owners[d] = Track(boxes[d], time_s, time_s)
                self.tracks.append(owners[d])
        self._last = [owners[d] for d in range(len(boxes))]
        self._confirm(self._last, time_s, check)
        for d, track in enumerate(self._last):
            refused = track.student_id < 0 and track.refused_s > -math.inf
            ids[d] = NOT_A_FACE if refused else track.student_id
        return ids

    def last_keys(self) -> np.ndarray:
        """The track key of each box of the last ``update``, in its order (held boxes keep that order)."""
        return np.array([t.key for t in self._last], np.int64)

    def last_travel(self) -> np.ndarray:
        """How far each box of the last ``update`` has moved through the scene since its track was
        first seen, at most so far, in face sizes (NaN for a face not confirmed yet)."""
        return np.array([t.travel if t.student_id > 0 else np.nan for t in self._last], np.float32)

    def rebase(self) -> None:
        """The video jumped (a seek, a replay): keep every confirmed student, to be re-found where
        they sit, as if last seen at the next update's time; forget faces not confirmed yet."""
        self.tracks = [t for t in self.tracks if t.student_id > 0]
        self._last = []
        self._rebase = True

    def retire_all(self) -> None:
        """The shot changed (a cut): the faces of the new shot are other students, or the same
        ones elsewhere in the frame, so every track ends; ids go on from ``next_id``."""
        self.tracks, self._last, self._rebase = [], [], False

    def apply_camera_motion(self, matrix: np.ndarray) -> None:
        """Move every track (lost ones too, and where each was first seen) with the camera, before
        this frame's ``update``."""
        if not self.tracks:
            return
        warped = warp_boxes(np.stack([t.box for t in self.tracks]), matrix)
        origins = warp_boxes(np.stack([t.origin for t in self.tracks]), matrix)
        for track, box, origin in zip(self.tracks, warped, origins, strict=False):
            track.box, track.origin = box, origin

    def _alive(self, track: Track, now: float) -> bool:
        limit = self.max_lost_s if track.student_id > 0 else self.confirm_window_s
        return now - track.last_s <= limit

    def _confirm(self, tracks: list[Track], time_s: float, check: FaceCheck | None) -> None:
        """Give ids, in box order, to the tracks seen often enough that ``check`` (if any) accepts."""
        due = [t for t in tracks if t.student_id < 0 and t.hits >= self.min_hits
               and time_s - t.refused_s >= self.recheck_s]
        if not due:
            return
        faces = np.ones(len(due), bool) if check is None else check(np.stack([t.box for t in due]))
        for track, face in zip(due, faces, strict=True):
            if face:
                track.student_id, self.next_id = self.next_id, self.next_id + 1
            else:
                track.refused_s = time_s

    def _match_iou(self, tracks: list[Track], boxes: np.ndarray, dets: list[int]) -> list[tuple[Track, int]]:
        if not tracks or not dets:
            return []
        iou = box_iou(np.stack([t.box for t in tracks]), boxes[dets])
        rows, cols = linear_sum_assignment(-iou)
        return [(tracks[r], dets[c]) for r, c in zip(rows, cols, strict=False) if iou[r, c] >= self.iou_threshold]

    def _match_distance(self, tracks: list[Track], boxes: np.ndarray, dets: list[int]) -> list[tuple[Track, int]]:
        if not tracks or not dets:
            return []
        det_centres = (boxes[dets, :2] + boxes[dets, 2:]) / 2
        det_sizes = np.sqrt(np.clip((boxes[dets, 2:] - boxes[dets, :2]).prod(axis=1), 1, None))
        cost = np.empty((len(tracks), len(dets)), np.float32)
        for i, t in enumerate(tracks):
            dist = np.linalg.norm(det_centres - t.centre, axis=1) / t.size
            ratio = det_sizes / t.size
            cost[i] = np.where((ratio > 0.5) & (ratio < 2.0), dist, np.inf)
        finite = np.where(np.isfinite(cost), cost, 1e6)
        rows, cols = linear_sum_assignment(finite)
        return [(tracks[r], dets[c]) for r, c in zip(rows, cols, strict=False) if cost[r, c] <= self.reacquire_distance]
