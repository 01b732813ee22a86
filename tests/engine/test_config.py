import pytest

from fervision.engine.config import PipelineConfig, build_pipeline
from fervision.errors import FervisionError


def test_speed_defaults_depend_on_the_device():
    auto = PipelineConfig()
    assert auto.speed_settings("cpu") == (3, 0)  # detect every 3rd frame, labels refreshed once a second
    assert auto.speed_settings("cuda") == (1, None)  # every frame, every face
    explicit = PipelineConfig(detect_every=2, max_faces_per_frame=-1)
    assert explicit.speed_settings("cpu") == (2, None) and explicit.speed_settings("cuda") == (2, None)
    assert PipelineConfig(max_faces_per_frame=4).speed_settings("cuda") == (1, 4)


def test_build_pipeline_applies_the_config():
    pipeline = build_pipeline(PipelineConfig(device="cpu", min_face_px=30, min_face_score=0.8))
    assert [stage.name for stage in pipeline.stages] == ["scene cut", "detect", "track", "recognise", "smooth",
                                                         "facing front"]
    assert [s.name for s in pipeline.signals] == ["expression", "head_pose"]
    plain = build_pipeline(PipelineConfig(device="cpu", signals=("expression",)), recognizer=pipeline.recognizer)
    assert "facing front" not in [stage.name for stage in plain.stages] and len(plain.signals) == 1
    given = build_pipeline(PipelineConfig(device="cpu", front=(30.0, -5.0), facing_cone_deg=15.0),
                           recognizer=pipeline.recognizer).stage("facing front")
    assert given.fixed_front == (30.0, -5.0) and given.cone_deg == 15.0
    detect = pipeline.stage("detect")
    assert detect.every == 3 and pipeline.stage("recognise").scheduler.max_per_frame == 0
    assert detect.detector.min_size == 30 and detect.detector.detector.detector.min_confidence == 0.8
    still = build_pipeline(PipelineConfig(device="cpu"), still=True, recognizer=pipeline.recognizer)
    assert still.stage("detect").every == 1 and still.stage("track").tracker.min_hits == 1
    assert [stage.name for stage in still.stages] == ["detect", "track", "recognise", "smooth",
                                                       "facing front"]  # unrelated photos
    assert still.stage("track").second_look is not None  # a photo's faces get the second look too
    moving = build_pipeline(PipelineConfig(device="cpu", camera_motion=True), recognizer=pipeline.recognizer)
    assert [stage.name for stage in moving.stages[:2]] == ["scene cut", "camera motion"]
    # at a cut the camera-motion estimate starts afresh, with the held boxes and the tracks
    assert [type(f).__name__ for f in moving.stages[0].followers] == ["DetectStage", "TrackStage", "FollowCameraStage"]
    with pytest.raises(FervisionError, match="N >= 1"):
        build_pipeline(PipelineConfig(detect_every=0), recognizer=pipeline.recognizer)


@pytest.mark.parametrize("changes,message", [
    ({"min_face_score": -1.0}, r"minimum face score \(--min-face-score\) must be a number from 0 to 1, not -1.0\."),
    ({"min_face_score": float("nan")}, "must be a number from 0 to 1, not nan"),
    ({"min_face_score": 1.5}, "from 0 to 1"),
    ({"min_face_px": -1}, r"minimum face size \(--min-face-size\) must be 0 pixels or more, not -1\."),
    ({"tiles": 0}, "1 or more tiles per side"),
    ({"detect_every": 0}, "N >= 1"),
    ({"facing_cone_deg": 0}, r"facing-front cone \(--facing-cone\) must be more than 0 and at most 180"),
    ({"facing_cone_deg": float("nan")}, "facing-front cone"),
    ({"front": (200.0, 0.0)}, r"front \(--front YAW,PITCH\) must be two angles"),
    ({"front": (0.0,)}, "two angles"),
    ({"head_pose_landmarks": "openface"}, "Head-pose landmarks must be one of facemesh\\+yunet, facemesh, yunet"),
    ({"detect_every": -3}, "N >= 1"),
])
def test_out_of_range_values_are_refused_when_the_config_is_made(changes, message):
    """Before, -1 or nan reached OpenCV's NMS as an assertion failure (a traceback), and tiles=0 ran untiled."""
    with pytest.raises(FervisionError, match=message):
        PipelineConfig(**changes)
    with pytest.raises(ValueError):  # the app falls back to the defaults on stale saved settings
        PipelineConfig().with_(**changes)


def test_values_at_the_limits_are_accepted():
    config = PipelineConfig(min_face_score=0.0, min_face_px=0, tiles=1, detect_every=1)
    assert config.with_(min_face_score=1.0).min_face_score == 1.0
    assert PipelineConfig(min_face_score=None, detect_every=None).detect_every is None


def test_head_pose_reads_the_cheap_five_points_unless_told_otherwise():
    from fervision.engine.config import build_pipeline

    assert PipelineConfig().head_pose_landmarks == "yunet"
    pipeline = build_pipeline(PipelineConfig(device="cpu", head_pose_landmarks="facemesh"))
    (pose,) = [s for s in pipeline.signals if s.name == "head_pose"]
    assert pose.reader.landmarks == "facemesh" and pose.reader.five is None
