"""The head-pose signal reads a real face and formats its faces.csv cells (blank when unknown)."""

import cv2
import numpy as np

from fervision.core.frame import EYES_OPEN, FACING_FRONT, HEAD_POSE, FaceFrame
from fervision.engine.detectors import create_detector
from fervision.engine.signals import create_signal, list_signals
from fervision.engine.signals.head_pose import HeadPoseSignal

from ..conftest import ROOT


def test_reads_a_real_face_and_nothing_on_a_wall():
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    faces = create_detector("yunet")(image)
    wall = faces.xyxy.copy()
    wall[:, [0, 2]] = [0, 60]  # a box on the background beside the face
    faces = FaceFrame.merge([faces, FaceFrame(xyxy=wall, confidence=np.ones(1, np.float32))])
    assert "head_pose" in list_signals()
    signal = create_signal("head_pose", head_pose_landmarks="facemesh+yunet")  # FaceMesh: eyes too
    values = signal.read(image, faces)
    assert np.isfinite(values[HEAD_POSE][0]).all() and np.abs(values[HEAD_POSE][0]).max() < 60
    assert 0.3 < values[EYES_OPEN][0] <= 1
    assert np.isnan(values[HEAD_POSE][1]).all() and np.isnan(values[EYES_OPEN][1])


def test_cells_are_blank_when_unknown():
    signal = HeadPoseSignal()
    faces = FaceFrame(xyxy=np.zeros((2, 4), np.float32), confidence=np.ones(2, np.float32))
    faces.data.update(signal.unknown(2))
    faces.data[HEAD_POSE][0] = [12.345, -3.21, 0.04]
    faces.data[EYES_OPEN][0] = 0.876
    faces.data[FACING_FRONT] = np.array([1.0, np.nan], np.float32)
    assert signal.columns() == ["yaw", "pitch", "roll", "eyes_open", "facing_front"]
    assert signal.cells(faces, 0) == ["12.3", "-3.2", "0.0", "0.88", "1"]
    assert signal.cells(faces, 1) == ["", "", "", "", ""]


def test_each_landmark_source_reads_the_face_and_they_agree_on_its_direction():
    from fervision.engine.five_points import FivePointReader
    from fervision.engine.signals.head_pose import LANDMARKS, HeadPoseReader

    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    faces = create_detector("yunet")(image)
    points = FivePointReader().read(image, faces.xyxy)[0]
    x1, y1, x2, y2 = faces.xyxy[0]
    assert ((points[:, 0] > x1) & (points[:, 0] < x2) & (points[:, 1] > y1) & (points[:, 1] < y2)).all()
    assert points[0, 0] < points[2, 0] < points[1, 0]  # the student's right eye, nose, left eye, left to right
    assert max(points[0, 1], points[1, 1]) < points[2, 1] < min(points[3, 1], points[4, 1])  # eyes, nose, mouth
    poses = {name: HeadPoseReader(name).read(image, faces.xyxy) for name in LANDMARKS}
    yaws = [poses[name][0][0, 0] for name in LANDMARKS]
    assert np.isfinite(yaws).all() and max(yaws) - min(yaws) < 12
    assert np.isnan(poses["yunet"][1][0]) and np.isfinite(poses["facemesh"][1][0])  # eyes need FaceMesh's eyelids


def test_faces_read_together_get_the_points_each_gets_alone():
    """The five points of many faces come from one detector run over a mosaic of their windows."""
    from fervision.engine.five_points import FivePointReader

    face = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    image = np.concatenate([np.concatenate([face, face[:, ::-1]], axis=1)] * 2, axis=0)  # four faces, two mirrored
    box = create_detector("yunet")(face).xyxy[0]
    w, h = face.shape[1], face.shape[0]
    mirrored = np.array([2 * w - box[2], box[1], 2 * w - box[0], box[3]], np.float32)
    lower = np.array([0, h, 0, h], np.float32)  # the same faces a row lower
    boxes = np.stack([box, mirrored, box + lower, mirrored + lower])
    reader = FivePointReader()
    together = reader.read(image, boxes)
    alone = np.concatenate([reader.read(image, b[None]) for b in boxes])
    assert np.isfinite(together).all() and np.abs(together - alone).max() < 2.0
