import numpy as np

from fervision.engine.config import PipelineConfig, build_pipeline
from fervision.engine.frame import FaceFrame
from fervision.engine.sources import VideoFrame


class CountingDetector:
    """One fixed face; counts how often it is asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, image):
        self.calls += 1
        return FaceFrame(xyxy=np.array([[20, 20, 60, 70]], np.float32), confidence=np.array([0.9], np.float32))


def test_detects_every_nth_frame_and_confirms_new_faces_at_once():
    pipeline = build_pipeline(PipelineConfig(device="cpu", detect_every=3))
    pipeline.detector = CountingDetector()
    image = np.zeros((100, 100, 3), np.uint8)
    ids = []
    for i in range(7):
        ids.append(int(pipeline.process(VideoFrame(image, i / 10, i)).student_ids[0]))
    # frame 0: new face (-1), so frame 1 is detected too and confirms it; then frames 3 and 6.
    assert ids == [-1, 1, 1, 1, 1, 1, 1]
    assert pipeline.detector.calls == 4
    pipeline.restart()
    assert pipeline.process(VideoFrame(image, 9.0, 90)).student_ids[0] == -1  # a new face after a seek ...
    assert pipeline.process(VideoFrame(image, 9.1, 91)).student_ids[0] == 2  # ... gets the next number


def test_reading_made_before_confirmation_is_kept_not_repeated():
    pipeline = build_pipeline(PipelineConfig(device="cpu", detect_every=3, max_faces_per_frame=0))
    pipeline.detector = CountingDetector()
    recognizer, read = pipeline.recognizer, []
    predict = recognizer.predict
    recognizer.predict = lambda crops: read.append(len(crops)) or predict(crops)
    image = np.zeros((100, 100, 3), np.uint8)
    frames = [pipeline.process(VideoFrame(image, i / 10, i)) for i in range(12)]
    # read once unconfirmed at 0.0 s; confirmation at 0.1 s keeps that reading; next read at 1.0 s
    assert read == [1, 1]
    assert frames[1].student_ids[0] == 1
    assert np.allclose(frames[1].probs[0], frames[0].probs[0])
