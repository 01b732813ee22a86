"""The second look: a detection that is no face never becomes a student; real faces do."""

import cv2
import numpy as np

from fervision.engine.detectors import create_detector
from fervision.engine.pipeline import Pipeline
from fervision.engine.second_look import SecondLook
from fervision.engine.sources import VideoFrame
from fervision.engine.stages import DetectStage, TrackStage
from fervision.engine.tracking import StudentTracker

from ..conftest import ROOT, shared_path

LAP = np.array([954, 323, 1196, 524], np.float32)
"""A white shirt and lap on classroom_pan_720p that YuNet with 2×2 tiles finds at 0.70–0.72 from frame ~100 on."""


def test_a_real_face_is_found_again_and_the_background_is_not():
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    face = create_detector("yunet")(image).xyxy
    assert len(face) == 1
    background = np.array([[20, 200, 120, 300]], np.float32)  # the wall beside her
    assert SecondLook().look(image, np.concatenate([face, background])).tolist() == [True, False]


def _frames(start: int, count: int):
    cap = cv2.VideoCapture(str(shared_path("data", "media", "classroom_pan_720p.mp4")))
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    for i in range(start, start + count):
        ok, frame = cap.read()
        assert ok
        yield i, frame
    cap.release()


def test_the_lap_found_with_tiles_never_becomes_a_student_and_the_class_does():
    detector = create_detector("yunet", tiles=2)

    def students(look: SecondLook | None) -> tuple[dict[int, np.ndarray], Pipeline]:
        detect = DetectStage(detector, every=3)
        pipeline = Pipeline([detect, TrackStage(StudentTracker(), look)])
        boxes = {}
        for i, frame in _frames(90, 24):
            faces = pipeline.process(VideoFrame(frame, i / 25, i))
            boxes.update({int(s): b for s, b in zip(faces.student_ids, faces.xyxy, strict=True) if s > 0})
        return boxes, pipeline

    def on_the_lap(boxes: dict[int, np.ndarray]) -> list[int]:
        centres = {s: (b[:2] + b[2:]) / 2 for s, b in boxes.items()}
        return [s for s, c in centres.items() if LAP[0] < c[0] < LAP[2] and LAP[1] < c[1] < LAP[3]]

    without, _ = students(None)
    assert len(on_the_lap(without)) == 1  # the bug: a lap with a student id
    with_look, pipeline = students(SecondLook())
    assert on_the_lap(with_look) == []
    assert len(with_look) == len(without) - 1 >= 18  # every seated student still gets an id
    assert pipeline.counts["refused as not a face"] >= 1
