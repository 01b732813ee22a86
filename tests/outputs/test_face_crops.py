import cv2
import numpy as np

from fervision.core.frame import FaceFrame
from fervision.outputs.face_crops import FaceCropSink


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
