"""The frame loop feeds sinks; a per-face signal added as one module reaches faces.csv and the overlay."""

import csv

import cv2
import numpy as np
import pytest

from fervision.analysis.annotate import annotate
from fervision.analysis.loop import FrameLoop, run
from fervision.core.frame import FaceFrame
from fervision.engine.config import PipelineConfig
from fervision.engine.pipeline import Pipeline
from fervision.engine.signals import list_signals, register_signal
from fervision.engine.signals.registry import SIGNALS
from fervision.engine.sources import VideoFrame
from fervision.outputs.sink import Sink, SinkBase
from fervision.outputs.video import H264Writer

from ..conftest import ROOT


class Collect(SinkBase):
    def __init__(self, every_frame=False):
        self.every_frame, self.seen, self.closed = every_frame, [], False

    def write(self, faces, image_bgr):
        self.seen.append((faces.index, faces.time_s, len(faces)))

    def close(self):
        self.closed = True


class OneFace:
    name, counts = "one face", {}

    def __call__(self, faces, image_bgr):
        return FaceFrame(xyxy=[[0, 0, 10, 10]], confidence=[0.9], time_s=faces.time_s, index=faces.index)

    def reset(self):
        pass


def _frames(n):
    return [VideoFrame(np.zeros((20, 20, 3), np.uint8), i / 10, i) for i in range(n)]


def test_run_analyses_every_stride_frame_and_holds_the_rest_for_every_frame_sinks():
    table, video = Collect(), Collect(every_frame=True)
    assert isinstance(table, Sink)
    stats = run(_frames(5), FrameLoop(Pipeline([OneFace()]), [table, video]), stride=2)
    assert (stats.frames, stats.processed, stats.faces) == (5, 3, 5)
    assert [i for i, _, _ in table.seen] == [0, 2, 4]  # per-face tables: analysed frames only
    assert [(i, t) for i, t, _ in video.seen] == [(i, i / 10) for i in range(5)]  # video: every frame, own time


def test_a_failing_sink_is_dropped_and_reported_when_asked():
    class Broken(Collect):
        def write(self, faces, image_bgr):
            raise OSError(28, "No space left on device")

    broken, kept, failures = Broken(), Collect(), []
    loop = FrameLoop(Pipeline([OneFace()]), [broken, kept], on_sink_error=lambda s, e: failures.append((s, e)))
    run(_frames(3), loop)
    assert broken.closed and loop.sinks == [kept] and len(kept.seen) == 3
    assert failures[0][0] is broken and "No space" in str(failures[0][1])
    with pytest.raises(OSError):
        run(_frames(1), FrameLoop(Pipeline([OneFace()]), [Broken()]))


class FaceArea:
    """A toy signal: the box's area, to show what a new signal touches."""

    name = "face_area"
    keys = smoothed = ("face_area",)

    def unknown(self, n):
        return {"face_area": np.full(n, np.nan, np.float32)}

    def read(self, image_bgr, faces):
        return {"face_area": np.prod(faces.xyxy[:, 2:] - faces.xyxy[:, :2], axis=1)}

    def columns(self):
        return ["face_area_px"]

    def cells(self, faces, i):
        value = faces.data["face_area"][i]
        return ["" if np.isnan(value) else f"{value:.0f}"]

    def overlay_text(self, faces, i):
        return f"{faces.data['face_area'][i]:.0f} px²"


@pytest.fixture
def face_area_signal():
    register_signal("face_area")(lambda **_: FaceArea())
    yield
    SIGNALS.unregister("face_area")


def test_a_new_signal_reaches_the_faces_table_without_touching_outputs(face_area_signal, tmp_path):
    assert "face_area" in list_signals()
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    clip = tmp_path / "clip.mp4"
    with H264Writer(clip, 10.0, (image.shape[1], image.shape[0])) as w:
        for i in range(4):
            w.write(image, i / 10)
    config = PipelineConfig(device="cpu", signals=("expression", "face_area"))
    result = annotate(str(clip), config, tmp_path / "out", progress=False)
    with open(result.outputs["faces"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-1] == "face_area_px" and "p_contempt" in rows[0]
    x1, y1, x2, y2 = (float(rows[0][k]) for k in ("x1", "y1", "x2", "y2"))
    assert float(rows[0]["face_area_px"]) == pytest.approx((x2 - x1) * (y2 - y1), rel=0.01)
