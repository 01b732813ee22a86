import cv2
import numpy as np

from fervision.core.frame import FaceFrame
from fervision.engine.config import PipelineConfig, build_pipeline
from fervision.engine.pipeline import Pipeline
from fervision.engine.sources import VideoFrame


class CountingDetector:
    """One fixed face; counts how often it is asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, image):
        self.calls += 1
        return FaceFrame(xyxy=np.array([[20, 20, 60, 70]], np.float32), confidence=np.array([0.9], np.float32))


def _fake_detector_pipeline(config: PipelineConfig, detector) -> Pipeline:
    """The usual pipeline with a fake detector; its drawn squares are no faces to the second look,
    so that is switched off (tests of the second look build real images)."""
    pipeline = build_pipeline(config)
    pipeline.stage("detect").detector = detector
    pipeline.stage("track").second_look = None
    return pipeline


def test_detects_every_nth_frame_and_confirms_new_faces_at_once():
    pipeline = _fake_detector_pipeline(PipelineConfig(device="cpu", detect_every=3), detector := CountingDetector())
    image = np.zeros((100, 100, 3), np.uint8)
    ids = []
    for i in range(7):
        ids.append(int(pipeline.process(VideoFrame(image, i / 10, i)).student_ids[0]))
    # frame 0: new face (-1), so frame 1 is detected too and confirms it; then frames 3 and 6.
    assert ids == [-1, 1, 1, 1, 1, 1, 1]
    assert detector.calls == 4
    pipeline.restart()  # a seek: the student is re-found where they sit, with their id, at once
    assert pipeline.process(VideoFrame(image, 9.0, 90)).student_ids[0] == 1
    assert detector.calls == 5  # the seek's frame is detected afresh


def test_reading_made_before_confirmation_is_kept_not_repeated():
    pipeline = _fake_detector_pipeline(PipelineConfig(device="cpu", detect_every=3, max_faces_per_frame=0),
                                       CountingDetector())
    recognizer, read = pipeline.recognizer, []
    predict = recognizer.predict
    recognizer.predict = lambda crops: read.append(len(crops)) or predict(crops)
    image = np.zeros((100, 100, 3), np.uint8)
    frames = [pipeline.process(VideoFrame(image, i / 10, i)) for i in range(12)]
    # read once unconfirmed at 0.0 s; confirmation at 0.1 s keeps that reading; next read at 1.0 s
    assert read == [1, 1]
    assert frames[1].student_ids[0] == 1
    assert np.allclose(frames[1].probs[0], frames[0].probs[0])


class BlobDetector:
    """Finds white squares on black; records the size of every image it is given."""

    def __init__(self) -> None:
        self.shapes = []

    def __call__(self, image):
        self.shapes.append(image.shape[:2])
        contours, _ = cv2.findContours((image[..., 0] > 128).astype(np.uint8), cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)
        boxes = [(x, y, x + w, y + h) for x, y, w, h in map(cv2.boundingRect, contours)]
        return FaceFrame(xyxy=np.array(boxes, np.float32).reshape(-1, 4), confidence=np.ones(len(boxes), np.float32))


def _squares(*boxes):
    image = np.zeros((480, 640, 3), np.uint8)
    for x1, y1, x2, y2 in boxes:
        image[y1:y2, x1:x2] = 255
    return image


def test_a_new_face_is_confirmed_by_looking_only_around_it():
    pipeline = _fake_detector_pipeline(PipelineConfig(device="cpu", detect_every=3), detector := BlobDetector())
    seated, newcomer = (100, 100, 140, 140), (170, 100, 210, 140)  # side by side, 30 px apart
    frames = [pipeline.process(VideoFrame(_squares(seated), 0.0, 0)),
              pipeline.process(VideoFrame(_squares(seated), 0.1, 1)),  # confirms the seated face
              pipeline.process(VideoFrame(_squares(seated), 0.2, 2)),
              pipeline.process(VideoFrame(_squares(seated, newcomer), 0.3, 3)),  # scheduled: finds the newcomer
              pipeline.process(VideoFrame(_squares(seated, newcomer), 0.4, 4))]  # window around it
    assert detector.shapes[0] == detector.shapes[2] == (480, 640)
    assert detector.shapes[1][0] < 480 and detector.shapes[3][0] < 480  # frames 1 and 4: windows only
    assert len(detector.shapes) == 4  # frame 2 reuses the boxes
    assert frames[1].student_ids.tolist() == [1]
    assert sorted(frames[3].student_ids.tolist()) == [-1, 1]
    # the seated student also shows in the newcomer's window, but is held once, with their own id
    assert sorted(frames[4].student_ids.tolist()) == [1, 2] and len(frames[4]) == 2
    assert pipeline.counts["detector runs"] == 2 and pipeline.counts["window detector runs"] == 2
