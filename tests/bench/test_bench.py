import json

import cv2
import numpy as np

from fervision.bench.detection import choose, format_held_out, format_scores, held_out_thresholds, score_detector
from fervision.bench.pipeline import bench_video, format_bench
from fervision.core.frame import FaceFrame
from fervision.engine.config import PipelineConfig
from fervision.outputs.video import H264Writer

from ..conftest import ROOT, shared_path


def test_detection_scoring_by_hand(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((200, 200, 3), np.uint8))
    truth = {"a.png": {"boxes_xywh": [[10, 10, 20, 20], [100, 100, 30, 30], [150, 10, 40, 40], [60, 60, 50, 50]],
                       "invalid": [0, 0, 0, 1]}}

    def detector(image):  # finds the 20 px and 30 px faces, one false alarm, and the invalid face
        xyxy = np.array([[11, 11, 31, 31], [100, 100, 130, 130], [0, 150, 20, 170], [60, 60, 110, 110]], np.float32)
        return FaceFrame(xyxy=xyxy, confidence=np.array([0.9, 0.8, 0.7, 0.6], np.float32))

    s = score_detector("fake", detector, tmp_path, truth)
    assert s.total == {"<24": 1, "24-48": 2, ">=48": 0}
    assert s.found == {"<24": 1, "24-48": 1, ">=48": 0}
    assert s.recall_24_plus == 0.5
    assert s.true_positives == 2 and s.detections == 3  # the detection on the invalid face counts neither way
    assert "| fake | 100.0 % | 50.0 % |" in format_scores([s])
    json.dumps(s.found)


def test_threshold_choice_by_hand():
    """Two 30 px faces per photo; a true detection at 0.9, one at 0.6, a false one at 0.7."""
    truth = {f: {"boxes_xywh": [[0, 0, 30, 30], [100, 0, 30, 30]]} for f in ("a", "b")}
    frame = FaceFrame(xyxy=np.array([[0, 0, 30, 30], [100, 0, 130, 30], [50, 50, 80, 80]], np.float32),
                      confidence=np.array([0.9, 0.6, 0.7], np.float32))
    found = {"a": frame, "b": frame}
    # 0.5 / 0.6: recall 100 %, precision 67 %; 0.65 / 0.7: 50 %, 50 %; 0.75+: 50 %, 100 %
    assert choose(found, truth, ["a", "b"], (0.5, 0.6, 0.7, 0.8, 0.9), min_precision=0.95) == 0.8
    assert choose(found, truth, ["a"], (0.5, 0.6, 0.7), min_precision=0.6) == 0.5  # a tie: the lower threshold
    assert choose(found, truth, ["a"], (0.6, 0.7, 0.8), min_precision=0.4) == 0.6  # best recall first
    assert choose(found, truth, ["a"], (0.5, 0.7), min_precision=0.99) == 0.5  # none gets there: most precise


def test_threshold_chosen_on_other_photos_scores_each_photo_once():
    data = shared_path("data", "wider_classroom")
    choices = held_out_thresholds(data, folds=2)
    photos = len(json.loads((data / "ground_truth.json").read_text()))
    assert [c.held_out.images for c in choices] == [photos - photos // 2, photos // 2]
    assert all(c.tuned.images + c.held_out.images == photos for c in choices)
    assert "each scored held out" in format_held_out(choices)


def test_video_bench_reports_every_stage(tmp_path):
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    clip = tmp_path / "clip.mp4"
    with H264Writer(clip, 10.0, (image.shape[1], image.shape[0])) as w:
        for i in range(8):
            w.write(image, i / 10)
    b = bench_video(clip, PipelineConfig(device="cpu"), max_frames=8)
    assert b.frames == 8 and b.faces == 8 and b.source_fps == 10.0
    stages = {"decode (wait)", "detect", "track", "recognise", "smooth", "draw + encode (wait)", "encode (finish)"}
    assert stages <= set(b.stages)
    assert b.pipeline_fps > 0 and b.decode_only_fps > 0
    # CPU defaults: detect frames 0 and 1 (to confirm the new face), 3 and 6; one reading in 0.8 s; one
    # second look when the face became a student
    assert b.work == {"detector runs": 4, "recognition batches": 1, "faces read": 1, "second looks": 1,
                      "refused as not a face": 0}
    assert "x real time" in format_bench(b)


def test_pose_bench_auc_by_hand():
    from fervision.bench.pose import auc

    assert auc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 1.0
    assert auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 0.0
    assert auc(np.array([1.0, 3.0]), np.array([2.0, 3.0])) == 0.625  # one win of four, one tie
    assert np.isnan(auc(np.array([]), np.array([1.0])))


def test_pose_bench_on_real_faces_and_a_video(tmp_path):
    from fervision.bench.pose import bench_pose, format_pose, plot_video_pose
    from fervision.engine.detectors import create_detector

    face = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    truth = {}
    for k, scale in enumerate((1.0, 0.6, 0.4)):  # the same face at three sizes, with a box from the detector
        image = cv2.resize(face, None, fx=scale, fy=scale)
        cv2.imwrite(str(tmp_path / f"{k}.jpg"), image)
        (x1, y1, x2, y2), = create_detector("yunet")(image).xyxy
        truth[f"{k}.jpg"] = {"boxes_xywh": [[x1, y1, x2 - x1, y2 - y1]], "pose": [k == 2], "invalid": [0]}
    (tmp_path / "ground_truth.json").write_text(json.dumps(truth, default=float))
    scores = bench_pose(tmp_path, ["facemesh", "yunet"])
    for s in scores:
        assert s.faces == 3 and s.posed == 3 and s.typical == 2 and s.atypical == 1
        assert s.yaw_diff_deg < 10  # yaw on the mirrored photo is about -yaw
    assert "| facemesh | 3/3 (100 %) |" in format_pose(scores)
    png = plot_video_pose(ROOT / "assets" / "sample_pexels.mp4", tmp_path / "pose.png", max_s=1.0)
    assert png.read_bytes()[:4] == b"\x89PNG"
