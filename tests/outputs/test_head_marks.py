"""The overlay's head-direction arrows: the way the nose points, on uncrowded frames by default."""

import numpy as np

from fervision.core.frame import HEAD_POSE, FaceFrame
from fervision.outputs.overlay import HEAD_MARKS_MAX_FACES, draw_faces


def _faces(n, pose):
    xyxy = np.array([[20 + 60 * i, 100, 60 + 60 * i, 140] for i in range(n)], np.float32)
    faces = FaceFrame(xyxy=xyxy, confidence=np.ones(n, np.float32), student_ids=np.arange(1, n + 1))
    faces.data[HEAD_POSE] = np.tile(np.array(pose, np.float32), (n, 1))
    return faces


def _drawn_right_of_centre(image, faces, i=0):
    """Pixels changed inside face ``i``'s box, right minus left of its centre."""
    plain = draw_faces(image, faces, head_marks=False)
    marked = draw_faces(image, faces)
    changed = np.any(marked != plain, axis=2)
    x1, y1, x2, y2 = faces.xyxy[i].astype(int)
    cx = (x1 + x2) // 2
    return int(changed[y1 + 3:y2 - 3, cx + 2:x2 - 3].sum()) - int(changed[y1 + 3:y2 - 3, x1 + 3:cx - 2].sum())


def test_a_head_turned_to_the_students_left_points_right_in_the_picture():
    image = np.zeros((300, 700, 3), np.uint8)
    assert _drawn_right_of_centre(image, _faces(1, [40, 0, 0])) > 10
    assert _drawn_right_of_centre(image, _faces(1, [-40, 0, 0])) < -10


def test_no_arrows_on_crowded_frames_unless_asked_and_none_for_unknown_pose():
    image = np.zeros((300, 1400, 3), np.uint8)
    crowded = _faces(HEAD_MARKS_MAX_FACES + 1, [40, 0, 0])
    assert np.array_equal(draw_faces(image, crowded), draw_faces(image, crowded, head_marks=False))
    assert not np.array_equal(draw_faces(image, crowded, head_marks=True), draw_faces(image, crowded, head_marks=False))
    unknown = _faces(1, [np.nan, np.nan, np.nan])
    assert np.array_equal(draw_faces(image, unknown), draw_faces(image, unknown, head_marks=False))
