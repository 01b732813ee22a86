import csv
import errno
import math
import os
import shutil
import subprocess
import time

import av
import numpy as np
import pytest

from fervision.core.frame import FaceFrame
from fervision.engine.signals.expression import ExpressionSignal
from fervision.outputs.csv_sinks import ClassCsvSink, FacesCsvSink, StudentsCsvSink, faces_header
from fervision.outputs.overlay import draw_faces
from fervision.outputs.record import EVERY_FACE, LessonRecord
from fervision.outputs.timeline import save_timeline
from fervision.outputs.video import H264Writer

from ..conftest import ROOT, shared_path

LABELS = ["neutral", "happiness", "sadness"]
SIGNALS = [ExpressionSignal(LABELS)]


def _frame(index, t, ids, tops):
    probs = np.full((len(ids), 3), 0.1, np.float32)
    for i, top in enumerate(tops):
        probs[i, top] = 0.8
    xyxy = np.array([[10 + 50 * i, 10, 50 + 50 * i, 50] for i in range(len(ids))], np.float32).reshape(-1, 4)
    return FaceFrame(xyxy=xyxy, confidence=np.full(len(ids), 0.9, np.float32), time_s=t, index=index,
                     student_ids=np.array(ids), data={"expression": probs}, labels=LABELS)


def _read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_sinks_schema_and_incremental_rows(tmp_path):
    record = LessonRecord(LABELS, EVERY_FACE)
    frames = [_frame(0, 0.0, [1, 2], [1, 0]), _frame(1, 0.5, [1, 2], [1, 2]), _frame(2, 1.2, [1, -1], [2, 0])]
    with FacesCsvSink(tmp_path / "f.csv", SIGNALS) as fs, ClassCsvSink(tmp_path / "c.csv", record) as cs, \
            StudentsCsvSink(tmp_path / "s.csv", record) as ss:
        for i, fr in enumerate(frames):
            record.add(fr)
            for sink in (fs, cs, ss):
                sink.write(fr, None)
            if i == 1:  # written as we go: an interrupted run keeps finished frames
                assert len(_read(tmp_path / "f.csv")) == 1 + 4
    faces = _read(tmp_path / "f.csv")
    assert faces[0] == faces_header(SIGNALS)
    assert faces[0][-3:] == ["p_neutral", "p_happiness", "p_sadness"]
    assert faces[1][:3] == ["0", "0.000", "1"] and faces[1][8] == "happiness"
    assert len(faces) == 1 + 6
    students = _read(tmp_path / "s.csv")
    assert students[0] == ["student_id", "name", "counted", "not_counted_because", "first_s", "last_s", "seen_s",
                           "frames", "dominant_emotion", "share_neutral", "share_happiness", "share_sadness",
                           "facing_front_share"]
    assert students[1][:9] == ["1", "", "1", "", "0.000", "1.200", "1.2", "3", "happiness"]
    assert [float(v) for v in students[1][9:12]] == [0.0, round(2 / 3, 4), round(1 / 3, 4)]
    assert students[1][12] == ""  # no head pose read
    assert len(students) == 3  # the unconfirmed face (-1) is not a student
    classes = _read(tmp_path / "c.csv")
    assert classes[0] == ["time_s", "faces", "share_neutral", "share_happiness", "share_sadness", "facing_front_share"]
    assert classes[1][:2] == ["0", "2.00"] and [float(v) for v in classes[1][2:5]] == [0.25, 0.5, 0.25]
    # the class counts students only: the unconfirmed face of second 1 is left out
    assert classes[2][:2] == ["1", "1.00"] and [float(v) for v in classes[2][2:5]] == [0.0, 0.0, 1.0]


def test_overlay_draws_and_blurs():
    image = np.random.default_rng(0).integers(0, 256, (100, 200, 3), dtype=np.uint8)
    frame = _frame(0, 0.0, [1], [1])
    drawn = draw_faces(image, frame, SIGNALS)
    blurred = draw_faces(image, frame, SIGNALS, blur=True)
    assert drawn.shape == image.shape and not np.array_equal(drawn, image)
    inner = (slice(25, 45), slice(20, 40))
    assert np.array_equal(drawn[inner], image[inner])  # inside the box stays sharp ...
    assert not np.array_equal(blurred[inner], image[inner])  # ... unless privacy blur is on


