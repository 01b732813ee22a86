import csv
import re
import time

import av
import numpy as np
import pytest
from PySide6.QtCore import Qt

from fervision.engine.config import PipelineConfig
from fervision.outputs.csv_sinks import class_header, faces_header, students_header

from .conftest import SAMPLE


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def _play(qtbot, window, frames, source=SAMPLE):
    window.open_source(str(source))
    qtbot.waitUntil(lambda: window.frames_shown >= frames, timeout=60_000)


def test_plays_the_sample_and_fills_chart_table_and_status(qtbot, make_window):
    window = make_window()
    assert window.reminder.isVisible()  # first start: the responsible-use reminder
    _play(qtbot, window, 40)
    window.refresh_summaries()
    assert window.class_chart.points >= 1
    assert window.current_bars.heights.sum() == pytest.approx(1.0)
    assert window.students.rowCount() >= 1
    assert "processing" in window.status_text.text() and "faces 1" in window.status_text.text()
    assert window.video.image_rect().width() > 0
    assert window.source.duration_s == pytest.approx(19.7, abs=0.2)


def test_rename_export_and_reminder_once(qtbot, make_window, settings, tmp_path):
    window = make_window()
    _play(qtbot, window, 30)
    window.worker.pause()
    qtbot.waitUntil(lambda: window.play_action.text() == "Play", timeout=5000)
    window.refresh_summaries()
    window.students.item(0, 1).setText("Ana")  # as if typed into the table
    with qtbot.waitSignal(window.worker.exported, timeout=30_000):
        window.export_to(tmp_path / "out")
    paths = window.last_export
    labels = window.worker.session.record.labels
    students = _rows(paths["students"])
    assert students[0] == students_header(labels) and students[1][:2] == ["1", "Ana"]
    faces = _rows(paths["faces"])
    assert faces[0] == faces_header(window.worker.session.pipeline.signals) and len(faces) > 1
    assert _rows(paths["class"])[0] == class_header(labels)
    assert paths["timeline"].stat().st_size > 5000
    report = paths["report"].read_text()
    assert "Ana" in report and "frames skipped when needed to keep real time" in report
    assert not window.has_unexported_data()
    window.students.item(0, 1).setText("Ana B.")
    assert window.has_unexported_data()  # a rename is a change to export
    window._acknowledge_reminder()
    assert not make_window().reminder.isVisible()  # shown on the first start only


