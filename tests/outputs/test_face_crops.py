import cv2
import numpy as np

from fervision.core.frame import HEAD_POSE, FaceFrame
from fervision.outputs.face_crops import FaceCropSink, worth_saving


def _frame(t, ids, top):
    """Two faces; ``top`` is each one's top emotion (of happiness, sadness)."""
    probs = np.array([[0.9, 0.1] if e == "happiness" else [0.2, 0.8] for e in top], np.float32)
    return FaceFrame(xyxy=np.array([[10, 10, 30, 40], [50, 10, 70, 30]], np.float32), confidence=np.ones(2, np.float32),
                     time_s=t, student_ids=np.array(ids), data={"expression": probs}, labels=["happiness", "sadness"])


def test_one_crop_per_confirmed_student_per_interval_sorted_by_guess(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    with FaceCropSink(tmp_path / "crops", "lesson", margin=0.0, every_s=2.0) as sink:
        sink.write(_frame(0.0, [1, -1], ["happiness", "sadness"]), image)  # the second is not confirmed yet
        sink.write(_frame(1.0, [1, 2], ["sadness", "sadness"]), image)  # 1 is not due again; 2 is new
        sink.write(_frame(2.5, [1, 2], ["sadness", "happiness"]), image)
    saved = sorted(str(p.relative_to(tmp_path / "crops")) for p in (tmp_path / "crops").rglob("*.jpg"))
    assert saved == ["happiness/lesson_s1_t00000.00.jpg", "sadness/lesson_s1_t00002.50.jpg",
                     "sadness/lesson_s2_t00001.00.jpg"] and sink.saved == 3
    crop = cv2.imread(str(tmp_path / "crops" / "happiness" / "lesson_s1_t00000.00.jpg"))
    assert crop.shape[:2] == (30, 20)  # the box itself: the default model's margin is 0


def test_save_faces_keeps_confident_frontal_students_only():
    boxes = np.tile([10.0, 10.0, 60.0, 60.0], (6, 1))
    faces = FaceFrame(boxes, confidence=[0.95, 0.95, 0.72, 0.95, 0.95, 0.95], student_ids=[1, -1, 2, 3, 4, 5],
                      data={HEAD_POSE: np.array([[5, 0, 0], [5, 0, 0], [5, 0, 0], [np.nan] * 3, [70, 0, 0],
                                                 [10, -50, 0]], np.float32)})
    # a student facing the camera; an unconfirmed face; a doubtful detection (a hand, the back of a
    # head); no pose found (the back of a head); turned aside; looking down at a desk
    assert worth_saving(faces).tolist() == [True, False, False, False, False, False]
    del faces.data[HEAD_POSE]  # head pose not read: confirmed and confident is enough
    assert worth_saving(faces).tolist() == [True, False, False, True, True, True]
    assert worth_saving(faces, confirmed_only=False).tolist() == [True, True, False, True, True, True]  # a photo


def test_annotate_and_save_faces_skip_doubtful_detections_and_turned_heads(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    faces = _frame(0.0, [1, 2], ["happiness", "sadness"])
    faces.data[HEAD_POSE] = np.array([[80.0, 0, 0], [0, 0, 0]], np.float32)  # 1 turned aside: a poor picture
    with FaceCropSink(tmp_path / "crops", "lesson", margin=0.0) as sink:
        sink.write(faces, image)
    assert [p.name for p in (tmp_path / "crops").rglob("*.jpg")] == ["lesson_s2_t00000.00.jpg"]
    photo = FaceFrame(xyxy=faces.xyxy, confidence=np.array([0.5, 0.9], np.float32), index=0)
    with FaceCropSink(tmp_path / "photo", "p", margin=0.0, still_names=lambda index: "class") as sink:
        sink.write(photo, image)  # every face of a photo, but not the doubtful one
    assert [p.name for p in (tmp_path / "photo").rglob("*.jpg")] == ["class_face1.jpg"]