def test_timeline_png(tmp_path):
    record = LessonRecord(LABELS)
    for i in range(50):
        record.add(_frame(i, i * 0.1, [1, 2], [i % 3, 1]))
    path = save_timeline(record, tmp_path / "t.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_h264_writer_keeps_size_fps_and_audio(tmp_path):
    src = shared_path("data", "media", "single_face.mp4")
    out = tmp_path / "a.mp4"
    with H264Writer(out, 30.0, (640, 360), audio_from=src) as w:
        for i in range(30):
            w.write(np.full((360, 640, 3), 4 * i, np.uint8), i / 30)
    with av.open(str(out)) as c:
        video = c.streams.video[0]
        assert video.codec_context.name == "h264" and (video.width, video.height) == (640, 360)
        assert float(video.average_rate) == 30.0 and video.frames == 30
        assert len(c.streams.audio) == 1
    assert not (tmp_path / "a.partial.mp4").exists()


def test_h264_writer_without_audio(tmp_path):
    with H264Writer(tmp_path / "b.mp4", 25.0, (33, 21), audio_from=ROOT / "README.md") as w:  # odd size, no audio
        for i in range(5):
            w.write(np.zeros((21, 33, 3), np.uint8), i / 25)
    with av.open(str(tmp_path / "b.mp4")) as c:
        assert c.streams.video[0].frames == 5 and not c.streams.audio


def test_overlay_names_highlight_and_labels_at_the_edge():
    image = np.zeros((100, 200, 3), np.uint8)
    frame = _frame(0, 0.0, [1, 2], [1, 0])
    frame.xyxy[0] = [-5, 0, 30, 40]  # a face cut by the frame's top-left corner
    plain = draw_faces(image, frame, SIGNALS)
    named = draw_faces(image, frame, SIGNALS, names={2: "Ana"})
    assert not np.array_equal(plain, named)  # the name widens student 2's label
    assert np.array_equal(plain[:, :50], named[:, :50])  # student 1 is drawn the same
    highlighted = draw_faces(image, frame, SIGNALS, highlight=2)
    ring = highlighted[5:55, 55]  # left of student 2's box (x1 = 60)
    assert (ring == 255).all(axis=1).any()  # the white outer frame
    assert not (plain[5:55, 55] == 255).all(axis=1).any()


def test_names_with_accents_render_as_typed():
    from fervision.outputs.overlay import label_patch

    texts = ("José Núñez", "Jose Nunez", "Jos? N?nez")
    accented, plain, question = (label_patch(t, (200, 200, 200), 18) for t in texts)
    assert accented.shape == plain.shape  # the same letters, with their accents: not "Jos?? N????ez"
    assert not np.array_equal(accented, plain) and not np.array_equal(accented, question)
    assert label_patch("Дарья Ωμέγα", (200, 200, 200), 18).shape[1] > 60  # Cyrillic and Greek too


def test_labels_never_cover_each_other_in_a_crowded_class():
    from fervision.outputs.overlay import layout_labels, text_size

    rows, cols = 5, 6  # 30 faces of 50 px, 20 px apart, in a 720p frame
    xyxy = np.array([[100 + 70 * c, 100 + 70 * r, 150 + 70 * c, 150 + 70 * r]
                     for r in range(rows) for c in range(cols)], np.float32)
    n = len(xyxy)
    probs = np.full((n, 3), 0.1, np.float32)
    probs[:, 1] = 0.8
    frame = FaceFrame(xyxy=xyxy, confidence=np.ones(n), student_ids=np.arange(1, n + 1),
                      data={"expression": probs}, labels=LABELS)
    texts = [(f"#{i + 1} Student {i + 1} happiness 80%", f"#{i + 1}") for i in range(n)]
    placed = layout_labels(frame, texts, [(0, 200, 255)] * n, text_size((720, 1280)), (1280, 720), first=17)
    rects = [p.rect for p in placed]
    assert all(not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
               for k, a in enumerate(rects) for b in rects[k + 1:])
    selected = next(p for p in placed if p.face == 17)
    assert selected.text.startswith("#18 Student")  # the selected one in full
    assert len(placed) == n  # crowded, but every face still shows at least its id
    drawn = draw_faces(np.zeros((720, 1280, 3), np.uint8), frame, SIGNALS, names={18: "José Núñez"}, highlight=18)
    assert drawn.shape == (720, 1280, 3)


def _decoded(path, kind="video"):
    """Frames (or audio frames) that decode, and the time of the last one."""
    with av.open(str(path)) as c:
        frames = list(c.decode(**{kind: 0}))
    return len(frames), (frames[-1].time if frames else None)


def test_h264_partial_file_plays_while_it_is_written(tmp_path):
    """A run killed before close() leaves a video that plays up to its last fragment (2 s)."""
    out = tmp_path / "v.mp4"
    w = H264Writer(out, 10.0, (64, 48))
    for i in range(60):  # 6 s; each 2 s of it is a self-contained fragment
        w.write(np.full((48, 64, 3), 4 * i, np.uint8), i / 10)
    partial = tmp_path / "v.partial.mp4"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not partial.exists() or partial.stat().st_size < 2000):
        time.sleep(0.1)  # the encoder thread works through its queue
    time.sleep(0.5)
    snapshot = tmp_path / "copy.mp4"  # what a kill at this moment would leave
    snapshot.write_bytes(partial.read_bytes())
    frames, last = _decoded(snapshot)
    assert frames >= 20 and last >= 1.9
    assert w.close() == out and not partial.exists()
    with av.open(str(out)) as c:  # the finished file: an ordinary MP4, index first, frame count known
        assert c.streams.video[0].frames == 60
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat") and b"moof" not in data