def test_the_report_button_exports_and_opens_the_lesson_report(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    assert not window.report_action.isEnabled()  # nothing to report before a source
    _play(qtbot, window, 20)
    opened = []
    monkeypatch.setattr(window, "open_report", opened.append)
    monkeypatch.setattr("fervision.app.window.QFileDialog.getExistingDirectory", lambda *a: str(tmp_path / "r"))
    with qtbot.waitSignal(window.worker.exported, timeout=30_000):
        window.report_action.trigger()
    assert opened == [tmp_path / "r" / "sample_pexels_report.html"]
    text = opened[0].read_text()
    assert "sample_pexels" in text and not re.search(r'(src|href)\s*=\s*["\']?(https?:|//|file:)', text)
    with qtbot.waitSignal(window.worker.exported, timeout=30_000):
        window.export_to(tmp_path / "e")  # a plain export opens nothing
    assert len(opened) == 1


def test_seek_while_paused_shows_that_time(qtbot, make_window):
    window = make_window()
    _play(qtbot, window, 5)
    window.worker.pause()
    qtbot.waitUntil(lambda: window.play_action.text() == "Play", timeout=5000)
    window.worker.seek(12.0)
    qtbot.waitUntil(lambda: window.last_packet.time_s > 11.0, timeout=10_000)
    assert window.last_packet.time_s == pytest.approx(12.0, abs=0.5)
    assert window.time_label.text().startswith("0:12")
    faces = window.last_packet.faces  # the student is re-found at once: id, reading and outline, as when playing
    assert faces.student_ids.tolist() == [1] and faces.emotions()


def test_record_writes_an_h264_file(qtbot, make_window, tmp_path):
    window = make_window()
    _play(qtbot, window, 5)
    path = tmp_path / "rec.mp4"
    window.start_recording(path)
    qtbot.waitUntil(lambda: window.record_action.isChecked(), timeout=5000)
    start = window.frames_shown
    qtbot.waitUntil(lambda: window.frames_shown >= start + 20, timeout=30_000)
    window.record_action.trigger()  # the toolbar button: stop
    qtbot.waitUntil(lambda: path.exists(), timeout=10_000)
    with av.open(str(path)) as c:
        assert c.streams.video[0].codec_context.name == "h264" and c.streams.video[0].frames >= 15
        assert (c.streams.video[0].width, c.streams.video[0].height) == (640, 360)  # the source's size, not the view's


def test_a_recording_keeps_the_source_frame_rate_when_frames_are_skipped(qtbot, make_window, tmp_path):
    window = make_window()
    _play(qtbot, window, 5)
    window.worker.set_speed(4.0)  # four times real time: most frames are skipped to keep up
    path = tmp_path / "fast.mp4"
    window.start_recording(path)
    qtbot.waitUntil(lambda: window.record_action.isChecked(), timeout=5000)
    start_s = window.last_packet.time_s
    qtbot.waitUntil(lambda: window.last_packet.time_s >= start_s + 3.0, timeout=30_000)
    window.record_action.trigger()
    qtbot.waitUntil(lambda: path.exists(), timeout=10_000)
    with av.open(str(path)) as c:
        video = c.streams.video[0]
        frames = sum(1 for _ in c.decode(video))
        seconds = float(video.duration * video.time_base)
    assert seconds > 2.5 and frames / seconds == pytest.approx(25.0, rel=0.1)  # the source's 25 fps


def test_a_camera_stops_and_starts(qtbot, make_window, monkeypatch):
    """No real camera here: OpenCV's capture of index 0 is replaced by one that serves the sample photo."""
    import cv2

    import fervision.engine.sources as sources

    photo = cv2.imread(str(SAMPLE.parent / "sample_face_pexels.jpg"))
    real_capture = cv2.VideoCapture
    opened = []

    class FakeCamera:
        def __init__(self, index):
            self.open = True
            opened.append(self)

        def isOpened(self):
            return self.open

        def read(self):
            time.sleep(0.04)
            return (True, photo.copy()) if self.open else (False, None)

        def get(self, prop):
            return 25.0 if prop == cv2.CAP_PROP_FPS else 0.0

        def release(self):
            self.open = False

    monkeypatch.setattr(sources.cv2, "VideoCapture",
                        lambda arg, *a: FakeCamera(arg) if isinstance(arg, int) else real_capture(arg, *a))
    window = make_window()
    window.open_source("0")
    qtbot.waitUntil(lambda: window.frames_shown >= 5, timeout=30_000)
    assert window.source.kind == "camera" and window.play_action.text() == "Stop"
    window.play_action.trigger()  # Stop
    qtbot.waitUntil(lambda: window.play_action.text() == "Start", timeout=5000)
    qtbot.waitUntil(lambda: not opened[-1].open, timeout=5000)  # released for other apps
    shown = window.frames_shown
    window.play_action.trigger()  # Start again
    qtbot.waitUntil(lambda: window.frames_shown >= shown + 5, timeout=30_000)
    assert window.play_action.text() == "Stop" and len(opened) == 2
    assert window.last_packet.faces.student_ids.tolist() == [1]  # the same student after the restart
    times = window.last_packet.time_s
    assert times > 0.2  # the camera's time went on from where it stopped


def test_save_faces_sorts_student_crops_by_expression(qtbot, make_window, tmp_path):
    window = make_window()
    _play(qtbot, window, 5)
    window.worker.start_saving_faces(tmp_path)
    qtbot.waitUntil(lambda: window.save_faces_action.isChecked(), timeout=5000)
    start = window.frames_shown
    qtbot.waitUntil(lambda: window.frames_shown >= start + 10, timeout=30_000)
    window.save_faces_action.trigger()  # the toolbar button: stop
    qtbot.waitUntil(lambda: "Saved" in window.messages.label.text(), timeout=5000)
    assert not window.save_faces_action.isChecked()
    crops = list((tmp_path / "sample_pexels_face_crops").glob("*/sample_pexels_s1_t*.jpg"))
    assert crops and {c.parent.name for c in crops} <= set(window.worker.session.record.labels)
    assert "fine-tune" in window.messages.label.text()


def test_bad_file_and_bad_checkpoint_become_messages(qtbot, make_window, tmp_path):
    window = make_window()
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    window.open_source(str(empty))
    qtbot.waitUntil(window.messages.isVisible, timeout=10_000)
    assert window.messages.kind == "error" and "empty" in window.messages.label.text()
    window.messages.hide()
    window.settings_panel.config_changed.emit(PipelineConfig(model="no_such_model", device="cpu"))
    qtbot.waitUntil(window.messages.isVisible, timeout=10_000)
    assert "No checkpoint named 'no_such_model'" in window.messages.label.text()
    _play(qtbot, window, 3)  # the old model still works
    assert window.settings_panel.config.model == "default"


def test_model_choice_and_layout_persist(qtbot, make_window, settings):
    window = make_window()
    with qtbot.waitSignal(window.worker.model_loaded, timeout=30_000,
                          check_params_cb=lambda config: config.model == "nca_mobilenet_ferplus"):
        window.settings_panel.config_changed.emit(PipelineConfig(model="nca_mobilenet_ferplus", device="cpu",
                                                                 min_face_px=24))
    window.close()
    settings.sync()
    from fervision.app.window import MainWindow

    again = MainWindow(settings)
    qtbot.addWidget(again)
    try:
        assert again.settings_panel.config.model == "nca_mobilenet_ferplus"
        assert again.settings_panel.config.min_face_px == 24
        assert settings.value("window/geometry") is not None
    finally:
        again.close()


def test_image_file_source(qtbot, make_window):
    window = make_window()
    _play(qtbot, window, 1, source=SAMPLE.parent / "sample_face_pexels.jpg")
    assert len(window.last_packet.faces) == 1
    assert not window.seek.isEnabled() and not window.record_action.isEnabled()


def test_drop_a_file_blur_and_a_missing_camera(qtbot, make_window, monkeypatch):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent
    from PySide6.QtWidgets import QMessageBox

    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(SAMPLE.parent / "sample_face_pexels.jpg"))])
    window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: window.frames_shown >= 1, timeout=30_000)
    assert window.source.kind == "images"
    sharp = window.last_packet.image.copy()
    window.blur_action.trigger()  # paused on the image: the view is redrawn blurred
    # (wait for the blurred frame itself: on a busy machine another redraw of the sharp one may come first)
    qtbot.waitUntil(lambda: window.last_packet.image != sharp, timeout=10_000)
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: asked.append(args[1]) or QMessageBox.StandardButton.Discard)
    window.open_source("57")  # a camera index that does not exist
    assert asked == ["Discard this session?"]  # the image's analysis was never exported
    qtbot.waitUntil(window.messages.isVisible, timeout=20_000)
    assert "Camera 57 does not exist or is busy" in window.messages.label.text()


