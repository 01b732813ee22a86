import numpy as np
import pytest

from fervision.core.boxes import crop_faces
from fervision.engine.detectors import create_detector, list_detectors
from fervision.engine.sources import read_image
from fervision.errors import FervisionError

from ..conftest import ROOT, shared_path


@pytest.fixture(scope="module")
def detector():
    return create_detector("mediapipe")


def test_registry():
    assert "mediapipe" in list_detectors()
    with pytest.raises(KeyError, match="unknown detector"):
        create_detector("nope")
    with pytest.raises(FervisionError, match="must be 'full' or 'short'"):
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


def test_yunet_is_the_default_and_ships_in_the_package():
    from fervision.engine.detectors import DEFAULT_DETECTOR
    from fervision.engine.detectors.yunet import find_yunet

    assert DEFAULT_DETECTOR == "yunet"
    assert find_yunet().parent == ROOT / "fervision" / "checkpoints"
    frame = create_detector()(read_image(ROOT / "assets" / "sample_face_pexels.jpg"))
    assert len(frame) == 1 and frame.confidence[0] >= 0.7


def test_yunet_counts_on_real_photos():
    detector = create_detector("yunet")
    assert len(detector(read_image(shared_path("data", "media", "multi_face.jpg")))) == 5
    # YuNet takes one dog's face for a human one (score 0.77, a known false positive); nothing
    # in the dogs photo scores like a clear human face.
    dogs = detector(read_image(shared_path("data", "media", "voc_groups", "dogs.jpg")))
    assert len(dogs) <= 1 and np.all(dogs.confidence < 0.8)


def test_missing_yunet_file_is_one_sentence(tmp_path, monkeypatch):
    from fervision.engine.detectors.yunet import find_yunet
    from fervision.errors import FervisionError

    shipped = ROOT / "fervision" / "checkpoints" / "face_detection_yunet_2023mar_anysize.onnx"
    assert find_yunet(shipped) == shipped
    monkeypatch.setenv("FERVISION_YUNET", str(shipped))
    assert find_yunet(search=[]) == shipped  # the environment variable comes before the package's file
    monkeypatch.delenv("FERVISION_YUNET")
    with pytest.raises(FervisionError, match="needs its model file"):
        find_yunet(search=[tmp_path / "nope.onnx"])
    # a file the user names must be there: a typo does not fall through to the shipped model
    with pytest.raises(FervisionError, match=r"YuNet's model_path names .*nope\.onnx, which is not a file"):
        find_yunet(tmp_path / "nope.onnx")
    monkeypatch.setenv("FERVISION_YUNET", str(tmp_path))
    with pytest.raises(FervisionError, match=r"FERVISION_YUNET names .*, which is not a file"):
        find_yunet()


def test_tiles_cover_the_frame_with_overlap():
    from fervision.engine.detectors.tiling import tile_windows

    windows = tile_windows(1920, 1080, 3, overlap=0.2)
    assert len(windows) == 9
    assert min(w[0] for w in windows) == 0 and max(w[2] for w in windows) >= 1920
    assert min(w[1] for w in windows) == 0 and max(w[3] for w in windows) >= 1080
    assert windows[1][0] < windows[0][2]  # neighbours overlap


def test_nms_keeps_the_best_of_overlapping_boxes():
    from fervision.core.boxes import nms

    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    assert nms(boxes, np.array([0.5, 0.9, 0.7])).tolist() == [1, 2]


def test_tiling_finds_faces_the_whole_frame_misses():
    """The bundled face, pasted small into a large empty frame: BlazeFace alone misses it, tiles find it."""
    import cv2

    face = read_image(ROOT / "assets" / "sample_face_pexels.jpg")[60:360, 280:580]
    canvas = np.full((1080, 1920, 3), 90, np.uint8)
    canvas[700:740, 1500:1540] = cv2.resize(face, (40, 40), interpolation=cv2.INTER_AREA)
    plain = create_detector("mediapipe")(canvas)
    tiled = create_detector("mediapipe", tiles=3)(canvas)
    assert len(plain) == 0
    assert len(tiled) >= 1 and np.all(tiled.xyxy[:, 0] > 1400)


def test_faces_below_the_minimum_size_are_dropped():
    from fervision.core.frame import FaceFrame
    from fervision.engine.detectors import SizeFilter

    boxes = np.array([[0, 0, 10, 10], [0, 0, 16, 16], [5, 5, 45, 25]], np.float32)  # sizes 10, 16, 28.3
    fake = lambda image: FaceFrame(xyxy=boxes.copy(), confidence=np.array([0.9, 0.8, 0.7], np.float32))  # noqa: E731
    kept = SizeFilter(fake, 16)(np.zeros((50, 50, 3), np.uint8))
    assert kept.xyxy.tolist() == boxes[1:].tolist() and kept.confidence.tolist() == pytest.approx([0.8, 0.7])
    assert len(SizeFilter(fake, 0)(None)) == 3
    assert isinstance(create_detector("yunet"), SizeFilter) and not isinstance(
        create_detector("yunet", min_size=0), SizeFilter)


