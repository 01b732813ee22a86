import csv

import av
import numpy as np

from fervision.core.frame import FaceFrame
from fervision.engine.signals.expression import ExpressionSignal
from fervision.outputs.csv_sinks import ClassCsvSink, FacesCsvSink, StudentsCsvSink, faces_header
from fervision.outputs.overlay import draw_faces
from fervision.outputs.record import LessonRecord
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
    record = LessonRecord(LABELS)
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
    assert students[0] == ["student_id", "name", "first_s", "last_s", "frames", "dominant_emotion",
                           "share_neutral", "share_happiness", "share_sadness"]
    assert students[1][:6] == ["1", "", "0.000", "1.200", "3", "happiness"]
    assert [float(v) for v in students[1][6:]] == [0.0, round(2 / 3, 4), round(1 / 3, 4)]
    assert len(students) == 3  # the unconfirmed face (-1) is not a student
    classes = _read(tmp_path / "c.csv")
    assert classes[0] == ["time_s", "faces", "share_neutral", "share_happiness", "share_sadness"]
    assert classes[1][:2] == ["0", "2.00"] and [float(v) for v in classes[1][2:]] == [0.25, 0.5, 0.25]
    assert classes[2][0] == "1" and [float(v) for v in classes[2][2:]] == [0.5, 0.0, 0.5]


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