def test_a_click_on_the_seek_groove_jumps_there_and_ctrl_q_quits(qtbot, make_window):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QKeySequence

    window = make_window()
    _play(qtbot, window, 5)
    window.worker.pause()
    qtbot.waitUntil(lambda: not window.playing, timeout=5000)
    assert not window._shown_times  # the display rate starts afresh after a pause
    groove = window.seek
    qtbot.mouseClick(groove, Qt.MouseButton.LeftButton, pos=QPoint(int(groove.width() * 0.75), groove.height() // 2))
    expected = 0.75 * window.source.duration_s
    qtbot.waitUntil(lambda: abs(window.last_packet.time_s - expected) < 2.0, timeout=10_000)
    assert window.quit_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Quit)
    window.ask_before_discard = False  # (closing with an unexported session asks first: a modal dialog)
    window.quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)


def _shown_size(window, source_size=(640, 360)):
    """The size the sample's frame takes in the view, in device pixels."""
    from fervision.app.worker import fit_size

    size = window.video.device_size()
    return fit_size(source_size, (size.width(), size.height()))


def _image_size(window):
    return window.last_packet.image.width(), window.last_packet.image.height()


def test_the_overlay_is_drawn_at_the_size_it_is_shown(qtbot, make_window):
    """Labels drawn on the source's pixels and then scaled down by the view came out half size or
    smaller; the worker now scales the frame to the view first, and again when the view is resized."""
    window = make_window()
    window.resize(700, 560)
    _play(qtbot, window, 5)
    qtbot.waitUntil(lambda: _image_size(window) == _shown_size(window), timeout=10_000)
    assert _image_size(window)[0] < 640  # smaller than the source: drawn at that size, not shrunk after
    window.worker.pause()
    qtbot.waitUntil(lambda: not window.playing, timeout=5000)
    window.resize(1500, 900)
    qtbot.waitUntil(lambda: _image_size(window) == _shown_size(window), timeout=10_000)  # paused: redrawn
    assert _image_size(window)[0] > 640


