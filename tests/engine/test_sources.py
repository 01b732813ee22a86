import numpy as np
import pytest

from fervision.engine.sources import ImageSource, VideoFileSource, open_source
from fervision.errors import FervisionError
from fervision.outputs.video import H264Writer

from ..conftest import shared_path


@pytest.fixture
def small_video(tmp_path):
    path = tmp_path / "clip.mp4"
    with H264Writer(path, 10.0, (64, 48)) as w:
        for i in range(20):
            w.write(np.full((48, 64, 3), i * 10, np.uint8), i / 10)
    return path


def test_video_timestamps_come_from_the_container(small_video):
    with open_source(small_video) as src:
        frames = list(src)
    assert isinstance(src, VideoFileSource) and src.fps == pytest.approx(10.0)
    assert [f.index for f in frames] == list(range(20))
    assert np.allclose([f.time_s for f in frames], np.arange(20) / 10, atol=1e-3)


def test_variable_frame_rate_timestamps_are_kept(tmp_path):
    path = tmp_path / "vfr.mp4"
    times = [0.0, 0.1, 0.5, 0.6, 1.5]
    with H264Writer(path, 10.0, (64, 48)) as w:
        for t in times:
            w.write(np.zeros((48, 64, 3), np.uint8), t)
    with open_source(path) as src:
        assert np.allclose([f.time_s for f in src], times, atol=1e-3)


def test_closing_early_stops_the_decoder(small_video):
    with open_source(small_video) as src:
        for frame in src:
            if frame.index == 3:
                break
    assert src._thread is not None and not src._thread.is_alive()


def test_truncated_video_keeps_the_decodable_frames(small_video, tmp_path):
    data = small_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    try:
        src = open_source(cut)
    except FervisionError as exc:  # a cut that loses the index is refused with one sentence
        assert "not a video" in str(exc)
        return
    with src:
        assert len(list(src)) < 20


@pytest.mark.parametrize("name,content,message", [
    ("missing.mp4", None, "No video file"),
    ("empty.mp4", b"", "empty"),
    ("text.mp4", b"certainly not a video" * 100, "not a video"),
])
def test_bad_video_files(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(FervisionError, match=message):
        open_source(path)


def test_image_folder_and_bad_folders(tmp_path):
    import cv2

    with pytest.raises(FervisionError, match="holds no images"):
        open_source(tmp_path)
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((20, 30, 3), i, np.uint8))
    (tmp_path / "broken.jpg").write_bytes(b"xx")
    src = open_source(tmp_path)
    assert isinstance(src, ImageSource)
    frames = list(src)
    assert [f.time_s for f in frames] == [0.0, 1.0, 2.0] and src.failed_frames == 1


def test_missing_camera_is_one_sentence():
    with pytest.raises(FervisionError, match="Camera 99 does not exist"):
        open_source("99")


def test_real_clips_decode_with_increasing_timestamps():
    for name in ("single_face.mp4", "face_noface.mov"):
        with open_source(shared_path("data", "media", name)) as src:
            times = [f.time_s for f in src]
        assert len(times) > 60 and times[0] >= 0 and np.all(np.diff(times) > 0)


def test_starting_part_way_seeks_to_that_time(small_video):
    with VideoFileSource(small_video, start_s=1.0) as src:
        frames = list(src)
    assert frames[0].time_s == pytest.approx(1.0, abs=0.05)
    assert frames[0].index == round(frames[0].time_s * 10)  # indices stay those of the whole file
    assert src.duration_s == pytest.approx(src.frame_count / src.fps)


def test_camera_list_is_empty_without_cameras(monkeypatch):
    from fervision.engine import sources

    monkeypatch.setattr(sources.cv2, "VideoCapture", lambda index: type("Closed", (), {
        "isOpened": lambda self: False, "release": lambda self: None})())
    assert sources.list_cameras() == []
