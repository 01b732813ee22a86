"""The head-pose signal: where each face points (yaw, pitch, roll) and how open its eyes are.

Read on the same faces, in the same batch and at the same cadence as the expression (the read
stage calls every signal on the faces the scheduler picks). Landmarks come from MediaPipe's
FaceMesh on each face's crop (``engine/face_mesh.py``; 478 points, eyelids included), and where
FaceMesh finds no face (small, blurred or turned faces) from YuNet's five points
(``engine/five_points.py``); the angles from a generic 3-D face fitted to them
(``engine/head_pose.py``). ``fervision bench pose`` chose this default: FaceMesh alone gives a pose
to 62 % of ``wider_classroom``'s faces >= 24 px, both 97 %. Eyes open needs FaceMesh's eyelids. A
face neither finds (the back of a head, a hand) is unknown: blank cells, no overlay mark.

``faces.csv`` gets ``yaw,pitch,roll,eyes_open,facing_front``; ``facing_front`` is filled later
in the pipeline (``engine/facing.py``: it needs the whole class to know where the front is).
"""

from __future__ import annotations

import math

import numpy as np

from ...core.frame import EYES_OPEN, FACING_FRONT, HEAD_POSE, FaceFrame
from ..face_mesh import FaceMeshReader
from ..five_points import FivePointReader
from ..head_pose import FIVE_POINT_MODEL, MESH_MODEL, MESH_POINTS, eyes_open, solve_pose
from .registry import register_signal

COLUMNS = ["yaw", "pitch", "roll", "eyes_open", "facing_front"]
LANDMARKS = ("facemesh+yunet", "facemesh", "yunet")
"""Where the landmarks come from: FaceMesh with YuNet's five points where it finds none, or either alone."""
DEFAULT_POSE_LANDMARKS = "yunet"
"""``fervision bench pose`` (README): the five points read as many classroom faces (94 % vs 95 %)
as FaceMesh-else-five-points in a quarter of the time (3.7 vs 14.9 ms per face on 2 cores), with a
coarser direction (median mirror error 5.3° vs 3.2°) and no ``eyes_open``. On
``classroom_pan_720p.mp4`` the recognise stage took 4.4–4.5 ms per frame without pose, 7.1–7.3
with the five points and 13.5 with FaceMesh (``bench video``). Pose is read as often as the
expression, so on a GPU (every face, every frame) FaceMesh's cost on the CPU would be paid on
every face of every frame."""


class HeadPoseReader:
    """``read(image_bgr, xyxy)`` → ([n, 3] yaw, pitch, roll; [n] eyes open), NaN where unknown."""

    def __init__(self, landmarks: str = DEFAULT_POSE_LANDMARKS) -> None:
        if landmarks not in LANDMARKS:
            raise ValueError(f"head-pose landmarks must be one of {', '.join(LANDMARKS)}, not {landmarks!r}")
        self.landmarks = landmarks
        self.mesh = FaceMeshReader() if "facemesh" in landmarks else None
        self.five = FivePointReader() if "yunet" in landmarks else None

    def read(self, image_bgr: np.ndarray, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(xyxy)
        poses, eyes = np.full((n, 3), np.nan, np.float32), np.full(n, np.nan, np.float32)
        height, width = image_bgr.shape[:2]
        missing = np.ones(n, bool)
        if self.mesh is not None and n:
            for i, mesh in enumerate(self.mesh.read(image_bgr, xyxy)):
                if np.isfinite(mesh[0, 0]):
                    poses[i] = solve_pose(mesh[list(MESH_POINTS)], MESH_MODEL, (width, height))
                    eyes[i] = eyes_open(mesh)
                    missing[i] = False
        if self.five is not None and missing.any():
            rows = np.flatnonzero(missing)
            for i, points in zip(rows, self.five.read(image_bgr, np.asarray(xyxy)[rows]), strict=True):
                if np.isfinite(points).all():
                    poses[i] = solve_pose(points, FIVE_POINT_MODEL, (width, height))
        return poses, eyes


class HeadPoseSignal:
    name = "head_pose"
    keys: tuple[str, ...] = (HEAD_POSE, EYES_OPEN)
    smoothed: tuple[str, ...] = (HEAD_POSE, EYES_OPEN)

    def __init__(self, reader: HeadPoseReader | None = None) -> None:
        """Without a ``reader`` it only formats (columns, overlay text) and cannot read."""
        self.reader = reader

    def unknown(self, n: int) -> dict[str, np.ndarray]:
        return {HEAD_POSE: np.full((n, 3), np.nan, np.float32), EYES_OPEN: np.full(n, np.nan, np.float32)}

    def read(self, image_bgr: np.ndarray, faces: FaceFrame) -> dict[str, np.ndarray]:
        if self.reader is None:
            raise RuntimeError("this head-pose signal was built without a landmark reader")
        poses, eyes = self.reader.read(image_bgr, faces.xyxy)
        return {HEAD_POSE: poses, EYES_OPEN: eyes}

    def columns(self) -> list[str]:
        return list(COLUMNS)

    def cells(self, faces: FaceFrame, i: int) -> list[str]:
        pose = faces.data.get(HEAD_POSE)
        eyes = faces.data.get(EYES_OPEN)
        front = faces.data.get(FACING_FRONT)
        angles = [_cell(None if pose is None else pose[:, k], i, "{:.1f}") for k in range(3)]
        return [*angles, _cell(eyes, i, "{:.2f}"), _cell(front, i, "{:.0f}")]

    def overlay_text(self, faces: FaceFrame, i: int) -> str:
        """Nothing: the overlay draws head direction as a mark, not as text (``outputs/overlay.py``)."""
        return ""


def _cell(values: np.ndarray | None, i: int, form: str) -> str:
    if values is None or math.isnan(float(values[i])):
        return ""
    return form.format(float(values[i]))


@register_signal("head_pose")
def head_pose_signal(head_pose_landmarks: str = DEFAULT_POSE_LANDMARKS, **_: object) -> HeadPoseSignal:
    """FaceMesh (a few MB of TensorFlow Lite; no torch) and YuNet are loaded here."""
    return HeadPoseSignal(HeadPoseReader(head_pose_landmarks))
