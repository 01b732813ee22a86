"""The stages that find and follow faces: camera motion, detection, tracking.

A stage is called with the frame's faces and its pixels and returns the faces: it fills in its
fields on the frame it is given (the tracker writes ``student_ids``), or returns a slice when it
drops faces. ``reset()`` forgets the faces in view (a seek, a new source). ``counts`` is the work
it did, for ``fervision bench``. The pipeline (``pipeline.py``) is an ordered list of them.

Some stages hold what they saw (boxes, tracks, the last frame); stages that know something about
the video as a whole tell them: :class:`FollowCameraStage` moves it with the camera
(``follow_camera``), :class:`SceneCutStage` makes them forget it at a cut (``new_shot``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Protocol

import numpy as np

from ..core.boxes import share_inside, warp_boxes
from ..core.frame import TRACK_KEY, TRAVEL, FaceFrame
from .cuts import CutDetector
from .detectors import FaceDetector
from .detectors.tiling import detect_in_windows, windows_around
from .motion import CameraMotion
from .second_look import SecondLook
from .tracking import NOT_A_FACE, StudentTracker


class Stage(Protocol):
    name: str
    counts: Counter[str]

    def __call__(self, faces: FaceFrame, image_bgr: np.ndarray) -> FaceFrame: ...

    def reset(self) -> None: ...


class DetectStage:
    """Finds faces on every ``every``-th frame; frames in between hold the last boxes and ids.

    Students sit still and the detector is the costliest stage, so holding is cheap and safe.
    A held face not confirmed yet is looked for again at once, only in a window around it, so a
    new student gets an id now rather than ``every`` frames later.
    """

    name = "detect"
    MAX_WINDOW_SHARE = 0.5
    """Above this share of the frame, windows around new faces cost about a full detection."""

    def __init__(self, detector: FaceDetector, every: int = 1) -> None:
        if every < 1:
            raise ValueError("detect every N frames needs N >= 1")
        self.detector, self.every = detector, every
        self.counts: Counter[str] = Counter()
        self._frames = 0
        self._last: FaceFrame | None = None  # the frame returned last; the tracker writes its ids onto it

    def __call__(self, faces: FaceFrame, image_bgr: np.ndarray) -> FaceFrame:
        last = self._last
        scheduled = last is None or last.student_ids is None or self._frames % self.every == 0
        self._frames += 1
        if scheduled or last is None or last.student_ids is None:
            found = self.detector(image_bgr)
            self.counts["detector runs"] += 1
        else:
            found = FaceFrame(xyxy=last.xyxy.copy(), confidence=last.confidence.copy(),
                              student_ids=last.student_ids.copy())
            if bool(np.any(last.student_ids < 0)):
                found = self._detect_near_new_faces(image_bgr, found)
        found.time_s, found.index, found.labels = faces.time_s, faces.index, faces.labels
        self._last = found
        return found

    def follow_camera(self, matrix: np.ndarray) -> None:
        """Move the held boxes with the camera (see :class:`FollowCameraStage`)."""
        if self._last is not None:  # a new frame: the one returned last may still be read by sinks
            self._last = replace(self._last, xyxy=warp_boxes(self._last.xyxy, matrix))

    def reset(self) -> None:
        self._frames, self._last = 0, None

    def new_shot(self) -> None:
        """A cut: the held boxes belong to the old shot; this frame is detected afresh."""
        self.reset()

    def _detect_near_new_faces(self, image: np.ndarray, held: FaceFrame) -> FaceFrame:
        """Confirmed faces keep their held boxes (the tracker counts them as seen in this frame);
        the detector runs in windows around the unconfirmed ones (or on the whole frame when the
        windows would cover most of it). The result carries no ids: the tracker matches it."""
        assert held.student_ids is not None
        new = held.student_ids < 0
        h, w = image.shape[:2]
        windows = windows_around(held.xyxy[new], w, h)
        if sum((x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in windows) > self.MAX_WINDOW_SHARE * w * h:
            self.counts["detector runs"] += 1
            return self.detector(image)
        self.counts["window detector runs"] += 1
        found = detect_in_windows(self.detector, image, windows)
        kept = held[~new]
        kept.student_ids = None
        if len(found) and len(kept):  # a confirmed face seen (wholly or cut off) in a window is already held
            found = found[share_inside(found.xyxy, kept.xyxy).max(axis=1) < 0.5]
        return FaceFrame.merge([kept, found])


class TrackStage:
    """Writes ``student_ids``, ``data["track_key"]`` (one key per track, confirmed or not) and
    ``data["travel"]`` (how far each student moved through the scene, in face sizes).

    With a ``second_look``, a face about to get its id is looked at again first; the faces it
    refuses are not faces and leave the frame here, so no later stage or output sees them.
    """

    name = "track"

    def __init__(self, tracker: StudentTracker, second_look: SecondLook | None = None) -> None:
        self.tracker, self.second_look = tracker, second_look
        self.counts: Counter[str] = Counter()

    def __call__(self, faces: FaceFrame, image_bgr: np.ndarray) -> FaceFrame:
        if faces.student_ids is None:  # fresh detections
            check = None if self.second_look is None else lambda boxes: self._look_again(image_bgr, boxes)
            faces.student_ids = self.tracker.update(faces.xyxy, faces.time_s, check)
        # held boxes come in the last update's order, so its tracks fit them too
        faces.data[TRACK_KEY] = self.tracker.last_keys()
        faces.data[TRAVEL] = self.tracker.last_travel()
        refused = faces.student_ids == NOT_A_FACE
        return faces[~refused] if refused.any() else faces

    def _look_again(self, image_bgr: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        assert self.second_look is not None
        faces = self.second_look.look(image_bgr, boxes)
        self.counts["second looks"] += len(faces)
        self.counts["refused as not a face"] += int((~faces).sum())
        return faces

    def follow_camera(self, matrix: np.ndarray) -> None:
        self.tracker.apply_camera_motion(matrix)

    def reset(self) -> None:
        self.tracker.rebase()

    def new_shot(self) -> None:
        """A cut: every track ends, so the new shot's faces get new ids (never those of the old one)."""
        self.tracker.retire_all()


