import csv

import cv2
import numpy as np
import pytest

from fervision.analysis.session import AnalysisSession
from fervision.engine.config import PipelineConfig, build_pipeline
from fervision.engine.sources import VideoFrame
from fervision.outputs.csv_sinks import class_header, faces_header, students_header

from ..conftest import ROOT


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def _dicts(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def session_with_frames():
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    session = AnalysisSession(build_pipeline(PipelineConfig(device="cpu")), name="lesson")
    for i in range(30):  # 3 s at 10 fps, the face always in view
        session.process(VideoFrame(image, i / 10, i))
    return session


def test_snapshot_has_class_series_and_students(session_with_frames):
    snap = session_with_frames.snapshot(window_s=60)
    assert list(snap.seconds) == [0, 1, 2]
    assert snap.shares.shape == (3, 8) and np.allclose(snap.shares.sum(axis=1), 1)
    assert snap.current.shape == (8,) and abs(snap.current.sum() - 1) < 1e-6
    assert snap.faces_now == 1
    (row,) = snap.students
    assert row.student_id == 1 and row.current in snap.labels and row.dominant in snap.labels
    assert 2.7 < row.seen_s <= 2.9  # seen from the 2nd frame (confirmation) to the last
    assert snap.facing.shape == (3,) and np.allclose(snap.facing[1:], 1.0)  # alone: the front is where she looks
    assert row.facing_front_share > 0.9
    seconds, shares = session_with_frames.student_facing(1)
    assert seconds.tolist() == [0, 1, 2] and shares[1:].tolist() == [1.0, 1.0]
    assert list(session_with_frames.snapshot(window_s=1.0).seconds) == [1, 2]


def test_rename_and_export_use_annotate_formats(session_with_frames, tmp_path):
    session = session_with_frames
    session.rename(1, "  Ana   María ")
    paths = session.export(tmp_path, settings=[("source", "lesson.mp4")], front_rule="given: yaw 0°")
    assert {p.name for p in paths.values()} == {"lesson_faces.csv", "lesson_students.csv", "lesson_class.csv",
                                                "lesson_timeline.png", "lesson_report.html"}
    report = paths["report"].read_text()
    assert "Ana María" in report and "lesson.mp4" in report and "given: yaw 0°" in report
    labels = session.record.labels
    faces = _rows(paths["faces"])
    assert faces[0] == faces_header(session.pipeline.signals) and len(faces) == 1 + 30
    students = _rows(paths["students"])
    assert students[0] == students_header(labels) and students[1][:2] == ["1", "Ana María"]
    assert _rows(paths["class"])[0] == class_header(labels) and len(_rows(paths["class"])) == 1 + 3
    assert not list(tmp_path.glob("*.partial"))
    session.rename(1, "")
    assert _rows(session.export(tmp_path)["students"])[1][1] == ""


def test_switching_pipeline_keeps_the_record_and_the_student_numbering(session_with_frames):
    session = session_with_frames
    tracker = session.pipeline.stage("track").tracker
    other = build_pipeline(PipelineConfig(device="cpu", min_face_px=20), recognizer=session.pipeline.recognizer)
    assert session.use_pipeline(other) is False  # same labels: nothing starts afresh
    assert session.pipeline is other and other.stage("track").tracker is tracker and session.record.frames == 30


def test_a_replay_keeps_ids_and_counts_each_moment_once(tmp_path):
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    session = AnalysisSession(build_pipeline(PipelineConfig(device="cpu")), name="lesson")
    for i in range(30):  # 0.0 - 2.9 s
        session.process(VideoFrame(image, i / 10, i))
    session.rename(1, "José Núñez")
    session.jumped()  # the user drags the slider back to 1.0 s and plays to the end again
    ids = [session.process(VideoFrame(image, i / 10, i)).student_ids.tolist() for i in range(10, 30)]
    assert all(row == [1] for row in ids)  # the same student, re-found where they sit, at once
    paths = session.export(tmp_path)
    students = _rows(paths["students"])
    assert len(students) == 2 and students[1][:2] == ["1", "José Núñez"]
    assert students[1][7] == "29"  # each moment counted once (at 0.0 s the face was not confirmed yet)
    faces = _rows(paths["faces"])[1:]
    times = [float(r[1]) for r in faces]
    assert len(faces) == 30 and times == sorted(times) and len(set(times)) == 30
    classes = _rows(paths["class"])[1:]
    assert [r[0] for r in classes] == ["0", "1", "2"]
    assert [r[1] for r in classes] == ["0.90", "1.00", "1.00"]  # students per frame; at 0.0 s not confirmed yet
    assert session.record.seconds[1].frames == 10  # not 20
    session.close()


def test_frames_skipped_to_keep_real_time_count_as_time_in_view():
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    session = AnalysisSession(build_pipeline(PipelineConfig(device="cpu")), name="lesson")
    for i in range(20):  # analysed every 10th frame only, as a slow machine would
        frame = VideoFrame(image, i / 10, i)
        session.process(frame) if i % 10 in (0, 1) else session.hold(frame)
    (row,) = session.snapshot().students
    assert row.seen_s == pytest.approx(1.8)  # confirmed at 0.1 s, in view until 1.9 s
    assert session.record.students[1].frames == 3  # readings: only the analysed frames count
    session.close()


def test_hiding_and_merging_students_apply_to_the_view_and_every_export(tmp_path):
    face = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    image = np.hstack([face, face, face])  # three students side by side
    session = AnalysisSession(build_pipeline(PipelineConfig(device="cpu")), name="lesson")
    for i in range(30):
        session.process(VideoFrame(image, i / 10, i))
    assert [row.student_id for row in session.snapshot().students] == [1, 2, 3]
    session.rename(3, "Ana")
    session.set_counted(1, False)  # not a student (a poster, a shirt)
    session.merge_students(3, 2)  # one student the tracker split in two
    with pytest.raises(ValueError, match="already one student"):
        session.merge_students(2, 3)
    rows = session.snapshot().students
    assert [(r.student_id, r.counted, r.reason, r.merged) for r in rows] == [(1, False, "hidden", ()),
                                                                             (2, True, "", (3,))]
    drawn = session.edited(session.process(VideoFrame(image, 3.0, 30)))
    assert drawn.student_ids.tolist() == [2, 2]  # #1 not drawn, #3 drawn as #2
    paths = session.export(tmp_path)
    students = _dicts(paths["students"])
    assert [(r["student_id"], r["name"], r["counted"]) for r in students] == [("2", "Ana", "1")]
    faces = _dicts(paths["faces"])
    assert {r["student_id"] for r in faces} <= {"2", "-1"} and sum(r["student_id"] == "2" for r in faces) > 50
    assert all(r["faces"] == "2.00" for r in _dicts(paths["class"])[1:])
    session.set_counted(1, None)
    session.unmerge_student(3)
    assert [r.student_id for r in session.snapshot().students] == [1, 2, 3]
    session.close()


def test_the_faces_of_a_photo_are_students_at_once():
    """A photo has no time in view: the app's session counts every face in it, as annotate does."""
    face = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    session = AnalysisSession(build_pipeline(PipelineConfig(device="cpu"), still=True), name="photo")
    session.process(VideoFrame(np.hstack([face, face]), 0.0, 0))
    rows = session.snapshot().students
    assert [(r.student_id, r.counted) for r in rows] == [(1, True), (2, True)]
    assert session.snapshot().shares.sum() > 0  # the class chart shows them
    session.close()