def test_the_window_fits_a_1366x768_laptop_screen(qtbot, make_window):
    from PySide6.QtCore import QSize

    from fervision.app.window import default_size

    window = make_window()
    size = default_size(QSize(1366, 728))  # a 1366 × 768 screen less a 40 px taskbar
    assert size.width() <= 1366 and size.height() <= 728 - 30  # and room for the title bar
    hint = window.minimumSizeHint()
    assert hint.width() <= size.width() and hint.height() <= size.height()
    for widget in (window.toolbar, window.students_dock, window.settings_dock, window.charts):
        assert widget.minimumSizeHint().width() <= size.width() and widget.minimumSizeHint().height() <= size.height()
    assert window.toolbar.sizeHint().width() <= size.width()  # no control pushed into the overflow menu
    window.resize(size)
    qtbot.waitUntil(lambda: window.size() == size, timeout=5000)
    for action in (window.open_action, window.play_action, window.record_action, window.save_faces_action,
                   window.export_action, window.report_action):
        assert window.toolbar.widgetForAction(action).isVisible()
    status = window.statusBar().geometry()
    assert window.statusBar().isVisible() and status.bottom() < size.height()
    video = window.video.size()
    assert video.width() * video.height() > 0.4 * size.width() * size.height()  # the video takes most of it


def _tick_labels(axis):
    """The labels an axis draws now: its fixed ticks, else those it generates for its range."""
    if axis._tickLevels is not None:
        return [label for level in axis._tickLevels for _, label in level]
    low, high = axis.range
    return [label for spacing, values in axis.tickValues(low, high, axis.geometry().width())
            for label in axis.tickStrings(values, 1.0, spacing)]


def test_charts_legend_beside_the_data_and_sane_empty_axes(qtbot, make_window):
    window = make_window()
    qtbot.waitUntil(lambda: window.class_chart.getAxis("bottom").geometry().width() > 50, timeout=5000)
    ticks = _tick_labels(window.class_chart.getAxis("bottom"))
    assert ticks and len(ticks) == len(set(ticks))  # not "0:00 0:00 0:00" on an empty chart
    assert _tick_labels(window.current_bars.getAxis("left")) == []  # no numbers running down, upside-down
    assert _tick_labels(window.timeline.getAxis("left")) == []
    _play(qtbot, window, 10)
    window.refresh_summaries()
    assert window.class_chart.getPlotItem().legend is None  # nothing drawn over the data
    legend = window.charts.legend.text()
    assert all(label in legend for label in window.worker.session.record.labels)
    ticks = _tick_labels(window.class_chart.getAxis("bottom"))
    assert ticks and len(ticks) == len(set(ticks))


def test_recognition_time_is_the_mean_of_real_batches(qtbot, make_window):
    """The status bar showed 0 ms on frames that read no face and the model's warm-up (seconds) on
    the first: now it is the mean of the last batches, the first after a model load left out."""
    window = make_window()
    window.worker.set_keep_real_time(False)  # every frame, however busy the machine
    shown = []
    window.worker.frame_ready.connect(lambda packet: shown.append((packet.recognise_s, window.status_text.text())))
    window.open_source(str(SAMPLE))
    qtbot.waitUntil(lambda: window.frames_shown >= 100, timeout=180_000)  # 4 s: one face, read once a second
    window.worker.pause()
    qtbot.waitUntil(lambda: not window.playing, timeout=5000)
    qtbot.wait(200)  # the last frames' packets
    batches = window.worker.session.pipeline.counts["recognition batches"]
    read = [s for s, _ in shown if s is not None]
    assert batches >= 3 and len(read) == batches - 1  # every batch but the model's first
    texts = [text for _, text in shown if "recognition" in text]
    assert texts and not any("recognition 0 ms" in text for text in texts)
    assert f"recognition {1000 * sum(read[-10:]) / len(read[-10:]):.0f} ms" in window.status_text.text()


