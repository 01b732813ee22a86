import numpy as np
import pytest

from fervision.core.boxes import box_iou, share_inside
from fervision.engine.tracking import NOT_A_FACE, StudentTracker


def _box(cx, cy, s=40):
    return [cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2]


def test_iou():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    assert np.allclose(box_iou(a, b), [[1.0, 1 / 3, 0.0]])


def test_one_frame_false_detection_gets_no_id_and_one_frame_miss_keeps_the_id():
    tr = StudentTracker()
    fps = 25
    ids = []
    for i in range(20):
        boxes = [_box(100, 100)]
        if i == 5:
            boxes.append(_box(400, 300))  # a one-frame false detection
        if i == 10:
            boxes = []  # the detector misses the student once
        ids.append(tr.update(np.array(boxes, np.float32), i / fps).tolist())
    assert ids[0] == [-1]  # not confirmed on first sight
    assert all(frame[0] == 1 for frame in ids[1:10] + ids[11:])
    assert ids[5] == [1, -1]
    assert tr.next_id == 2  # nobody else ever got an id


def test_student_hidden_for_seconds_gets_the_old_id_back_nearby():
    tr = StudentTracker(max_lost_s=10.0)
    t = 0.0
    for _ in range(10):
        a, b = tr.update(np.array([_box(100, 100), _box(300, 100)], np.float32), t)
        t += 0.04
    hidden_until = t + 6.0  # student 1 hidden behind someone for 6 s
    while t < hidden_until:
        tr.update(np.array([_box(300, 100)], np.float32), t)
        t += 0.04
    back = tr.update(np.array([_box(108, 96), _box(300, 100)], np.float32), t)  # moved a little
    assert back.tolist() == [a, b]


def test_lost_longer_than_the_limit_is_a_new_student():
    tr = StudentTracker(max_lost_s=2.0)
    for i in range(3):
        first = tr.update(np.array([_box(100, 100)], np.float32), i * 0.04)
    later = [tr.update(np.array([_box(100, 100)], np.float32), 5.0 + i * 0.04) for i in range(3)]
    assert first[0] == 1 and later[-1][0] == 2


def test_crossing_students_keep_their_ids():
    tr = StudentTracker()
    ids = []
    for i in range(40):  # two faces walk past each other horizontally, one slightly lower
        x = 50 + 10 * i
        boxes = np.array([_box(x, 100), _box(450 - 10 * i, 130)], np.float32)
        ids.append(tr.update(boxes, i * 0.04).tolist())
    assert ids[1] == [1, 2]
    assert all(frame == [1, 2] for frame in ids[1:])


def test_irregular_timestamps_and_empty_frames():
    tr = StudentTracker()
    assert tr.update(np.zeros((0, 4), np.float32), 0.0).tolist() == []
    tr.update(np.array([_box(50, 50)], np.float32), 0.1)
    assert tr.update(np.array([_box(52, 50)], np.float32), 0.9).tolist() == [1]


def test_partly_covered_student_keeps_the_id_when_overlap_fails():
    """A hand covers half the face for a few frames: the box shrinks below the IoU gate."""
    tr = StudentTracker()
    for i in range(5):
        first = tr.update(np.array([_box(200, 200, 60)], np.float32), i * 0.04)
    covered = np.array([[200, 170, 230, 230]], np.float32)  # right half only: IoU 0.5 -> shifted further
    covered[:, [0, 2]] += 8
    assert tr.update(covered, 0.2).tolist() == first.tolist()


def _hidden_during_pan(compensate: bool) -> list[int]:
    """Student seen at x=100, hidden 1.5 s while the scene moves 10 px right per frame, seen again at x=250."""
    from fervision.engine.motion import IDENTITY

    tr = StudentTracker()
    for i in range(3):
        tr.update(np.array([_box(100, 100)], np.float32), i * 0.04)
    t = 0.12
    for _ in range(15):
        if compensate:
            pan = IDENTITY.copy()
            pan[0, 2] = 10.0
            tr.apply_camera_motion(pan)
        tr.update(np.zeros((0, 4), np.float32), t)
        t += 0.1
    return tr.update(np.array([_box(250, 100)], np.float32), t).tolist()


def test_camera_motion_carries_lost_students_along():
    assert _hidden_during_pan(compensate=True) == [1]
    assert _hidden_during_pan(compensate=False) == [-1]  # without it, a stranger


def test_share_inside_counts_a_cut_off_part_as_inside_the_whole():
    whole = np.array([[100, 100, 140, 140]], np.float32)
    part, beside = np.array([[100, 100, 110, 140]], np.float32), np.array([[150, 100, 190, 140]], np.float32)
    assert share_inside(part, whole)[0, 0] == 1.0 and box_iou(part, whole)[0, 0] == 0.25
    assert share_inside(beside, whole)[0, 0] == 0.0


