import os
import struct
import subprocess
import sys
import threading
import zlib
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from fervision.engine.sources import ImageSource, VideoFileSource, list_cameras, open_source, read_image
from fervision.errors import FervisionError
from fervision.outputs.video import H264Writer

from ..conftest import ROOT, shared_path


def write_clip(path, times, size=(64, 48), rotation=None, faststart=False, codec="libx264", noise=False):
    """An H.264 MP4 written with PyAV, frame i at ``times[i]`` seconds (time base 1/1000: any
    timing, including negative times an edit list hides); a white marker in the top-left corner."""
    w, h = size
    options = {"movflags": "faststart"} if faststart else {}
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p" if codec == "libx264" else "bgr24"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)  # the display matrix a phone writes
        for i, t in enumerate(times):
            image = rng.integers(0, 120, (h, w, 3), dtype=np.uint8) if noise else np.full((h, w, 3), 60, np.uint8)
            image[: h // 4, : w // 4] = 255
            image[0, 0] = min(255, i)  # frames differ
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


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


def test_irregular_timestamps_are_the_containers_not_index_over_fps(tmp_path):
    """A phone-style VFR clip (1 ms time base, bursts and gaps, B-frames): each frame's time is
    its own pts, also after a seek. (This held before issue 17 too: the output drift it reports
    is not the source's.)"""
    times = [0.0, 0.033, 0.1, 0.5, 0.533, 0.9, 1.0, 1.7, 1.733, 1.766, 2.4, 2.45, 3.3]
    path = write_clip(tmp_path / "vfr.mp4", times)
    with av.open(str(path)) as container:  # the file really is irregular
        assert [round(float(f.time), 3) for f in container.decode(video=0)] == times
    with open_source(path) as src:
        frames = list(src)
    assert [f.time_s for f in frames] == pytest.approx(times, abs=1e-6)
    assert [f.index for f in frames] == list(range(len(times)))
    assert not np.allclose([f.index / src.fps for f in frames], times, atol=0.1)  # index / fps would drift
    with VideoFileSource(path, start_s=1.7) as src:  # OpenCV lands near 1.7 s; times stay the file's own
        later = [f.time_s for f in src]
    assert later == pytest.approx(times[len(times) - len(later):], abs=1e-6) and len(later) >= 3


def test_closing_early_stops_the_decoder(small_video):
    with open_source(small_video) as src:
        for frame in src:
            if frame.index == 3:
                break
    assert src._thread is not None and not src._thread.is_alive()


def test_truncated_video_keeps_the_decodable_frames_and_counts_the_lost_ones(tmp_path):
    """The index first (faststart), the file cut at 2/5: what is there decodes, and the frames the
    index lists beyond the cut are the failed ones (before: 26 of 37, the give-up count)."""
    path = write_clip(tmp_path / "clip.mp4", np.arange(60) / 10, size=(160, 120), faststart=True, noise=True)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 5])
    with open_source(cut) as src:
        decoded = len(list(src))
    assert 10 < decoded < 60 - 25
    assert src.frame_count == 60 and src.failed_frames == 60 - decoded


