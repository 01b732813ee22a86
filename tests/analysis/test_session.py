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
    assert list(session_with_frames.snapshot(window_s=1.0).seconds) == [1, 2]


def test_rename_and_export_use_annotate_formats(session_with_frames, tmp_path):
    session = session_with_frames
    session.rename(1, "  Ana   María ")
    paths = session.export(tmp_path)
    assert {p.name for p in paths.values()} == {"lesson_faces.csv", "lesson_students.csv", "lesson_class.csv",
                                                "lesson_timeline.png"}
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