def test_h264_interrupted_close_ends_audio_with_video(tmp_path):
    sample = ROOT / "assets" / "sample_pexels.mp4"  # 19.7 s with sound
    for name, complete in (("whole.mp4", True), ("cut.mp4", False)):
        w = H264Writer(tmp_path / name, 10.0, (64, 48), audio_from=sample)
        for i in range(20):
            w.write(np.zeros((48, 64, 3), np.uint8), i / 10)
        w.close(complete=complete)
    assert _decoded(tmp_path / "whole.mp4", "audio")[1] > 19
    assert 1.8 < _decoded(tmp_path / "cut.mp4", "audio")[1] < 2.2  # not 17 s of sound over a still picture


def test_h264_interrupt_during_the_final_copy_keeps_the_video(tmp_path, monkeypatch):
    w = H264Writer(tmp_path / "v.mp4", 10.0, (64, 48))
    for i in range(15):
        w.write(np.zeros((48, 64, 3), np.uint8), i / 10)

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(w, "_rewrite_with_index_first", interrupted)
    with pytest.raises(KeyboardInterrupt):
        w.close()
    assert _decoded(tmp_path / "v.mp4")[0] == 15  # the complete fragmented file, under its own name
    assert not (tmp_path / "v.partial.mp4").exists()
    assert w.close() == tmp_path / "v.mp4"  # closing again does nothing


def test_h264_full_disk_is_an_oserror_naming_the_file(tmp_path):
    with pytest.raises(OSError) as raised:
        w = H264Writer(tmp_path / "missing" / "v.mp4", 10.0, (64, 48))
        for i in range(200):
            w.write(np.zeros((48, 64, 3), np.uint8), i / 10)
        w.close()
    assert raised.value.errno == errno.ENOENT and raised.value.filename == str(tmp_path / "missing" / "v.partial.mp4")


class _FillsUp:
    """A file on a disk with ``room`` bytes left: a write takes what fits, the next fails (ENOSPC)."""

    def __init__(self, file, room):
        self.file, self.room = file, room

    def write(self, data):
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = self.file.write(data[: self.room])
        self.room -= n
        return n

    def __getattr__(self, name):
        return getattr(self.file, name)


