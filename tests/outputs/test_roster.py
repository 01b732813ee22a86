"""Who counts as a student: the roster rules and the user's hide / count / merge, in every reading."""

import csv

import numpy as np
import pytest

from fervision.core.frame import FaceFrame
from fervision.outputs.csv_sinks import ClassCsvSink, StudentsCsvSink
from fervision.outputs.record import EVERY_FACE, HIDDEN, WALKING, CountRules, LessonRecord
from fervision.outputs.timeline import save_timeline

LABELS = ["neutral", "happiness", "sadness"]


def _frame(t, ids, tops, travel=None):
    probs = np.full((len(ids), 3), 0.1, np.float32)
    for i, top in enumerate(tops):
        probs[i, top] = 0.8
    xyxy = np.array([[10 + 50 * i, 10, 50 + 50 * i, 50] for i in range(len(ids))], np.float32).reshape(-1, 4)
    data = {"expression": probs}
    if travel is not None:
        data["travel"] = np.asarray(travel, np.float32)
    return FaceFrame(xyxy=xyxy, confidence=np.full(len(ids), 0.9, np.float32), time_s=t, index=round(t * 10),
                     student_ids=np.array(ids), data=data, labels=LABELS)


def _lesson(rules=None):
    """10 s at 10 fps: #1 happy all along, #2 sad all along, #3 (neutral) only for 0.5 s at 5 s."""
    record = LessonRecord(LABELS, rules)
    for i in range(100):
        t = i / 10
        ids, tops = [1, 2], [1, 2]
        if 50 <= i < 55:
            ids, tops = [*ids, 3], [*tops, 0]
        record.add(_frame(t, ids, tops))
    return record


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_face_seen_briefly_is_listed_but_not_counted():
    record = _lesson()
    assert record.student_ids() == [1, 2, 3]
    assert record.counted_ids() == [1, 2] and record.reason(3) == "in view only briefly"
    assert record.class_shares(5).tolist() == [0.0, 0.5, 0.5]  # #3's neutral is not in the class
    assert record.class_faces(5) == 2.0
    # counted by the user after all: it enters the class again
    record.set_counted(3, True)
    assert record.class_shares(5)[0] == pytest.approx(5 / 25)
    record.set_counted(3, None)
    assert record.reason(3)


def test_short_clips_keep_their_students_and_photos_count_every_face():
    record = LessonRecord(LABELS)
    for i in range(5):  # half a second: every face in it is someone
        record.add(_frame(i / 10, [1], [1]))
    assert record.counted_ids() == [1]
    photo = LessonRecord(LABELS, EVERY_FACE)
    photo.add(_frame(0.0, [1, 2], [0, 1]))
    assert photo.counted_ids() == [1, 2]


def test_hidden_students_leave_the_class_and_every_export(tmp_path):
    record = _lesson()
    record.set_counted(2, False)
    assert record.reason(2) == HIDDEN and record.counted_ids() == [1]
    assert record.class_shares(3).tolist() == [0.0, 1.0, 0.0]
    with ClassCsvSink(tmp_path / "c.csv", record), StudentsCsvSink(tmp_path / "s.csv", record):
        pass
    students = _read(tmp_path / "s.csv")
    assert [r["student_id"] for r in students] == ["1", "3"]  # hidden: gone; briefly seen: listed, not counted
    assert [r["counted"] for r in students] == ["1", "0"] and students[1]["not_counted_because"]
    assert {r["share_happiness"] for r in _read(tmp_path / "c.csv")} == {"1.0000"}


