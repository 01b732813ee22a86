"""Wires the stops of the video road for one frame: detect → track → crop → recognise → smooth.

The processing itself is plain sequential code; decoding and encoding run on their own
threads (see ``sources.py`` and ``outputs/video.py``).
"""

from __future__ import annotations

import time
from collections import defaultdict

import cv2
import numpy as np

from ..recognizer import ExpressionRecognizer
from .detectors import FaceDetector
from .detectors.tiling import detect_in_windows, windows_around
from .frame import FaceFrame, crop_faces
from .motion import CameraMotion, warp_boxes
from .scheduler import RecognitionScheduler
from .smoothing import ProbabilitySmoother
from .sources import VideoFrame
from .tracking import StudentTracker, Track, share_inside


class Pipeline:
    """Turns each :class:`VideoFrame` into a :class:`FaceFrame` with ids and smoothed probabilities.

    ``timings`` accumulates seconds per stage (detect, track, recognise) and ``counts`` the work
    done (detector runs, recognition batches, faces read) for ``fervision bench``;
    ``camera_motion`` (for videos) carries the tracks along with a panning or zooming camera.
    """

    MAX_WINDOW_SHARE = 0.5
    """Above this share of the frame, windows around new faces cost about a full detection."""

    def __init__(
        self,
        detector: FaceDetector,
        recognizer: ExpressionRecognizer,
        tracker: StudentTracker | None = None,
        smoother: ProbabilitySmoother | None = None,
        scheduler: RecognitionScheduler | None = None,
        camera_motion: CameraMotion | None = None,
        detect_every: int = 1,
    ) -> None:
        """``detect_every=N`` runs the detector on every N-th frame only; frames in between reuse
        the last detection's boxes and ids (students sit still; the detector is the costliest stage)."""
        if detect_every < 1:
            raise ValueError("detect_every must be >= 1")
        self.detector = detector
        self.recognizer = recognizer
        self.tracker = tracker or StudentTracker()
        self.smoother = smoother or ProbabilitySmoother()
        self.scheduler = scheduler or RecognitionScheduler()
        self.camera_motion = camera_motion
        self.detect_every = detect_every
        self._frames = 0
        self._last: FaceFrame | None = None
        self.timings: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    @property
    def labels(self) -> list[str]:
        return self.recognizer.labels

    def process(self, frame: VideoFrame) -> FaceFrame:
        t0 = time.perf_counter()
        motion = None
        if self.camera_motion is not None:
            motion = self.camera_motion.estimate(frame.image)
            self.tracker.apply_camera_motion(motion)
        t1 = time.perf_counter()
        scheduled = self._last is None or self._frames % self.detect_every == 0
        self._frames += 1
        if scheduled:
            faces = self.detector(frame.image)
            self.counts["detector runs"] += 1
        else:
            faces = self._reuse_last(motion)
            if (faces.student_ids < 0).any():
                # A face not confirmed yet is looked for again at once, so a new student gets
                # an id now rather than detect_every frames later: only around it, not in the
                # whole frame (a fraction of the cost).
                faces = self._detect_near_new_faces(frame.image, faces)
        detected = faces.student_ids is None  # fresh detections carry no ids yet
        faces.time_s, faces.index, faces.labels = frame.time_s, frame.index, self.labels
        t2 = time.perf_counter()
        if detected:
            faces.student_ids = self.tracker.update(faces.xyxy, frame.time_s)
        t3 = time.perf_counter()
        # held frames reuse the last update's boxes in order, so its tracks fit them too
        faces.probs = self._recognise(frame, faces, self.tracker.last_tracks)
        t4 = time.perf_counter()
        self._last = faces
        self.timings["detect"] += t2 - t1
        self.timings["track"] += (t1 - t0) + (t3 - t2)
        self.timings["recognise"] += t4 - t3
        return faces

    def _detect_near_new_faces(self, image: np.ndarray, held: FaceFrame) -> FaceFrame:
        """Confirmed faces keep their held boxes (the tracker counts them as seen in this frame);
        the detector runs in windows around the unconfirmed ones (or on the whole frame when the
        windows would cover most of it)."""
        new = held.student_ids < 0
        h, w = image.shape[:2]
        windows = windows_around(held.xyxy[new], w, h)
        if sum((x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in windows) > self.MAX_WINDOW_SHARE * w * h:
            self.counts["detector runs"] += 1
            return self.detector(image)
        self.counts["window detector runs"] += 1
        found = detect_in_windows(self.detector, image, windows)
        kept = ~new
        if len(found) and kept.any():  # a confirmed face seen (wholly or cut off) in a window is already held
            found_again = share_inside(found.xyxy, held.xyxy[kept]).max(axis=1) >= 0.5
            found.xyxy, found.confidence = found.xyxy[~found_again], found.confidence[~found_again]
        return FaceFrame(xyxy=np.concatenate([held.xyxy[kept], found.xyxy]),
                         confidence=np.concatenate([held.confidence[kept], found.confidence]))

    def restart(self) -> None:
        """Forget the faces in view (after a seek or a new source); student numbering goes on."""
        self.tracker.tracks.clear()
        self.smoother = ProbabilitySmoother(self.smoother.tau_s)
        self.scheduler = RecognitionScheduler(self.scheduler.max_per_frame, self.scheduler.max_age_s,
                                              self.scheduler.coalesce)
        if self.camera_motion is not None:
            self.camera_motion = CameraMotion()
        self._frames = 0
        self._last = None

    def _reuse_last(self, motion: np.ndarray | None) -> FaceFrame:
        """The last frame's faces and ids, moved with the camera when its motion is tracked."""
        last = self._last
        xyxy = last.xyxy.copy() if motion is None else warp_boxes(last.xyxy, motion)
        return FaceFrame(xyxy=xyxy, confidence=last.confidence.copy(), student_ids=last.student_ids.copy())

    def _recognise(self, frame: VideoFrame, faces: FaceFrame, tracks: list[Track]) -> np.ndarray:
        k = len(self.labels)
        probs = np.full((len(faces), k), 1.0 / k, np.float32)
        if not len(faces):
            return probs
        self._adopt_first_readings(faces, tracks)
        chosen = self.scheduler.select(faces.student_ids, frame.time_s)
        if len(chosen):
            crops = crop_faces(frame.image, faces.xyxy[chosen], self.recognizer.meta.preprocessing.crop_margin)
            fresh = self.recognizer.predict([cv2.cvtColor(c, cv2.COLOR_BGR2RGB) for c in crops])
            self.counts["recognition batches"] += 1
            self.counts["faces read"] += len(chosen)
            for row, i in enumerate(chosen):
                sid = int(faces.student_ids[i])
                if sid > 0:
                    probs[i] = self.smoother.update(sid, fresh[row], frame.time_s)
                else:
                    probs[i] = fresh[row]
                    tracks[i].reading = (frame.time_s, fresh[row])
        fresh_rows = set(chosen.tolist())
        for i, sid in enumerate(faces.student_ids):
            if i not in fresh_rows and sid > 0:
                previous = self.smoother.get(int(sid))
                if previous is not None:
                    probs[i] = previous
        return probs

    def _adopt_first_readings(self, faces: FaceFrame, tracks: list[Track]) -> None:
        """A face read while unconfirmed keeps that reading as the new student's first one, so
        confirmation does not read the same face again in a batch of one (costly on a CPU)."""
        for sid, track in zip(faces.student_ids.tolist(), tracks):
            if sid > 0 and track.reading is not None:
                read_s, probs = track.reading
                track.reading = None
                if self.scheduler.adopt(sid, read_s):
                    self.smoother.update(sid, probs, read_s)