def test_csv_rows_are_never_torn_when_the_disk_fills(tmp_path):
    sink = FacesCsvSink(tmp_path / "faces.csv", SIGNALS)
    sink.write(_frame(0, 0.0, [1, 2], [0, 1]))
    whole = (tmp_path / "faces.csv").read_bytes()
    sink._file = _FillsUp(sink._file, room=100)  # less than one frame's rows
    with pytest.raises(OSError) as raised:
        sink.write(_frame(1, 0.1, [1, 2, 3], [0, 1, 2]))
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(tmp_path / "faces.csv")
    assert (tmp_path / "faces.csv").read_bytes() == whole  # cut back to the last whole frame
    sink._file = sink._file.file  # space again: the table goes on where it was
    sink.write(_frame(2, 0.2, [1], [0]))
    sink.close()
    rows = _read(tmp_path / "faces.csv")
    assert [r[0] for r in rows[1:]] == ["0", "0", "2"] and {len(r) for r in rows} == {len(rows[0])}


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 kB file system (tmpfs): needs root; skips elsewhere."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    if not shutil.which("mount") or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                                                   capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root) to fill a disk for real")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_csv_rows_are_never_torn_on_a_real_full_disk(tiny_disk):
    record = LessonRecord(LABELS)
    sink = FacesCsvSink(tiny_disk / "faces.csv", SIGNALS)
    with pytest.raises(OSError) as raised:
        for i in range(100_000):
            sink.write(_frame(i, i / 10, [1, 2, 3], [0, 1, 2]))
            record.add(_frame(i, i / 10, [1, 2, 3], [0, 1, 2]))
    assert raised.value.errno == errno.ENOSPC
    sink.close()
    rows = _read(tiny_disk / "faces.csv")
    assert len(rows) > 100 and {len(r) for r in rows} == {len(rows[0])}
    assert len(rows) % 3 == 1  # whole frames: three faces each, after the header
    with pytest.raises(OSError):  # the class table cannot even start; nothing half-written is left
        ClassCsvSink(tiny_disk / "class.csv", record).close()


def test_a_replay_over_seconds_that_were_only_held_counts_them_once(tmp_path):
    """A slow machine skipped every frame of seconds 8 and 11 (held); a replay from 5 s analysed
    them. Before, those seconds kept their first pass's time in view and counted it again."""

    def play(record, start_s, skipped):
        last = None
        for k in range(int(start_s * 10), 200):  # 10 fps, to 20 s
            t = k / 10
            if math.floor(t) in skipped and last is not None:
                record.add(last.at(t, k))
            else:
                last = _frame(k, t, [1], [1])
                record.add(last)

    once = LessonRecord(LABELS, EVERY_FACE)
    play(once, 0.0, set())
    replayed = LessonRecord(LABELS, EVERY_FACE)
    play(replayed, 0.0, {8, 11})
    replayed.new_pass()
    play(replayed, 5.0, set())
    assert replayed.student(1).seen_s == pytest.approx(once.student(1).seen_s, abs=0.15)  # (the seek: one frame)
    assert replayed.analysed_seconds() == list(range(20))
    skipped_only = LessonRecord(LABELS, EVERY_FACE)
    play(skipped_only, 0.0, {8, 11})
    assert 8 not in skipped_only.analysed_seconds() and len(skipped_only.seconds) == 20
    with ClassCsvSink(tmp_path / "c.csv", skipped_only):
        pass
    rows = _read(tmp_path / "c.csv")
    assert [int(r[0]) for r in rows[1:]] == list(range(20))  # one row per second of the lesson
    assert rows[1 + 8][1:] == [""] * (len(LABELS) + 2) and rows[1 + 7][1] == "1.00"  # no reading, not zero


def test_a_blurred_face_keeps_little_of_its_detail():
    """Privacy: a kernel a quarter of the face left 28 % of the detail of the bundled face photo."""
    import cv2

    from fervision.engine.detectors import create_detector
    from fervision.outputs.overlay import blur_boxes

    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    box = create_detector("yunet")(image).xyxy[0]
    x1, y1, x2, y2 = (int(v) for v in box)

    def detail(picture):
        grey = cv2.cvtColor(picture[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY).astype(np.float32)
        return float(np.abs(np.diff(grey, axis=1)).mean())

    frame = FaceFrame(xyxy=box[None], confidence=np.ones(1, np.float32))
    assert detail(blur_boxes(image, [box])) < 0.2 * detail(image)
    drawn = draw_faces(image, frame, [], blur=True)  # the overlay blurs the same way (its outline aside)
    inner = (slice(y1 + 8, y2 - 8), slice(x1 + 8, x2 - 8))
    assert np.array_equal(drawn[inner], blur_boxes(image, [box])[inner])
