"""Facing front: whether each head points at the front of the room, within a cone.

The camera can sit anywhere (front corner, back wall, a laptop on the teacher's desk), so the
front is not the camera. Unless the user gives it, the front is learned from the class itself:
the direction most of the class looks in, i.e. the median over students of each student's own
median (yaw, pitch) over the last ``window_s`` seconds (with one student, where they usually
look). A face is facing front when the angle between its head direction and that front is at
most ``cone_deg``.

Limits, said plainly: it is head direction, not gaze (eyes can look elsewhere); with students
spread wide across a room close to the board, the true direction to the board differs from seat
to seat by more than the cone, so side seats read "not facing" more often; when most of the class
looks away together (at a window, at a classmate), that becomes the front for a while.
"""

from __future__ import annotations

from collections import Counter, deque

import numpy as np

from ..core.frame import FACING_FRONT, HEAD_POSE, FaceFrame

DEFAULT_CONE_DEG = 25.0
DEFAULT_WINDOW_S = 120.0
SAMPLE_EVERY_S = 0.5
"""Each student's head direction enters the front's estimate at most this often (every student
weighs the same, whether their face is re-read every frame or once a second)."""


def direction(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Unit vectors (camera axes) of head directions given in degrees (see ``head_pose.py``)."""
    y, p = np.radians(yaw), np.radians(pitch)
    return np.stack([np.sin(y) * np.cos(p), -np.sin(p), -np.cos(y) * np.cos(p)], axis=-1)


def angle_between(yaw: np.ndarray, pitch: np.ndarray, front: tuple[float, float]) -> np.ndarray:
    """Degrees between each head direction and the front (yaw, pitch)."""
    cos = direction(yaw, pitch) @ direction(np.array(front[0]), np.array(front[1]))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


class FacingFrontStage:
    """Fills ``data["facing_front"]`` (1, 0, or NaN where the head pose is unknown)."""

    name = "facing front"

    def __init__(self, cone_deg: float = DEFAULT_CONE_DEG, front: tuple[float, float] | None = None,
                 window_s: float = DEFAULT_WINDOW_S) -> None:
        if not 0 < cone_deg <= 180:
            raise ValueError(f"the facing-front cone must be between 0 and 180 degrees, not {cone_deg}")
        self.cone_deg, self.fixed_front, self.window_s = cone_deg, front, window_s
        self.counts: Counter[str] = Counter()
        self._history: dict[int, deque[tuple[float, float, float]]] = {}  # student -> (time, yaw, pitch)
        self._learned: tuple[float, tuple[float, float] | None] = (-np.inf, None)  # (when, front)

    def front(self, now: float) -> tuple[float, float] | None:
        """The (yaw, pitch) of the front: the user's, or learned from the class (None: nothing yet);
        relearned at most once a second (medians over a window move slowly)."""
        if self.fixed_front is not None:
            return self.fixed_front
        when, learned = self._learned
        if learned is not None and 0 <= now - when < 1.0:
            return learned
        learned = self._learn(now)
        self._learned = (now, learned)
        return learned

    def _learn(self, now: float) -> tuple[float, float] | None:
        medians = []
        for history in self._history.values():
            while history and now - history[0][0] > self.window_s:
                history.popleft()
            if history:
                samples = np.array(history)
                medians.append(np.median(samples[:, 1:], axis=0))
        if not medians:
            return None
        yaw, pitch = np.median(np.array(medians), axis=0)
        return float(yaw), float(pitch)

    def __call__(self, faces: FaceFrame, image_bgr: np.ndarray) -> FaceFrame:
        pose = faces.data.get(HEAD_POSE)
        out = np.full(len(faces), np.nan, np.float32)
        if pose is None or not len(faces):
            faces.data[FACING_FRONT] = out
            return faces
        # faces of one photo have no ids: each is its own "student" for learning the front
        ids = faces.student_ids if faces.student_ids is not None else np.arange(1, len(faces) + 1)
        known = np.isfinite(pose[:, :2]).all(axis=1)
        for i in np.flatnonzero(known & (ids > 0)):
            # each student's (smoothed) direction sampled at a steady pace, however often it is read
            history = self._history.setdefault(int(ids[i]), deque())
            if not history or not 0 <= faces.time_s - history[-1][0] < SAMPLE_EVERY_S:
                history.append((faces.time_s, float(pose[i, 0]), float(pose[i, 1])))
        front = self.front(faces.time_s)
        if front is not None and known.any():
            out[known] = angle_between(pose[known, 0], pose[known, 1], front) <= self.cone_deg
        faces.data[FACING_FRONT] = out
        return faces

    def reset(self) -> None:
        """A seek or replay: where the front is does not change, so the history stays; only the
        cached estimate is dropped (time may have gone back)."""
        self._learned = (-np.inf, None)