def test_after_a_seek_students_are_refound_where_they_sit_with_their_ids():
    tracker = StudentTracker()
    seats = np.array([[0, 0, 40, 40], [100, 0, 140, 40]], np.float32)
    for t in (0.0, 0.1, 0.2):
        ids = tracker.update(seats, t)
    assert ids.tolist() == [1, 2]
    tracker.update(np.array([[300, 0, 340, 40]], np.float32), 0.3)  # a face not confirmed yet
    tracker.rebase()  # the user seeks back to the start ...
    assert tracker.update(seats[::-1] + 2, 0.0).tolist() == [2, 1]  # ... the same students, by place
    tracker.rebase()  # ... and then a minute ahead, past max_lost_s
    assert tracker.update(seats, 60.0).tolist() == [1, 2]
    assert tracker.next_id == 3 and all(t.student_id > 0 for t in tracker.tracks)


def _seat_twice(tracker, boxes, t0=0.0):
    return [tracker.update(np.array(boxes, np.float32), t0 + i * 0.1) for i in range(3)][-1]


def test_a_cut_retires_every_student_and_the_numbering_goes_on():
    """The new shot's faces sit where the old shot's students sat: a cut must not hand them the old ids."""
    seats = [_box(100, 100), _box(300, 100)]
    cut, seek = StudentTracker(), StudentTracker()
    assert _seat_twice(cut, seats).tolist() == _seat_twice(seek, seats).tolist() == [1, 2]
    cut.retire_all()
    seek.rebase()
    assert _seat_twice(cut, seats, 0.5).tolist() == [3, 4]  # new people, numbered on (never from 1 again)
    assert _seat_twice(seek, seats, 0.5).tolist() == [1, 2]  # a seek keeps its students
    assert not any(t.student_id in (1, 2) for t in cut.tracks)


def test_travel_is_the_farthest_a_face_moved_from_where_first_seen_in_face_sizes():
    tr = StudentTracker()
    rng = np.random.default_rng(0)
    for i in range(40):  # a seated student who fidgets, and someone walking 10 px a frame, then back
        x = 100 + 10 * min(i, 30) - 10 * max(0, i - 30)
        seated = np.array(_box(500, 100), np.float32) + rng.normal(0, 2, 4).astype(np.float32)
        ids = tr.update(np.array([seated, _box(x, 300)], np.float32), i * 0.04)
        travel = tr.last_travel()
        if i == 0:
            assert ids.tolist() == [-1, -1] and np.isnan(travel).all()  # not students yet
    assert ids.tolist() == [1, 2]
    assert travel[0] < 0.2  # about 2 px of jitter on a 40 px face
    assert travel[1] == pytest.approx(300 / 40)  # 30 frames of 10 px; walking back does not lower the most so far


def test_travel_leaves_out_the_camera_motion():
    from fervision.engine.motion import IDENTITY

    pan = IDENTITY.copy()
    pan[0, 2] = 8.0  # the camera pans: every face drifts 8 px a frame
    followed, unfollowed = StudentTracker(), StudentTracker()
    for i in range(25):
        boxes = np.array([_box(100 + 8 * i, 100)], np.float32)
        followed.apply_camera_motion(pan)
        followed.update(boxes, i * 0.04)
        unfollowed.update(boxes, i * 0.04)
    assert followed.last_travel()[0] < 0.01  # the student sat still
    assert unfollowed.last_travel()[0] == pytest.approx(24 * 8 / 40)  # without the camera's motion it looks like a walk


def test_a_face_the_check_refuses_never_becomes_a_student_until_it_passes():
    asked = []
    verdict = {"face": False}

    def check(boxes):
        asked.append(len(boxes))
        return np.full(len(boxes), verdict["face"])

    tr = StudentTracker(recheck_s=1.0)
    ids = [tr.update(np.array([_box(100, 100)], np.float32), i * 0.1, check).tolist() for i in range(15)]
    assert ids[0] == [-1] and all(frame == [NOT_A_FACE] for frame in ids[1:])
    assert asked == [1, 1]  # at confirmation (0.1 s) and once a second after (1.1 s), not every frame
    assert tr.next_id == 1  # no id was spent on it
    verdict["face"] = True  # e.g. the face turns towards the camera
    later = [tr.update(np.array([_box(100, 100)], np.float32), 1.5 + i * 0.1, check).tolist() for i in range(8)]
    assert later[0] == [NOT_A_FACE] and later[-1] == [1]
