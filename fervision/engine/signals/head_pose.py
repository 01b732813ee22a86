"""The head-pose signal: where each face points (yaw, pitch, roll) and how open its eyes are.

Read on the same faces, in the same batch and at the same cadence as the expression (the read
stage calls every signal on the faces the scheduler picks). Landmarks come from MediaPipe's
FaceMesh on each face's crop (``engine/face_mesh.py``; 478 points, eyelids included) and the
angles from a generic 3-D face fitted to six of them (``engine/head_pose.py``). A face where
FaceMesh finds no face (the back of a head, a hand) is unknown: blank cells, no overlay mark.

``faces.csv`` gets ``yaw,pitch,roll,eyes_open,facing_front``; ``facing_front`` is filled later
in the pipeline (``engine/facing.py``: it needs the whole class to know where the front is).
"""

from __future__ import annotations

import math

import numpy as np

from ...core.frame import EYES_OPEN, FACING_FRONT, HEAD_POSE, FaceFrame
from ..face_mesh import FaceMeshReader
from ..head_pose import MESH_MODEL, MESH_POINTS, eyes_open, solve_pose
from .registry import register_signal

COLUMNS = ["yaw", "pitch", "roll", "eyes_open", "facing_front"]


class HeadPoseSignal:
    name = "head_pose"
    keys: tuple[str, ...] = (HEAD_POSE, EYES_OPEN)
    smoothed: tuple[str, ...] = (HEAD_POSE, EYES_OPEN)

    def __init__(self, reader: FaceMeshReader | None = None) -> None:
        """Without a ``reader`` it only formats (columns, overlay text) and cannot read."""
        self.reader = reader

    def unknown(self, n: int) -> dict[str, np.ndarray]:
        return {HEAD_POSE: np.full((n, 3), np.nan, np.float32), EYES_OPEN: np.full(n, np.nan, np.float32)}

    def read(self, image_bgr: np.ndarray, faces: FaceFrame) -> dict[str, np.ndarray]:
        if self.reader is None:
            raise RuntimeError("this head-pose signal was built without a landmark reader")
        values = self.unknown(len(faces))
        if not len(faces):
            return values
        height, width = image_bgr.shape[:2]
        for i, mesh in enumerate(self.reader.read(image_bgr, faces.xyxy)):
            if np.isnan(mesh[0, 0]):
                continue
            values[HEAD_POSE][i] = solve_pose(mesh[list(MESH_POINTS)], MESH_MODEL, (width, height))
            values[EYES_OPEN][i] = eyes_open(mesh)
        return values

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
def head_pose_signal(**_: object) -> HeadPoseSignal:
    """FaceMesh is loaded here (a few MB of TensorFlow Lite; no torch)."""
    return HeadPoseSignal(FaceMeshReader())
