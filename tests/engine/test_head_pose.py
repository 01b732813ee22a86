"""Head pose from landmarks: synthetic faces with a known rotation, projected as a camera would."""

import math

import cv2
import numpy as np
import pytest

from fervision.engine.head_pose import (
    FIVE_POINT_MODEL,
    MESH_MODEL,
    angles_from_rotation,
    camera_matrix,
    solve_pose,
)

FRAME = (1280, 720)


def _rotation(yaw, pitch, roll):
    """The rotation of a head turned ``yaw`` to its left, looking ``pitch`` up, tilted ``roll`` to its
    left shoulder (degrees), in camera axes (x right, y down, z away from the lens)."""
    y, p, r = (math.radians(v) for v in (yaw, pitch, roll))
    turn = cv2.Rodrigues(np.array([0.0, -y, 0.0]))[0]  # about the vertical: nose to the picture's right
    nod = cv2.Rodrigues(np.array([-p, 0.0, 0.0]))[0]  # about the ear-to-ear axis: nose up
    tilt = cv2.Rodrigues(np.array([0.0, 0.0, r]))[0]  # about the nose's axis: left ear down
    return turn @ nod @ tilt


def _project(model, rotation, distance=900.0, offset=(150.0, -60.0)):
    camera = camera_matrix(*FRAME)
    tvec = np.array([offset[0], offset[1], distance])
    points, _ = cv2.projectPoints(model, cv2.Rodrigues(rotation)[0], tvec, camera, None)
    return points.reshape(-1, 2)


def test_the_sign_conventions_read_as_the_student_would_say_them():
    assert angles_from_rotation(np.eye(3)) == pytest.approx((0, 0, 0), abs=1e-9)
    yaw, _, _ = angles_from_rotation(_rotation(30, 0, 0))
    _, pitch, _ = angles_from_rotation(_rotation(0, 20, 0))
    _, _, roll = angles_from_rotation(_rotation(0, 0, 15))
    assert (yaw, pitch, roll) == pytest.approx((30, 20, 15), abs=1e-6)
    # turned to their left, the nose tip (in front of the eyes) moves to the picture's right
    points = _project(FIVE_POINT_MODEL, _rotation(30, 0, 0))
    assert points[2, 0] > points[:2, 0].mean() + 5
    # looking up, the nose tip rises towards the eyes' line
    level, up = _project(FIVE_POINT_MODEL, _rotation(0, 0, 0)), _project(FIVE_POINT_MODEL, _rotation(0, 20, 0))
    assert up[2, 1] - up[:2, 1].mean() < level[2, 1] - level[:2, 1].mean() - 5
    # tilted to their left shoulder, their left eye (the picture's right) is the lower one
    tilted = _project(FIVE_POINT_MODEL, _rotation(0, 0, 15))
    assert tilted[1, 1] > tilted[0, 1] + 5


@pytest.mark.parametrize("model", [FIVE_POINT_MODEL, MESH_MODEL], ids=["five-points", "mesh-six"])
@pytest.mark.parametrize("pose", [(0, 0, 0), (35, 0, 0), (-35, 10, 0), (0, -20, 0), (10, 15, -12), (-50, -10, 8)])
def test_a_known_rotation_is_recovered(model, pose):
    points = _project(model, _rotation(*pose))
    assert solve_pose(points, model, FRAME) == pytest.approx(pose, abs=0.5)


def test_noisy_landmarks_give_a_close_pose_and_bad_input_gives_nan():
    rng = np.random.default_rng(0)
    errors = []
    for _ in range(50):
        pose = rng.uniform([-45, -25, -20], [45, 25, 20])
        points = _project(FIVE_POINT_MODEL, _rotation(*pose), distance=1500)  # a ~70 px face
        points += rng.normal(0, 1.0, points.shape)  # a pixel of landmark noise
        errors.append(np.abs(np.subtract(solve_pose(points, FIVE_POINT_MODEL, FRAME), pose)))
    assert np.median(np.array(errors), axis=0).max() < 8
    assert all(math.isnan(v) for v in solve_pose(np.full((5, 2), np.nan), FIVE_POINT_MODEL, FRAME))
    assert all(math.isnan(v) for v in solve_pose(np.zeros((3, 2)), FIVE_POINT_MODEL, FRAME))


def test_degenerate_landmarks_give_nan_not_an_error():
    """Points on one line or on one spot (a tiny or badly read face) made OpenCV raise mid-run."""
    for points in (np.zeros((5, 2)), np.array([[10.0, 10.0], [20, 20], [30, 30], [40, 40], [50, 50]]),
                   np.full((6, 2), 3.0)):
        model = FIVE_POINT_MODEL if len(points) == 5 else MESH_MODEL
        pose = solve_pose(points, model, FRAME)
        assert all(math.isnan(v) for v in pose) or all(math.isfinite(v) for v in pose)