@pytest.mark.parametrize("name,content,message", [
    ("missing.mp4", None, "No video file"),
    ("empty.mp4", b"", "empty"),
    ("text.mp4", b"certainly not a video" * 100,
     r"could not be opened as a video: .* not a video, or in a format this build cannot read; "
     r"try converting it to MP4 \(H.264\)\.$"),
])
def test_bad_video_files(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(FervisionError, match=message):
        open_source(path)


def test_an_unfinished_mp4_is_told_apart_from_random_bytes_and_ffmpeg_stays_quiet(tmp_path, capfd):
    """A recording or copy that stopped before its index (ftyp and mdat, no moov) used to print
    FFmpeg's "moov atom not found" and then "is not a video OpenCV can decode"."""
    whole = write_clip(tmp_path / "whole.mp4", np.arange(20) / 10, size=(160, 120), noise=True)  # index last
    unfinished = tmp_path / "lesson.mp4"
    unfinished.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(FervisionError) as incomplete:
        open_source(unfinished)
    with pytest.raises(FervisionError) as unknown:
        open_source(noise)
    assert "it is incomplete (its index is missing)" in str(incomplete.value)
    assert "still downloading or copying" in str(incomplete.value) and "converting" not in str(incomplete.value)
    assert "OpenCV" not in str(incomplete.value) + str(unknown.value)
    assert "converting it to MP4 (H.264)" in str(unknown.value) and "incomplete (its index" not in str(unknown.value)
    index_cut = tmp_path / "copying.mp4"  # small frames: the cut falls inside the index itself
    small = write_clip(tmp_path / "small.mp4", np.arange(20) / 10).read_bytes()
    index_cut.write_bytes(small[: len(small) * 2 // 3])
    with pytest.raises(FervisionError, match="could not be opened as a video: it ends early, as happens while it is "
                                             "still downloading or copying"):
        open_source(index_cut)
    printed = capfd.readouterr()
    assert "moov atom" not in printed.err + printed.out and printed.err == ""


def test_frames_an_edit_list_hides_are_not_counted_or_failed(tmp_path):
    """Three frames before time 0 (an edit list discards them, as in iPhone clips): OpenCV's
    count says 20 where 17 decode; before, 3 frames "could not be decoded" and progress ended at 85 %."""
    path = write_clip(tmp_path / "edit_list.mp4", (np.arange(20) - 3) / 10)
    assert cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FRAME_COUNT) == 20
    with open_source(path) as src:
        if hasattr(av.VideoStream, "index_entries"):  # PyAV >= 15 reads the index: right from the start
            assert src.frame_count == 17
        frames = list(src)
    assert len(frames) == 17 and src.failed_frames == 0 and src.frame_count == 17
    assert frames[0].time_s == 0.0


def test_no_face_clip_decodes_every_frame_without_failures():
    """``no_face.mp4``'s header says 98 frames; 95 decode, all of them (before: "3 frame(s) could
    not be decoded" and the progress bar stopped at 97 %)."""
    with open_source(shared_path("data", "media", "no_face.mp4")) as src:
        total = src.frame_count if hasattr(av.VideoStream, "index_entries") else 95  # the progress bar's total
        frames = list(src)
    assert total == len(frames) == src.frame_count == 95 and src.failed_frames == 0


def test_an_estimated_frame_count_becomes_the_frames_seen_at_the_end(tmp_path, monkeypatch):
    """Where the index cannot tell (other containers, older PyAV), the count is corrected when the
    stream ends, and the frames the estimate over-counts are not failures."""
    from fervision.engine import sources

    path = write_clip(tmp_path / "edit_list.mp4", (np.arange(20) - 3) / 10)
    monkeypatch.setattr(sources, "_indexed_frame_count", lambda path, count: None)
    with open_source(path) as src:
        assert src.frame_count == 20  # OpenCV's estimate
        assert len(list(src)) == 17
    assert src.frame_count == 17 and src.failed_frames == 0


@pytest.mark.parametrize("rotation,corner", [
    (-90, (slice(0, 16), slice(32, 48))),  # a phone held upright: turned 90° clockwise, the marker top-right
    (90, (slice(48, 64), slice(0, 16))),  # turned counter-clockwise: bottom-left
    (180, (slice(36, 48), slice(48, 64))),  # upside down: bottom-right
])
@pytest.mark.parametrize("opencv_turns", [True, False])
def test_rotated_phone_clips_come_upright(tmp_path, monkeypatch, rotation, corner, opencv_turns):
    """A clip stored 64×48 with a rotation in its display matrix (as phones write portrait video):
    frames and width/height are upright, whether OpenCV turns them (ORIENTATION_AUTO) or we do."""
    from fervision.engine import sources

    if not hasattr(av.VideoStream, "set_display_rotation"):
        pytest.skip("this PyAV cannot write a display matrix")
    path = write_clip(tmp_path / "phone.mp4", np.arange(5) / 10, rotation=rotation)
    with av.open(str(path)) as container:  # the tag really is in the file
        assert next(container.decode(video=0)).rotation % 360 == rotation % 360
    assert cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_ORIENTATION_META) == (-rotation) % 360
    if not opencv_turns:  # an OpenCV that cannot turn frames: an unknown property is refused
        monkeypatch.setattr(sources.cv2, "CAP_PROP_ORIENTATION_AUTO", 99_999)
    with open_source(path) as src:
        frames = list(src)
    portrait = rotation % 180 != 0
    assert (src.width, src.height) == ((48, 64) if portrait else (64, 48))
    assert all(f.image.shape[:2] == (src.height, src.width) for f in frames)
    image = frames[-1].image[..., 1]
    marker = np.zeros(image.shape, bool)
    marker[corner] = True
    assert image[marker].mean() > 200 and image[~marker].mean() < 100


def test_a_clip_without_rotation_is_left_alone(small_video):
    with open_source(small_video) as src:
        assert (src.width, src.height) == (64, 48) and next(iter(src)).image.shape == (48, 64, 3)


def test_a_video_too_small_to_analyse_is_one_sentence(tmp_path):
    """A 1-pixel-wide video used to end in an OpenCV assertion quoted in the message."""
    path = write_clip(tmp_path / "sliver.avi", np.arange(3) / 10, size=(1, 48), codec="rawvideo")
    with pytest.raises(FervisionError, match=r"sliver.avi is 1×48 pixels, too small to analyse \(a video needs "
                                             r"at least 16×16\)\."):
        open_source(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_named_pipe_is_refused_at_once(tmp_path):
    """Opening a FIFO used to wait forever for a writer."""
    fifos = [tmp_path / "lesson.mp4", tmp_path / "photo.jpg"]
    for fifo in fifos:
        os.mkfifo(fifo)
    outcomes: list[object] = []

    def attempt() -> None:
        for spec in (fifos[0], fifos[1]):
            try:
                open_source(spec)
            except FervisionError as exc:
                outcomes.append(str(exc))
        try:
            read_image(fifos[1])
        except FervisionError as exc:
            outcomes.append(str(exc))

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "opening a named pipe hangs"
    assert len(outcomes) == 3
    assert all("is a pipe, socket or device, not a regular file; give a saved" in str(o) for o in outcomes)
    cv2.imwrite(str(tmp_path / "real.png"), np.zeros((20, 20, 3), np.uint8))
    assert ImageSource(tmp_path).files == [tmp_path / "real.png"]  # a pipe among photos is passed over


def png_header_only(path, width, height):
    """A PNG whose header claims ``width × height`` (a few bytes on disk)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("size,message", [
    ((12_000, 10_000), r"is 12000×10000 pixels \(120 megapixels\), more than the 100 megapixels"),
    ((30_000, 30_000), "is larger than the 100 megapixels fervision reads; scale it down first"),
])
def test_huge_images_are_refused_before_decoding(tmp_path, size, message):
    """A 30000×30000 PNG took 6.4 GB; now its header is enough to refuse it."""
    path = png_header_only(tmp_path / "poster.png", *size)
    with pytest.raises(FervisionError, match=message):
        read_image(path)
    with pytest.raises(FervisionError, match=message):
        list(open_source(path))
    cv2.imwrite(str(tmp_path / "small.png"), np.zeros((20, 20, 3), np.uint8))
    folder = ImageSource(tmp_path)
    assert len(list(folder)) == 1 and folder.failed_frames == 1  # in a folder it is skipped and counted


def test_a_missing_camera_prints_nothing_but_our_sentence(capfd):
    """OpenCV's V4L2 and obsensor warnings used to print above it."""
    with pytest.raises(FervisionError, match="Camera 99 does not exist"):
        open_source("99")
    printed = capfd.readouterr()
    assert printed.err == "" and printed.out == ""
    list_cameras()
    assert capfd.readouterr().err == ""


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


@pytest.mark.parametrize("rotation", [None, -90])
@pytest.mark.parametrize("opencv_turns", [True, False])
def test_a_seek_past_the_end_gives_no_frames_and_no_error(tmp_path, monkeypatch, rotation, opencv_turns):
    """The app's seek slider can land on the very end; the size is still the upright one."""
    from fervision.engine import sources

    if not opencv_turns:
        monkeypatch.setattr(sources.cv2, "CAP_PROP_ORIENTATION_AUTO", 99_999)
    path = write_clip(tmp_path / "clip.mp4", np.arange(10) / 10, rotation=rotation)
    with VideoFileSource(path, start_s=5.0) as src:
        assert list(src) == [] and src.failed_frames == 0
    assert (src.width, src.height) == ((64, 48) if rotation is None else (48, 64))


def test_camera_list_is_empty_without_cameras(monkeypatch):
    from fervision.engine import sources

    monkeypatch.setattr(sources.cv2, "VideoCapture", lambda index: type("Closed", (), {
        "isOpened": lambda self: False, "release": lambda self: None})())
    assert sources.list_cameras() == []


def test_a_file_left_open_mid_decode_does_not_abort_python_at_exit():
    """Iterating a video, breaking out and ending without ``close()`` (the Python API's easy
    mistake) aborted the process: the decode thread was still inside FFmpeg."""
    script = ("import sys\nfrom fervision.engine.sources import VideoFileSource\n"
              "for i, frame in enumerate(VideoFileSource(sys.argv[1])):\n"
              "    if i == 2:\n        break\nprint('done')\n")
    result = subprocess.run([sys.executable, "-c", script, str(ROOT / "assets" / "sample_pexels.mp4")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == "done\n", result.stderr
    assert "terminate called" not in result.stderr