def test_the_time_reaches_the_clip_length_at_its_end(qtbot, make_window):
    from ..conftest import shared_path

    clip = shared_path("data", "media", "classroom_pan_720p.mp4")  # 20.0 s: the last frame starts at 19.96
    window = make_window()
    _play(qtbot, window, 2, source=clip)
    window.worker.seek(17.0)
    with qtbot.waitSignal(window.worker.source_ended, timeout=60_000):
        pass
    assert window.time_label.text() == "0:20 / 0:20"
    assert window.seek.value() == window.seek.maximum()


def test_facing_front_fills_the_class_curve_and_the_students_row(qtbot, make_window):
    window = make_window()
    _play(qtbot, window, 10)

    def class_curve_filled():
        window.refresh_summaries()
        return window.charts.facing.points > 0

    qtbot.waitUntil(class_curve_filled, timeout=60_000)  # once a student is counted (2 s in view)
    _, y = window.charts.facing.curve.getData()
    known = np.isfinite(y)
    assert known.any() and ((y[known] >= 0) & (y[known] <= 1)).all()
    assert window.charts.facing.getViewBox().viewRange()[0] == window.class_chart.getViewBox().viewRange()[0]
    window.students.selectRow(0)
    qtbot.waitUntil(lambda: window.timeline.facing_points > 0, timeout=30_000)
    _, y = window.timeline.facing.getData()
    row = len(window.timeline.labels)  # the row above the emotions
    assert ((y[np.isfinite(y)] >= row - 0.4) & (y[np.isfinite(y)] <= row + 0.4)).all()
    assert "facing front" in _tick_labels(window.timeline.getAxis("left"))
    window.select_student(None)
    assert window.timeline.facing_points == 0


def test_without_head_pose_the_facing_curve_stays_empty_and_says_why(qtbot, make_window):
    window = make_window(config=PipelineConfig(device="cpu", signals=("expression",)))
    _play(qtbot, window, 40)
    window.refresh_summaries()
    assert window.class_chart.points >= 1 and window.charts.facing.points == 0
    assert "no head direction read" in window.charts.facing_title.text()


def test_second_levels_hold_each_value_and_break_at_gaps():
    from fervision.app.charts import second_levels

    x, y = second_levels(np.array([3.0, 4.0, 7.0]), np.array([0.5, np.nan, 1.0]))
    assert np.array_equal(x, [3, 4, 4, 5, np.nan, 7, 8], equal_nan=True)
    assert np.array_equal(y, [0.5, 0.5, np.nan, np.nan, np.nan, 1.0, 1.0], equal_nan=True)


def test_a_new_source_clears_the_selected_student(qtbot, make_window):
    window = make_window()
    _play(qtbot, window, 10)
    qtbot.waitUntil(lambda: window.students.rowCount() > 0, timeout=10_000)
    window.students.selectRow(0)
    # (a run of a top emotion to plot comes with the student's first second)
    qtbot.waitUntil(lambda: window.worker.highlight == 1 and bool(window.timeline.runs), timeout=30_000)
    highlights = []  # the worker's highlight when the new source opens and at each of its frames
    window.worker.source_opened.connect(lambda info: highlights.append(window.worker.highlight))
    window.worker.frame_ready.connect(lambda packet: highlights and highlights.append(window.worker.highlight))
    window.ask_before_discard = False  # (the question is a modal dialog)
    window.open_source(str(SAMPLE.parent / "sample_face_pexels.jpg"))
    qtbot.waitUntil(lambda: window.source.kind == "images" and window.frames_shown >= 1, timeout=30_000)
    assert highlights and all(h is None for h in highlights)  # not even the first frame outlines "#1" of before
    window.refresh_summaries()
    assert window.selected_student is None and not window.students.selectedIndexes()
    assert not window.timeline.runs and window.timeline.labels == []