@pytest.mark.parametrize("name", ["yunet", "mediapipe"])
@pytest.mark.parametrize("options,message", [
    ({"min_confidence": -1.0}, "minimum score must be a number from 0 to 1, not -1.0"),
    ({"min_confidence": float("nan")}, "minimum score must be a number from 0 to 1, not nan"),
    ({"min_confidence": 1.5}, "from 0 to 1"),
    ({"tiles": 0}, "1 or more tiles per side"),
])
def test_bad_detector_options_are_one_sentence(name, options, message):
    """YuNet used to end in OpenCV's NMS assertion; BlazeFace silently found nothing."""
    with pytest.raises(FervisionError, match=message):
        create_detector(name, **options)


def test_yunet_max_side_and_nms_are_checked():
    with pytest.raises(FervisionError, match="max_side must be 32 pixels or more"):
        create_detector("yunet", max_side=0)
    from fervision.engine.detectors.yunet import YuNetDetector

    with pytest.raises(FervisionError, match="NMS threshold must be a number from 0 to 1"):
        YuNetDetector(nms=-0.5)


@pytest.mark.parametrize("name", ["yunet", "mediapipe"])
@pytest.mark.parametrize("image,what", [
    (np.zeros((240, 320), np.uint8), r"shape \(240, 320\) and type uint8"),
    (np.zeros((240, 320, 4), np.uint8), r"shape \(240, 320, 4\)"),
    (np.zeros((240, 320, 3), np.float32), "type float32"),
    ([[0, 0, 0]], "a list"),
])
def test_images_a_detector_cannot_read_are_one_sentence(name, image, what):
    """A grey or BGRA frame used to fail deep inside OpenCV's DNN with a C++ error."""
    detector = create_detector(name, min_size=0)
    with pytest.raises(FervisionError, match=f"needs a colour BGR image .*, not .*{what}"):
        detector(image)
    assert len(detector(np.zeros((0, 0, 3), np.uint8))) == 0  # an empty window has no faces


def _as_frames(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort(rows[:, :2].T)  # by y, then x: the two runtimes' NMS may list ties differently
    return rows[order, :14], rows[order, 14]


@pytest.mark.parametrize("crop", [None, (17, 203, 5, 333)], ids=["whole", "odd-sized"])
def test_yunet_runs_the_same_on_onnxruntime_and_opencv(crop):
    """The default runtime (ONNX Runtime, our decoding) finds what OpenCV's FaceDetectorYN finds."""
    from fervision.engine.detectors.yunet import find_yunet
    from fervision.engine.detectors.yunet_runtime import OnnxRuntimeYuNet, OpenCvYuNet

    image = read_image(ROOT / "assets" / "sample_face_pexels.jpg")
    image = np.ascontiguousarray(image[crop[0]:crop[1], crop[2]:crop[3]]) if crop else image
    group = read_image(shared_path("data", "media", "multi_face.jpg"))
    ours, theirs = OnnxRuntimeYuNet(find_yunet(), 0.3, 0.3), OpenCvYuNet(find_yunet(), 0.3, 0.3)
    for picture in (image, group, np.zeros((64, 96, 3), np.uint8)):
        (a, score_a), (b, score_b) = _as_frames(ours.detect(picture)), _as_frames(theirs.detect(picture))
        assert a.shape == b.shape and np.allclose(a, b, atol=0.05) and np.allclose(score_a, score_b, atol=1e-4)
    assert len(ours.detect(group)) >= 5


def test_yunet_runtime_is_chosen_by_what_is_installed_and_the_file(monkeypatch):
    from fervision.engine.detectors import yunet_runtime
    from fervision.engine.detectors.yunet import YuNetDetector

    assert YuNetDetector().runtime.name == "onnxruntime"
    assert YuNetDetector(backend="opencv").runtime.name == "opencv"
    with pytest.raises(FervisionError, match="runs on auto, onnxruntime, opencv, not 'tensorrt'"):
        YuNetDetector(backend="tensorrt")  # type: ignore[arg-type]
    # opencv_zoo's own file has a fixed 640x640 input: OpenCV's DNN runs it, ONNX Runtime would refuse other sizes
    fixed = shared_path("models", "face_detection_yunet_2023mar.onnx")
    assert YuNetDetector(fixed).runtime.name == "opencv"
    with pytest.raises(FervisionError, match="has a fixed input size"):
        YuNetDetector(fixed, backend="onnxruntime")
    monkeypatch.setattr(yunet_runtime, "onnxruntime_available", lambda: False)
    assert YuNetDetector().runtime.name == "opencv"
    with pytest.raises(FervisionError, match="needs the onnxruntime package"):
        YuNetDetector(backend="onnxruntime")


@pytest.mark.parametrize("backend", ["auto", "onnxruntime", "opencv"])
def test_a_file_that_is_no_model_is_one_sentence(tmp_path, backend):
    from fervision.engine.detectors.yunet import YuNetDetector

    bad = tmp_path / "yunet.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(FervisionError, match=r"cannot read .*yunet\.onnx as"):
        YuNetDetector(bad, backend=backend)
