import numpy as np
import pytest

from fervision.engine.detectors import create_detector, list_detectors
from fervision.engine.frame import crop_faces
from fervision.engine.still import read_image

from ..conftest import ROOT, shared_path


@pytest.fixture(scope="module")
def detector():
    return create_detector("mediapipe")


def test_registry():
    assert "mediapipe" in list_detectors()
    with pytest.raises(KeyError, match="unknown detector"):
        create_detector("nope")
    with pytest.raises(ValueError):
        create_detector("mediapipe", model="long")


def test_finds_the_one_face_in_the_bundled_sample(detector):
    frame = detector(read_image(ROOT / "assets" / "sample_face_pexels.jpg"))
    assert len(frame) == 1 and frame.confidence[0] > 0.5
    x1, y1, x2, y2 = frame.xyxy[0]
    assert 250 < (x1 + x2) / 2 < 500 and 100 < (y1 + y2) / 2 < 300  # the face is right of centre


def test_counts_on_real_photos(detector):
    assert len(detector(read_image(shared_path("data", "media", "multi_face.jpg")))) == 5
    assert len(detector(read_image(shared_path("data", "media", "voc_groups", "dogs.jpg")))) == 0


def test_blank_image_has_no_faces(detector):
    assert len(detector(np.zeros((240, 320, 3), np.uint8))) == 0


def test_crops_are_clipped_to_the_image():
    image = np.arange(100 * 80 * 3, dtype=np.uint8).reshape(100, 80, 3)
    crops = crop_faces(image, np.array([[-10, -10, 30, 40], [70, 90, 120, 130]], np.float32), margin=0.1)
    assert crops[0].shape == (45, 34, 3)  # y: 0..40+5, x: 0..30+4
    assert crops[1].shape[0] >= 1 and crops[1].shape[1] >= 1
