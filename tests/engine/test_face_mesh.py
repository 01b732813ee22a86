"""FaceMesh landmarks on a real photo: found on the face, none on a patch of wall, and the head
pose they give turns the other way in the mirror."""

import cv2
import numpy as np
import pytest

from fervision.engine.detectors import create_detector
from fervision.engine.face_mesh import FaceMeshReader
from fervision.engine.head_pose import MESH_MODEL, MESH_POINTS, eyes_open, solve_pose

from ..conftest import ROOT


@pytest.fixture(scope="module")
def reader():
    mesh = FaceMeshReader()
    yield mesh
    mesh.close()


def _pose(reader, image):
    faces = create_detector("yunet")(image)
    assert len(faces) == 1
    landmarks = reader.read(image, faces.xyxy)[0]
    assert np.isfinite(landmarks).all()
    x1, y1, x2, y2 = faces.xyxy[0]
    xs, ys = landmarks[:, 0], landmarks[:, 1]
    inside = (xs > x1 - 5) & (xs < x2 + 5) & (ys > y1 - 20) & (ys < y2 + 5)
    assert inside.mean() > 0.95  # on the face the detector found
    h, w = image.shape[:2]
    return np.array(solve_pose(landmarks[list(MESH_POINTS)], MESH_MODEL, (w, h))), eyes_open(landmarks)


def test_landmarks_and_pose_on_a_real_face_and_its_mirror(reader):
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    pose, eyes = _pose(reader, image)
    mirrored, _ = _pose(reader, np.ascontiguousarray(image[:, ::-1]))
    assert np.abs(pose).max() < 60 and 0.3 < eyes <= 1.0
    assert mirrored[0] == pytest.approx(-pose[0], abs=4)  # yaw turns the other way
    assert mirrored[1] == pytest.approx(pose[1], abs=4)  # pitch stays
    assert mirrored[2] == pytest.approx(-pose[2], abs=4)  # roll turns the other way


def test_no_landmarks_where_there_is_no_face(reader):
    wall = np.full((400, 400, 3), 180, np.uint8)
    cv2.putText(wall, "fervision", (40, 200), cv2.FONT_HERSHEY_SIMPLEX, 2, (40, 40, 40), 4)
    assert np.isnan(reader.read(wall, np.array([[100, 100, 300, 300]], np.float32))).all()


def test_mediapipe_start_up_prints_nothing():
    """TensorFlow Lite's start-up chatter would precede every run's own output."""
    import subprocess
    import sys

    code = ("import numpy as np\n"
            "from fervision.engine.face_mesh import FaceMeshReader\n"
            "from fervision.engine.detectors import create_detector\n"
            "import cv2\n"
            f"face = cv2.imread({str(ROOT / 'assets' / 'sample_face_pexels.jpg')!r})\n"
            "FaceMeshReader().read(face, create_detector('yunet')(face).xyxy)\n"
            "create_detector('mediapipe')(np.zeros((100, 100, 3), np.uint8))\n"
            "import sys; print('still here', file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == "still here\n"


def test_a_face_at_the_frame_edge_is_read_from_a_square_crop_without_warnings(reader, capfd):
    from fervision.engine.face_mesh import square_crop

    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    box = create_detector("yunet")(image).xyxy[0]
    shift = int(box[0]) + 10  # the face's left edge moved 10 px beyond the picture's left edge
    edge = np.ascontiguousarray(image[:, shift:])
    moved = box - np.array([shift, 0, shift, 0], np.float32)
    crop, left, _ = square_crop(edge, moved)
    assert crop.shape[0] == crop.shape[1] and left < 0
    landmarks = reader.read(edge, moved[None])[0]
    assert np.isfinite(landmarks).all()
    assert "NORM_RECT" not in capfd.readouterr().err


def test_each_box_gets_its_own_face_not_its_neighbours(reader):
    face = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    pair = np.hstack([face, face[:, ::-1]])
    boxes = create_detector("yunet")(pair).xyxy
    assert len(boxes) == 2
    boxes = boxes[np.argsort(boxes[:, 0])]
    landmarks = reader.read(pair, boxes)
    for box, points in zip(boxes, landmarks, strict=True):
        assert box[0] - 10 < np.median(points[:, 0]) < box[2] + 10
    # a box with no face of its own between them gets nothing, though its crop shows both
    between = np.array([[boxes[0, 2] - 20, boxes[0, 1], boxes[1, 0] + 20, boxes[0, 3]]], np.float32)
    assert np.isnan(reader.read(pair, between)).all()
