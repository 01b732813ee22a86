"""Student identities: one id per student for the whole lesson.

Classroom faces stay roughly in place and are often hidden for a moment (a hand, a turned
head, someone walking past). Association is a standard IoU matching solved with SciPy's
Hungarian algorithm (``linear_sum_assignment``); on top of it, a student lost for up to
``max_lost_s`` seconds who reappears near where they were gets their old id back. A
detection becomes a student only after ``min_hits`` sightings, so a one-frame false
detection never creates an id, and a one-frame detector miss never loses one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment


def _intersections(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return np.clip(br - tl, 0, None).prod(axis=2)


def _areas(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2:] - boxes[:, :2]).prod(axis=1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``xyxy`` boxes, ``[len(a), len(b)]``."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    inter = _intersections(a, b)
    return inter / np.maximum(_areas(a)[:, None] + _areas(b)[None, :] - inter, 1e-9)


def share_inside(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise share of each ``a`` box's area that lies inside each ``b`` box, ``[len(a), len(b)]``
    (1 for a part of a face cut off by a window's edge inside the whole face's box)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    return _intersections(a, b) / np.maximum(_areas(a)[:, None], 1e-9)


@dataclass(eq=False)  # tracks are compared by identity
class Track:
    box: np.ndarray
    first_s: float
    last_s: float
    hits: int = 1
    student_id: int = -1  # assigned once confirmed
    reading: tuple[float, np.ndarray] | None = None  # (time_s, probabilities) read before confirmation

    @property
    def centre(self) -> np.ndarray:
        return (self.box[:2] + self.box[2:]) / 2

    @property
    def size(self) -> float:
        return float(np.sqrt(max((self.box[2:] - self.box[:2]).prod(), 1.0)))


@dataclass
class StudentTracker:
    """Assigns ``student_ids`` (−1 while a face is not yet confirmed) to each frame's boxes."""

    iou_threshold: float = 0.3
    max_lost_s: float = 10.0
    reacquire_distance: float = 1.0  # centre distance, in face sizes, to re-attach a lost student
    min_hits: int = 2
    confirm_window_s: float = 1.0  # an unconfirmed face must be seen again within this time
    tracks: list[Track] = field(default_factory=list)
    next_id: int = 1
    last_tracks: list[Track] = field(default_factory=list)  # the track of each box of the last update

    def update(self, xyxy: np.ndarray, time_s: float) -> np.ndarray:
        """Match this frame's boxes to students; returns one id per box (−1 = not confirmed yet)."""
        boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
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
            track.box, track.last_s, track.hits = boxes[d], time_s, track.hits + 1
            self._confirm(track)
            ids[d] = track.student_id
            owners[d] = track
        matched = {d for _, d in matches}
        for d in range(len(boxes)):
            if d not in matched:
                track = Track(boxes[d], time_s, time_s)
                self._confirm(track)
                self.tracks.append(track)
                ids[d] = track.student_id
                owners[d] = track
        self.last_tracks = [owners[d] for d in range(len(boxes))]
        return ids

    def apply_camera_motion(self, matrix: np.ndarray) -> None:
        """Move every track (lost ones too) with the camera, before this frame's ``update``."""
        if not self.tracks:
            return
        from .motion import warp_boxes

        warped = warp_boxes(np.stack([t.box for t in self.tracks]), matrix)
        for track, box in zip(self.tracks, warped):
            track.box = box

    def _alive(self, track: Track, now: float) -> bool:
        limit = self.max_lost_s if track.student_id > 0 else self.confirm_window_s
        return now - track.last_s <= limit

    def _confirm(self, track: Track) -> None:
        if track.student_id < 0 and track.hits >= self.min_hits:
            track.student_id = self.next_id
            self.next_id += 1

    def _match_iou(self, tracks: list[Track], boxes: np.ndarray, dets: list[int]) -> list[tuple[Track, int]]:
        if not tracks or not dets:
            return []
        iou = box_iou(np.stack([t.box for t in tracks]), boxes[dets])
        rows, cols = linear_sum_assignment(-iou)
        return [(tracks[r], dets[c]) for r, c in zip(rows, cols) if iou[r, c] >= self.iou_threshold]

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
        return [(tracks[r], dets[c]) for r, c in zip(rows, cols) if cost[r, c] <= self.reacquire_distance]
