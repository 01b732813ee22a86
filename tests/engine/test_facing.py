"""The facing-front rule on synthetic tracks: the front learned from the class, a cone around it."""

import numpy as np
import pytest

from fervision.core.frame import FACING_FRONT, HEAD_POSE, READ_AT, FaceFrame
from fervision.engine.facing import FacingFrontStage, angle_between


def _frame(t, poses, ids=None):
    n = len(poses)
    faces = FaceFrame(xyxy=np.tile(np.array([[0, 0, 40, 40]], np.float32), (n, 1)), confidence=np.ones(n, np.float32),
                      time_s=t, student_ids=np.array(ids if ids is not None else range(1, n + 1)))
    faces.data[HEAD_POSE] = np.array(poses, np.float32).reshape(n, 3)
    faces.data[READ_AT] = np.full(n, t)
    return faces


def test_angles_between_head_directions():
    assert angle_between(np.array([0.0]), np.array([0.0]), (0.0, 0.0)) == pytest.approx([0.0], abs=1e-4)
    assert angle_between(np.array([30.0, -30.0]), np.array([0.0, 0.0]), (0.0, 0.0)) == pytest.approx([30, 30])
    assert angle_between(np.array([0.0]), np.array([20.0]), (0.0, -10.0)) == pytest.approx([30.0])


def test_the_front_is_where_most_of_the_class_looks_not_the_camera():
    stage = FacingFrontStage(cone_deg=20)
    # a camera in the front corner: the class looks 40 degrees to the camera's right (the board)
    board = [(40, -5, 0)] * 5
    for t in range(30):
        poses = [*board, (40, -5, 0) if t < 20 else (-20, 0, 0)]  # #6 turns to the window after 20 s
        out = stage(_frame(float(t), poses), None)
    assert stage.front(29.0) == pytest.approx((40, -5), abs=0.5)
    assert out.data[FACING_FRONT].tolist() == [1, 1, 1, 1, 1, 0]
    # a user-given front wins
    fixed = FacingFrontStage(cone_deg=20, front=(0.0, 0.0))
    assert fixed(_frame(0.0, board), None).data[FACING_FRONT].tolist() == [0] * 5


def test_unknown_pose_is_unknown_and_a_few_looking_away_do_not_move_the_front():
    stage = FacingFrontStage(cone_deg=25)
    for t in range(10):
        poses = [(0, 0, 0)] * 6 + [(70, 10, 0)] * 2 + [(np.nan, np.nan, np.nan)]
        out = stage(_frame(float(t), poses), None)
    facing = out.data[FACING_FRONT]
    assert facing[:6].tolist() == [1] * 6 and facing[6:8].tolist() == [0, 0] and np.isnan(facing[8])
    assert stage.front(9.0) == pytest.approx((0, 0), abs=1e-6)


def test_the_front_follows_the_class_over_the_window():
    stage = FacingFrontStage(cone_deg=20, window_s=10)
    for t in range(40):  # the lesson moves from the board (0) to a screen at the side (50) at 20 s
        stage(_frame(float(t), [(0 if t < 20 else 50, 0, 0)] * 4), None)
    assert stage.front(39.0) == pytest.approx((50, 0), abs=0.5)
    with pytest.raises(ValueError, match="cone"):
        FacingFrontStage(cone_deg=0)


def test_a_front_is_found_as_soon_as_a_student_is_known_even_between_readings():
    stage = FacingFrontStage()
    first = _frame(0.0, [(10, 0, 0)], ids=[-1])  # not a student yet: nothing to learn from
    assert np.isnan(stage(first, None).data[FACING_FRONT]).all()
    held = _frame(0.1, [(10, 0, 0)], ids=[1])
    held.data[READ_AT][:] = np.nan  # its reading held from the last frame (labels refresh once a second)
    assert stage(held, None).data[FACING_FRONT].tolist() == [1]
