import cv2
import numpy as np

from fervision.core.boxes import warp_boxes
from fervision.engine.motion import CameraMotion

from ..conftest import ROOT


def test_estimates_a_pan_and_a_zoom():
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    h, w = image.shape[:2]
    cm = CameraMotion()
    cm.estimate(image)
    shifted = cv2.warpAffine(image, np.float32([[1, 0, 12], [0, 1, -5]]), (w, h), borderMode=cv2.BORDER_REFLECT)
    m = cm.estimate(shifted)
    assert np.allclose(m[:, :2], np.eye(2), atol=0.01) and np.allclose(m[:, 2], [12, -5], atol=1.0)
    zoom = cv2.getRotationMatrix2D((w / 2, h / 2), 0, 1.05).astype(np.float32)
    m = cm.estimate(cv2.warpAffine(shifted, zoom, (w, h), borderMode=cv2.BORDER_REFLECT))
    assert abs(np.sqrt(np.linalg.det(m[:, :2])) - 1.05) < 0.01


def test_blank_frames_give_identity():
    cm = CameraMotion()
    blank = np.zeros((240, 320, 3), np.uint8)
    cm.estimate(blank)
    assert np.array_equal(cm.estimate(blank), np.array([[1, 0, 0], [0, 1, 0]], np.float32))


def test_warp_boxes():
    m = np.array([[2, 0, 10], [0, 2, -5]], np.float32)
    assert warp_boxes(np.array([[0, 0, 10, 20]], np.float32), m).tolist() == [[10, -5, 30, 35]]
