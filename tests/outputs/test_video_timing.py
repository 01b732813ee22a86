"""The annotated video keeps every frame at its source's time: a variable-frame-rate lesson (phones,
screen recordings) must not drift, a constant-rate one must keep its rate, and the sound its place."""

from fractions import Fraction

import av
import numpy as np
import pytest

from fervision.engine.sources import open_source
from fervision.outputs.video import H264Writer

from ..conftest import ROOT


def _frame_times(path):
    with av.open(str(path)) as c:
        return np.array([frame.time for frame in c.decode(video=0)])


def _make_vfr_clip(path, n=80, seed=1):
    """An H.264 clip whose frames come 10 to 120 ms apart, at whole milliseconds; their times in s."""
    ms = np.cumsum(np.random.default_rng(seed).integers(10, 120, n))
    ms -= ms[0]
    tick = Fraction(1, 1000)
    with av.open(str(path), "w") as c:
        stream = c.add_stream("libx264", rate=25, time_base=tick)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i, t in enumerate(ms):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 3 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = int(t), tick
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)
    return ms / 1000


def test_variable_frame_rate_output_keeps_each_frame_at_its_source_time(tmp_path):
    source_times = _make_vfr_clip(tmp_path / "vfr.mp4")
    assert np.allclose(_frame_times(tmp_path / "vfr.mp4"), source_times)  # the clip really is VFR
    out = tmp_path / "annotated.mp4"
    with open_source(tmp_path / "vfr.mp4") as source, H264Writer(out, source.fps or 25.0, (64, 48)) as writer:
        for frame in source:  # as annotate reads and writes it
            writer.write(frame.image, frame.time_s)
    written = _frame_times(out)
    assert len(written) == len(source_times)
    assert np.abs(written - source_times).max() < 0.001  # was up to a frame's length and more off


@pytest.mark.parametrize("fps", [25.0, 30000 / 1001])
def test_constant_frame_rate_output_keeps_its_rate_and_starts_at_zero(tmp_path, fps):
    out = tmp_path / "cfr.mp4"
    with H264Writer(out, fps, (64, 48)) as writer:
        for i in range(50):
            writer.write(np.full((48, 64, 3), 4 * i, np.uint8), i / fps)
    with av.open(str(out)) as c:
        video = c.streams.video[0]
        assert video.frames == 50 and abs(float(video.average_rate) - fps) < 1e-6
        assert abs(float(video.guessed_rate) - fps) < 1e-6  # what players show
    assert np.abs(_frame_times(out) - np.arange(50) / fps).max() < 0.001  # not two frames late (B-frame delay)


def test_sound_keeps_its_source_times_and_its_first_packet(tmp_path):
    sample = ROOT / "assets" / "sample_pexels.mp4"
    out = tmp_path / "a.mp4"
    with H264Writer(out, 10.0, (64, 48), audio_from=sample) as writer:
        for i in range(30):
            writer.write(np.zeros((48, 64, 3), np.uint8), i / 10)
    with av.open(str(sample)) as c:
        source = [(frame.time, frame.samples) for frame in c.decode(audio=0)][:20]
    with av.open(str(out)) as c:
        written = [(frame.time, frame.samples) for frame in c.decode(audio=0)][:20]
    assert written == source  # in sync with the pictures, none of the first sound dropped
    assert abs(_frame_times(out)[0]) < 0.001