def test_a_new_model_reads_the_photo_on_screen_again_and_play_does_not_double_it(qtbot, make_window):
    window = make_window()
    _play(qtbot, window, 1, source=SAMPLE.parent / "sample_face_pexels.jpg")
    qtbot.waitUntil(lambda: not window.playing, timeout=10_000)
    before = window.last_packet.faces.probs.copy()
    shown = window.frames_shown
    window.settings_panel.config_changed.emit(PipelineConfig(model="nca_mobilenet_ferplus", device="cpu"))
    qtbot.waitUntil(lambda: window.frames_shown > shown and window.last_packet.faces.probs is not None
                    and not np.allclose(window.last_packet.faces.probs, before), timeout=30_000)
    assert window.settings_panel.config.model == "nca_mobilenet_ferplus"
    window.toggle_play()  # Play on a photo that was read: the same one student, not two
    qtbot.wait(500)
    qtbot.waitUntil(lambda: not window.playing, timeout=10_000)
    assert [row.student_id for row in window.worker.session.snapshot().students] == [1]


def test_the_model_list_names_the_default_checkpoint_once(qtbot, make_window):
    from fervision.recognizer import DEFAULT_CHECKPOINT, list_checkpoints

    window = make_window()
    combo = window.settings_panel.model
    entries = [combo.itemText(i) for i in range(combo.count())]
    assert "default" not in entries and f"{DEFAULT_CHECKPOINT} (default)" in entries
    assert DEFAULT_CHECKPOINT not in entries and len(entries) == len(list_checkpoints()) + 1  # + "Other file…"
    assert combo.currentText() == f"{DEFAULT_CHECKPOINT} (default)"  # the config says "default"
    window.settings_panel.set_config(PipelineConfig(model=DEFAULT_CHECKPOINT, device="cpu"))
    assert combo.currentText() == f"{DEFAULT_CHECKPOINT} (default)" and combo.count() == len(entries)


def test_a_full_disk_stops_the_recording_with_one_sentence(qtbot, make_window, tmp_path, monkeypatch):
    import errno
    import os

    from fervision.outputs.video import H264Writer

    def full(self, image_bgr, time_s):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.partial))

    window = make_window()
    _play(qtbot, window, 3)
    monkeypatch.setattr(H264Writer, "write", full)
    window.start_recording(tmp_path / "rec.mp4")
    qtbot.waitUntil(lambda: window.messages.isVisible() and window.messages.kind == "error", timeout=20_000)
    text = window.messages.label.text()
    assert text == f"Recording stopped: No space left on device ({tmp_path / 'rec.partial.mp4'})."
    qtbot.waitUntil(lambda: not window.record_action.isChecked(), timeout=5000)


def test_qt_calls_do_not_use_up_none(make_window):
    """PySide6 6.12.0 drops a reference to None on every Qt call that returns nothing: on Python
    3.10 and 3.11 the app aborted ("none_dealloc") about six minutes into playing a video."""
    import sys

    from PySide6.QtWidgets import QLabel

    make_window()
    label = QLabel()
    for _ in range(min(sys.getrefcount(None), 2_000_000) + 10_000):  # more calls than None had references
        label.setText("x")
    assert sys.getrefcount(None) > 0


def _students_csv(path):
    """students.csv as {student id: row as a dict}."""
    with open(path, newline="") as f:
        return {int(row["student_id"]): row for row in csv.DictReader(f)}


def _faces_per_second(path):
    with open(path, newline="") as f:
        return {int(row["time_s"]): float(row["faces"]) for row in csv.DictReader(f)}