class FollowCameraStage:
    """Estimates the camera's motion since the last frame and moves what the given stages hold
    (the held boxes, every track, lost ones too) along with it, before they see this frame."""

    name = "camera motion"

    def __init__(self, followers: list[DetectStage | TrackStage], motion: CameraMotion | None = None) -> None:
        self.followers = followers
        self.motion = motion or CameraMotion()
        self.counts: Counter[str] = Counter()

    def __call__(self, faces: FaceFrame, image_bgr: np.ndarray) -> FaceFrame:
        matrix = self.motion.estimate(image_bgr)
        for follower in self.followers:
            follower.follow_camera(matrix)
        return faces

    def reset(self) -> None:
        self.motion = CameraMotion()

    def new_shot(self) -> None:
        self.reset()


class SceneCutStage:
    """Finds hard cuts between shots (:class:`~fervision.engine.cuts.CutDetector`, ~0.3 ms a 720p
    frame) and tells the stages that hold faces to forget them, so the new shot's faces get new
    ids. Goes first. A seek (``reset``) is not a cut: it forgets only the frame it compares with."""

    name = "scene cut"

    def __init__(self, followers: list[DetectStage | TrackStage | FollowCameraStage],
                 detector: CutDetector | None = None) -> None:
        self.followers = followers
        self.detector = detector or CutDetector()
        self.counts: Counter[str] = Counter()

    def __call__(self, faces: FaceFrame, image_bgr: np.ndarray) -> FaceFrame:
        if self.detector.is_cut(image_bgr):
            self.counts["scene cuts"] += 1
            for follower in self.followers:
                follower.new_shot()
        return faces

    def reset(self) -> None:
        self.detector.reset()