def test_merging_two_ids_makes_one_student_everywhere(tmp_path):
    record = LessonRecord(LABELS)
    for i in range(40):  # the tracker lost #1 at 2 s and called them #4 after
        record.add(_frame(i / 10, [1 if i < 20 else 4, 2], [1 if i < 20 else 2, 0]))
    record.rename(4, "Ana")
    record.merge(4, 1)
    assert record.student_ids() == [1, 2] and record.root(4) == 1 and record.members(1) == [1, 4]
    assert record.names == {1: "Ana"}  # the name moves to the id it joined
    one = record.student(1)
    assert one.frames == 40 and one.seen_s == pytest.approx(3.9, abs=0.11)
    starts, ends, tops = record.student_timeline(1)
    assert starts.tolist() == [0.0, 2.0] and ends.tolist() == [2.0, 4.0] and tops.tolist() == [1, 2]
    with StudentsCsvSink(tmp_path / "s.csv", record):
        pass
    rows = _read(tmp_path / "s.csv")
    assert [(r["student_id"], r["name"], r["frames"]) for r in rows] == [("1", "Ana", "40"), ("2", "", "40")]
    with pytest.raises(ValueError, match="already one student"):
        record.merge(1, 4)
    with pytest.raises(ValueError, match="no student #9"):
        record.merge(9, 1)
    record.unmerge(4)
    assert record.student_ids() == [1, 2, 4]
    save_timeline(record, tmp_path / "t.png")  # draws with the roster as it is


def test_people_walking_through_the_room_are_not_counted():
    record = LessonRecord(LABELS, CountRules(max_travel=3.0))
    for i in range(60):
        record.add(_frame(i / 10, [1, 7], [1, 0], travel=[0.2, i / 5]))  # #7 crosses the room
    assert record.reason(7) == WALKING and record.counted_ids() == [1]
    assert record.class_shares(4).tolist() == [0.0, 1.0, 0.0]


def test_class_csv_is_rewritten_with_the_final_roster(tmp_path):
    record = LessonRecord(LABELS)
    with ClassCsvSink(tmp_path / "c.csv", record) as sink:
        for i in range(60):  # #5 appears at 2.0 s and counts in the seconds streamed meanwhile ...
            frame = _frame(i / 10, [1, 5] if i >= 20 else [1], [1, 0] if i >= 20 else [1])
            record.add(frame)
            sink.write(frame, None)
        assert _read(tmp_path / "c.csv")[3]["faces"] == "2.00"
        record.set_counted(5, False)  # ... until the user hides it: the file is rewritten without
    rows = _read(tmp_path / "c.csv")
    assert [r["time_s"] for r in rows] == [str(s) for s in range(6)]
    assert all(r["share_happiness"] == "1.0000" and r["faces"] == "1.00" for r in rows)


def test_facing_front_shares_per_student_and_per_second(tmp_path):
    record = LessonRecord(LABELS)
    for i in range(40):
        frame = _frame(i / 10, [1, 2, 3], [1, 1, 1])
        # #1 faces front all along; #2 in the first second only; #3's head direction is never known
        frame.data["facing_front"] = np.array([1.0, 1.0 if i < 10 else 0.0, np.nan], np.float32)
        record.add(frame)
    assert record.student(1).facing_front_share == 1.0 and record.student(2).facing_front_share == 0.25
    assert np.isnan(record.student(3).facing_front_share)
    assert [record.class_facing_front(s) for s in range(4)] == [1.0, 0.5, 0.5, 0.5]
    with ClassCsvSink(tmp_path / "c.csv", record), StudentsCsvSink(tmp_path / "s.csv", record):
        pass
    assert [r["facing_front_share"] for r in _read(tmp_path / "s.csv")] == ["1.0000", "0.2500", ""]
    assert [r["facing_front_share"] for r in _read(tmp_path / "c.csv")] == ["1.0000", "0.5000", "0.5000", "0.5000"]
    seconds, shares = record.student_facing(2)
    assert seconds.tolist() == [0, 1, 2, 3] and shares.tolist() == [1.0, 0.0, 0.0, 0.0]
    assert record.student_facing(3)[0].size == 0 and record.student_facing(99)[0].size == 0
    record.set_counted(2, False)
    assert record.class_facing_front(1) == 1.0


def test_the_timeline_gains_a_facing_front_strip_when_head_pose_was_read(tmp_path):
    plain, posed = LessonRecord(LABELS), LessonRecord(LABELS)
    for i in range(50):
        plain.add(_frame(i / 10, [1, 2], [1, 0]))
        frame = _frame(i / 10, [1, 2], [1, 0])
        frame.data["facing_front"] = np.array([1.0, float(i % 2)], np.float32)
        posed.add(frame)
    import matplotlib.image

    heights = [matplotlib.image.imread(save_timeline(r, tmp_path / f"{n}.png")).shape[0] for n, r in
               (("plain", plain), ("posed", posed))]
    assert heights[1] > heights[0] + 50  # the strip adds height