def test_hide_merge_and_undo_students_reach_the_view_and_the_exports(qtbot, make_window, tmp_path):
    from ..conftest import shared_path

    clip = shared_path("data", "media", "classroom_pan_720p.mp4")  # 21 seated students
    window = make_window()
    window.resize(1500, 950)  # faces large enough on screen to see a blur
    window.open_source(str(clip))
    qtbot.waitUntil(lambda: sum(s.counted for s in window.students.students.values()) >= 4, timeout=120_000)
    window.worker.pause()
    qtbot.waitUntil(lambda: not window.playing, timeout=10_000)
    window.refresh_summaries()

    def export(name):
        with qtbot.waitSignal(window.worker.exported, timeout=60_000):
            window.export_to(tmp_path / name)
        return _students_csv(window.last_export["students"]), _faces_per_second(window.last_export["class"])

    students, faces = export("before")
    packet = window.last_packet
    in_view = [sid for sid in packet.faces.student_ids.tolist() if window.students.students.get(sid, None)
               and window.students.students[sid].counted]
    hidden, source, target = in_view[:3]
    box = packet.faces.xyxy[packet.faces.student_ids.tolist().index(hidden)]  # in the source's 1280 x 720
    panel = window.students_panel
    window.students.selectRow(window.students.row_of(hidden))
    assert panel.hide_action.text() == "Hide (not a student)"
    panel.hide_action.trigger()
    window.students.selectRow(window.students.row_of(source))
    panel.fill_merge_menu()
    next(a for a in panel.merge_menu.actions() if a.text() == f"#{target}").trigger()

    rows = list(window.students.students.values())
    assert [s.student_id for s in rows][-1] == hidden and rows[-1].reason == "hidden"  # greyed, at the bottom
    assert "hidden" in window.students.item(len(rows) - 1, 2).text()
    assert source not in window.students.students and window.students.students[target].merged == (source,)
    qtbot.waitUntil(lambda: window.last_packet.faces.student_ids is not None
                    and not {hidden, source} & set(window.last_packet.faces.student_ids.tolist()), timeout=10_000)

    def sharpness(image):
        """Mean step between neighbouring pixels in the middle of the hidden face's box, as shown
        (its edges can hold another face's outline or label, drawn after the blur)."""
        x1, y1, x2, y2 = box * image.width() / 1280
        dx, dy = (x2 - x1) / 4, (y2 - y1) / 4
        x1, y1, x2, y2 = int(x1 + dx), int(y1 + dy), int(x2 - dx), int(y2 - dy)
        gray = image.convertToFormat(image.Format.Format_Grayscale8)
        pixels = np.asarray(gray.constBits()).reshape(gray.height(), gray.bytesPerLine())
        pixels = pixels[y1:y2, x1:x2].astype(np.float32)
        return float(np.abs(np.diff(pixels, axis=1)).mean())

    sharp = sharpness(window.last_packet.image)
    window.blur_action.trigger()  # privacy: a face the user hid is blurred too, though not outlined
    qtbot.waitUntil(lambda: sharpness(window.last_packet.image) < sharp / 2, timeout=30_000)
    window.blur_action.trigger()

    edited, edited_faces = export("edited")
    assert set(edited) == set(students) - {hidden, source}  # hidden: in no export; merged: one row
    assert int(edited[target]["frames"]) == int(students[target]["frames"]) + int(students[source]["frames"])
    assert edited_faces.keys() == faces.keys()
    assert sum(edited_faces.values()) < sum(faces.values())  # the hidden one no longer counts in the class

    panel.undo_action.trigger()  # the merge
    panel.undo_action.trigger()  # the hide
    assert not panel.undo_action.isEnabled()
    again, again_faces = export("undone")
    assert {sid: row["frames"] for sid, row in again.items()} == {sid: row["frames"] for sid, row in students.items()}
    assert again_faces == faces

    window.students.selectRow(window.students.row_of(hidden))
    panel.hide_action.trigger()
    assert panel.hide_action.text() == "Show again" and not panel.count_action.isEnabled()
    panel.hide_action.trigger()  # back to the automatic rules: counted
    assert window.students.students[hidden].counted
    window.students.selectRow(window.students.row_of(source))
    panel.fill_merge_menu()
    next(a for a in panel.merge_menu.actions() if a.text() == f"#{target}").trigger()
    window.students.selectRow(window.students.row_of(target))
    panel.separate_menu.aboutToShow.emit()
    panel.separate_menu.actions()[0].trigger()  # "#<source> again on its own"
    assert window.students.students[target].merged == () and source in window.students.students
