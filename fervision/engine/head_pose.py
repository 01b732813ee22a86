"""Head direction from facial landmarks: yaw, pitch and roll in degrees, and how open the eyes are.

The pose is the rotation that best maps a generic 3-D face (average adult proportions, in mm,
nose tip at the origin) onto the landmarks found in the image: OpenCV's ``solvePnP`` with a
pinhole camera whose focal length is the frame's width (a webcam's or a phone's field of view;
the angles barely depend on it for faces far smaller than the frame).

Sign conventions, as the student would say them: **yaw > 0** when the student turns to their
left (their nose moves to the right of the picture), **pitch > 0** when they look up, **roll > 0**
when their head tilts towards their left shoulder (to the right of the picture). A face looking
straight into the camera is (0, 0, 0).

The model's axes: x to the student's left, y down, z into the head (a face looking into the
camera has the model's axes parallel to the camera's: x right, y down, z away from the lens).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Five points, in the order YuNet returns them: the student's right eye centre (left of the
# picture), left eye centre, nose tip, right mouth corner, left mouth corner.
FIVE_POINT_MODEL = np.array([
    [-31.0, -33.0, 27.0],
    [31.0, -33.0, 27.0],
    [0.0, 0.0, 0.0],
    [-24.0, 31.0, 22.0],
    [24.0, 31.0, 22.0],
], np.float64)

# Six points of MediaPipe's FaceMesh (its landmark indices) and where they sit on the same face:
# nose tip, chin, the outer corners of the right and left eye, the right and left mouth corners.
MESH_POINTS = (1, 152, 33, 263, 61, 291)
MESH_MODEL = np.array([
    [0.0, 0.0, 0.0],
    [0.0, 64.0, 14.0],
    [-44.0, -34.0, 34.0],
    [44.0, -34.0, 34.0],
    [-25.0, 30.0, 22.0],
    [25.0, 30.0, 22.0],
], np.float64)

# FaceMesh eyes: (outer corner, inner corner, upper lid, lower lid) for the right and left eye.
MESH_EYES = ((33, 133, 159, 145), (263, 362, 386, 374))
EYE_OPEN_RATIO = 0.28
"""Lid gap / eye width of a relaxed open eye (a closed eye is about 0.05): eyes_open = 1 there."""


def camera_matrix(width: int, height: int) -> np.ndarray:
    """A pinhole camera for a ``width``×``height`` frame: focal length = width, centre in the middle."""
    f = float(width)
    return np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], np.float64)


def angles_from_rotation(rotation: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a face whose model axes the camera sees as ``rotation``."""
    forward = rotation @ np.array([0.0, 0.0, -1.0])  # where the nose points, in camera axes
    left = rotation @ np.array([1.0, 0.0, 0.0])  # towards the student's left ear
    yaw = math.degrees(math.atan2(forward[0], -forward[2]))
    pitch = math.degrees(math.atan2(-forward[1], math.hypot(forward[0], forward[2])))
    # roll: how far the ear-to-ear axis turned, about the nose's direction, from level (the level
    # axis is square to both the nose's direction and the vertical)
    level = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    norm = float(np.linalg.norm(level))
    if norm < 1e-6:  # looking straight up or down: roll is not defined; call it 0
        return yaw, pitch, 0.0
    level /= norm
    roll = -math.degrees(math.atan2(float(np.dot(np.cross(level, left), forward)), float(np.dot(level, left))))
    return yaw, pitch, roll


def solve_pose(points: np.ndarray, model: np.ndarray, frame_size: tuple[int, int]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from 2-D ``points`` (pixels of a ``frame_size`` = (width, height)
    frame) matching the 3-D ``model`` row for row; NaNs when the fit fails."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    if points.shape[0] != model.shape[0] or not np.isfinite(points).all():
        return math.nan, math.nan, math.nan
    camera = camera_matrix(*frame_size)
    try:
        ok, rvec, _ = cv2.solvePnP(model, points, camera, np.zeros(4), flags=cv2.SOLVEPNP_SQPNP)
    except cv2.error:  # degenerate points (all on a line, a tiny face): no pose, the run goes on
        return math.nan, math.nan, math.nan
    if not ok:
        return math.nan, math.nan, math.nan
    rotation, _ = cv2.Rodrigues(rvec)
    return angles_from_rotation(rotation)


def eyes_open(mesh: np.ndarray) -> float:
    """0 (closed) to 1 (open): the mean lid gap over eye width of both eyes of a FaceMesh landmark
    set (pixels, [468 or 478, 2]), against a relaxed open eye's."""
    ratios = []
    for outer, inner, upper, lower in MESH_EYES:
        width = np.linalg.norm(mesh[outer] - mesh[inner])
        if width > 0:
            ratios.append(np.linalg.norm(mesh[upper] - mesh[lower]) / width)
    return float(np.clip(np.mean(ratios) / EYE_OPEN_RATIO, 0.0, 1.0)) if ratios else math.nan
