"""The main window: video with overlays, class charts, students, settings, record and export."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QMouseEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..analysis.session import AnalysisSession
from ..core.clock import clock
from ..engine.config import PipelineConfig
from ..engine.sources import IMAGE_SUFFIXES, list_cameras
from .charts import ClassCharts, StudentTimeline
from .qt_fixes import keep_none_alive
from .settings_panel import SettingsPanel
from .students_panel import StudentsPanel
from .video_view import VideoView
from .worker import AnalysisWorker, FramePacket, SourceInfo

RESPONSIBLE_USE = ("Reminder: emotion recognition in schools is prohibited in the EU (AI Act, art. 5(1)(f)) "
                   "except for medical or safety reasons. Labels describe facial expressions, not feelings, "
                   "and are often wrong (see README, “Responsible use”). Everything stays on this computer.")
VIDEO_FILTER = "Videos and images (*.mp4 *.avi *.mov *.mkv *.webm *.m4v " + " ".join(
    f"*{s}" for s in sorted(IMAGE_SUFFIXES)) + ");;All files (*)"
SPEEDS = ("0.25×", "0.5×", "1×", "1.5×", "2×", "4×")
DEFAULT_SIZE = (1440, 900)  # a first start's window, shrunk to fit the screen (see _default_geometry)
SCREEN_MARGIN = 40  # room left in the free area of the screen for the window's title bar and borders
DOCK_WIDTH = 360
RECOGNITION_AVERAGE = 10  # the status bar's recognition time: the mean of this many last batches
LAYOUT_VERSION = 2  # saveState/restoreState: docks saved by an older layout are not restored


def _saved_bool(settings: QSettings, key: str, default: bool) -> bool:
    """A saved flag; ``type=bool`` has QSettings read the "true"/"false" strings of INI files as a bool."""
    return bool(settings.value(key, default, type=bool))


def _saved_float(settings: QSettings, key: str, default: float) -> float:
    """A saved number; ``type=float`` has QSettings convert what the file holds (as text in INI files)."""
    value = settings.value(key, default, type=float)
    return float(value) if isinstance(value, (int, float)) else default


def default_size(available: QSize) -> QSize:
    """A first start's window: DEFAULT_SIZE, shrunk to the screen's free area less room for the
    title bar (1326 × 688 on a 1366 × 768 laptop whose taskbar takes 40 px)."""
    return QSize(min(DEFAULT_SIZE[0], available.width() - SCREEN_MARGIN),
                 min(DEFAULT_SIZE[1], available.height() - SCREEN_MARGIN))


class SeekSlider(QSlider):
    """A slider that also jumps to where its groove is clicked (Qt's own only steps a page)."""

    clicked = Signal()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, self._style_option(),
                                             QStyle.SubControl.SC_SliderHandle, self)
        if event.button() == Qt.MouseButton.LeftButton and not handle.contains(event.position().toPoint()):
            span = max(1, self.width() - handle.width())
            x = int(event.position().x()) - handle.width() // 2
            self.setValue(QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x, span))
            self.clicked.emit()
            event.accept()
            return
        super().mousePressEvent(event)

    def _style_option(self) -> QStyleOptionSlider:
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        return option


class MessageBar(QFrame):
    """One line above the video for errors and notices; closes with ×."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("×")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.row_layout = layout
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "info") -> None:
        colours = {"error": "#f8d7da", "info": "#e2f0d9", "notice": "#fff3cd"}
        self.setStyleSheet(f"MessageBar {{ background: {colours[kind]}; border-radius: 4px; }}")
        self.kind = kind
        self.label.setText(text)
        self.show()


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, config: PipelineConfig | None = None,
                 output_dir: str | Path | None = None) -> None:
        keep_none_alive()  # PySide6 6.12.0 on Python < 3.12 would abort the app minutes into a lesson
        super().__init__()
        self.settings = settings or QSettings("fervision", "fervision")
        self.output_dir = Path(output_dir) if output_dir else None
        self.setWindowTitle("fervision")
        self.setAcceptDrops(True)
        config = config or self._saved_config()
        keep_real_time = _saved_bool(self.settings, "playback/keep_real_time", True)
        self.chart_window_s = _saved_float(self.settings, "chart/window_s", 300.0)

        self.worker = AnalysisWorker(config, keep_real_time=keep_real_time)
        self.source: SourceInfo | None = None
        self.playing = False  # as the worker last said (playing_changed)
        self.frames_shown = 0
        self.last_packet: FramePacket | None = None
        self.last_export: dict[str, Path] = {}
        self.selected_student: int | None = None
        self._shown_times: deque[float] = deque(maxlen=60)
        self._processing_s = 0.0
        self._recognition_s: deque[float] = deque(maxlen=RECOGNITION_AVERAGE)
        self._exported_frames = 0
        self._open_report = False  # the export under way is the Report… button's
        self._slider_held = False
        # the user's roster edits, last one last: (what, the session, how to take it back)
        self._undo: list[tuple[str, AnalysisSession, Callable[[AnalysisSession], None]]] = []
        self._shown_session: AnalysisSession | None = None  # the session of the source last opened
        self.ask_before_discard = True  # False: close or switch sources without asking to export

        self._build_ui(config, keep_real_time)
        self._connect_worker()
        self.snapshot_timer = QTimer(self, interval=500)
        self.snapshot_timer.timeout.connect(self.refresh_summaries)
        self.snapshot_timer.start()
        geometry = self.settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self._default_geometry()
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)  # a layout saved by an older version is ignored
        self.worker.start()

    # -- layout ----------------------------------------------------------------------------
    def _build_ui(self, config: PipelineConfig, keep_real_time: bool) -> None:
        """The video (with its seek bar) fills the middle, the class charts sit under it, students
        and settings share one narrow dock on the right; every part but the video can be hidden."""
        self.toolbar = toolbar = self.addToolBar("Playback")
        toolbar.setObjectName("playback")
        toolbar.setMovable(False)
        self.open_action = QAction("Open…", self, shortcut=QKeySequence(QKeySequence.StandardKey.Open))
        self.open_action.triggered.connect(self.choose_file)
        toolbar.addAction(self.open_action)
        self.quit_action = QAction("Quit", self, shortcut=QKeySequence(QKeySequence.StandardKey.Quit))
        self.quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.quit_action.triggered.connect(self.close)  # closing asks first about an unexported session
        self.addAction(self.quit_action)
        self.camera_button = QToolButton(popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.camera_button.setText("Camera")
        self.camera_menu = QMenu(self.camera_button)
        self.camera_menu.aboutToShow.connect(self._fill_camera_menu)
        self.camera_button.setMenu(self.camera_menu)
        toolbar.addWidget(self.camera_button)
        toolbar.addSeparator()
        self.play_action = QAction("Play", self, shortcut=QKeySequence(Qt.Key.Key_Space), enabled=False)
        self.play_action.triggered.connect(self.toggle_play)
        toolbar.addAction(self.play_action)
        self.speed = QComboBox()
        self.speed.addItems(SPEEDS)
        self.speed.setCurrentText("1×")
        self.speed.setToolTip("Playback speed")
        self.speed.currentTextChanged.connect(lambda t: self.worker.set_speed(float(t.rstrip("×"))))
        toolbar.addWidget(self.speed)
        toolbar.addSeparator()
        self.blur_action = QAction("Blur faces", self, checkable=True)
        self.blur_action.setToolTip("Privacy: blur every face in the view and in recordings")
        self.blur_action.toggled.connect(self.worker.set_blur)
        toolbar.addAction(self.blur_action)
        self.record_action = QAction("Record", self, checkable=True, enabled=False)
        self.record_action.setToolTip("Record the annotated video (H.264 MP4)")
        self.record_action.triggered.connect(self._toggle_record)
        toolbar.addAction(self.record_action)
        self.save_faces_action = QAction("Save faces", self, checkable=True, enabled=False)
        self.save_faces_action.setToolTip("Save each student's face every 2 s, sorted by expression: the start of "
                                          "your own labelled set for fine-tuning (pictures of people: only on request)")
        self.save_faces_action.triggered.connect(self._toggle_save_faces)
        toolbar.addAction(self.save_faces_action)
        self.export_action = QAction("Export…", self, enabled=False)
        self.export_action.setToolTip("Write the faces, students and class CSVs, the timeline PNG and the lesson "
                                      "report so far")
        self.export_action.triggered.connect(self.choose_export_folder)
        toolbar.addAction(self.export_action)
        self.report_action = QAction("Report…", self, enabled=False)
        self.report_action.setToolTip("Export the session so far and open its lesson report (one HTML page, "
                                      "no face images) in your browser")
        self.report_action.triggered.connect(self.choose_report_folder)
        toolbar.addAction(self.report_action)
        toolbar.addSeparator()
        self.panels_button = QToolButton(popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.panels_button.setText("Panels")
        self.panels_button.setToolTip("Show or hide the students, settings and class charts")
        self.panels_menu = QMenu(self.panels_button)
        self.panels_button.setMenu(self.panels_menu)
        toolbar.addWidget(self.panels_button)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(4)
        self.reminder = MessageBar()
        if not _saved_bool(self.settings, "responsible_use/acknowledged", False):
            self.reminder.show_message(RESPONSIBLE_USE, "notice")
            ok = QPushButton("Understood")
            ok.clicked.connect(self._acknowledge_reminder)
            self.reminder.row_layout.insertWidget(1, ok)
        layout.addWidget(self.reminder)
        self.messages = MessageBar()
        layout.addWidget(self.messages)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        player = QWidget()
        player_layout = QVBoxLayout(player)
        player_layout.setContentsMargins(0, 0, 0, 0)
        player_layout.setSpacing(2)
        self.video = VideoView()
        self.video.resized.connect(lambda size: self.worker.set_view_size(size.width(), size.height()))
        player_layout.addWidget(self.video, 1)
        seek_row = QHBoxLayout()
        self.seek = SeekSlider(Qt.Orientation.Horizontal)
        self.seek.setEnabled(False)
        self.seek.setRange(0, 0)
        self.seek.sliderPressed.connect(lambda: setattr(self, "_slider_held", True))
        self.seek.sliderReleased.connect(self._seek_released)
        self.seek.clicked.connect(self._seek_released)  # a click on the groove jumps there
        seek_row.addWidget(self.seek, 1)
        self.time_label = QLabel("0:00 / 0:00")
        seek_row.addWidget(self.time_label)
        player_layout.addLayout(seek_row)
        self.splitter.addWidget(player)
        self.charts = ClassCharts()
        self.class_chart = self.charts.chart
        self.current_bars = self.charts.bars
        self.splitter.addWidget(self.charts)
        self.splitter.setCollapsible(0, False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([480, 170])
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.charts_action = QAction("Class charts", self, checkable=True, checked=True)
        self.charts_action.toggled.connect(self.charts.setVisible)

        students = QWidget()
        students_layout = QVBoxLayout(students)
        students_layout.setContentsMargins(0, 0, 0, 0)
        self.students_panel = StudentsPanel()
        self.students = self.students_panel.table
        self.students.renamed.connect(self.rename_student)
        self.students.selected.connect(self.select_student)
        self.students_panel.set_counted.connect(self.set_counted)
        self.students_panel.merge.connect(self.merge_students)
        self.students_panel.separate.connect(self.separate_student)
        self.students_panel.undo.connect(self.undo_roster_edit)
        self.timeline = StudentTimeline()
        self.timeline.setMinimumHeight(120)
        students_layout.addWidget(self.students_panel, 3)
        students_layout.addWidget(self.timeline, 2)
        self.students_dock = self._dock("Students", students)
        self.settings_panel = SettingsPanel(config, keep_real_time, self.chart_window_s)
        self.settings_panel.config_changed.connect(self.worker.set_config)
        self.settings_panel.keep_real_time_changed.connect(self.worker.set_keep_real_time)
        self.settings_panel.chart_window_changed.connect(lambda s: setattr(self, "chart_window_s", s))
        scroll = QScrollArea()
        scroll.setWidget(self.settings_panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.settings_dock = self._dock("Settings", scroll)
        self.tabifyDockWidget(self.students_dock, self.settings_dock)
        self.students_dock.raise_()
        self.resizeDocks([self.students_dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
        self.panels_menu.addAction(self.students_dock.toggleViewAction())
        self.panels_menu.addAction(self.settings_dock.toggleViewAction())
        self.panels_menu.addAction(self.charts_action)

        self.status_text = QLabel("No source")
        self.busy_bar = QProgressBar(maximum=0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_label = QLabel()
        self.busy_bar.hide()
        self.statusBar().addWidget(self.status_text, 1)
        self.statusBar().addPermanentWidget(self.busy_label)
        self.statusBar().addPermanentWidget(self.busy_bar)

    def _dock(self, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.lower())
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _default_geometry(self) -> None:
        """A first start: the default size for this screen, centred on it."""
        screen = self.screen().availableGeometry()
        size = default_size(screen.size())
        self.resize(size)
        self.move(screen.x() + (screen.width() - size.width()) // 2,
                  screen.y() + (screen.height() - size.height()) // 2)

    def _connect_worker(self) -> None:
        w = self.worker
        w.frame_ready.connect(self.show_frame)
        w.busy.connect(self._show_busy)
        w.error.connect(lambda text: self.messages.show_message(text, "error"))
        w.info.connect(lambda text: self.messages.show_message(text, "info"))
        w.source_opened.connect(self._on_source_opened)
        w.source_ended.connect(self._on_source_ended)
        w.position.connect(self._show_time)
        w.playing_changed.connect(self._on_playing_changed)
        w.recording_changed.connect(self._on_recording_changed)
        w.saving_faces_changed.connect(self.save_faces_action.setChecked)
        w.exported.connect(self._on_exported)
        w.model_loaded.connect(self._on_model_loaded)

    # -- sources and playback ----------------------------------------------------------------
    def open_source(self, spec: str) -> None:
        if not self.confirm_discard():
            return
        self.messages.hide()
        self.worker.open(str(spec))

    def choose_file(self) -> None:
        start = str(self.settings.value("source/last_folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open a video or image", start, VIDEO_FILTER)
        if path:
            self.settings.setValue("source/last_folder", str(Path(path).parent))
            self.open_source(path)

    def _fill_camera_menu(self) -> None:
        self.camera_menu.clear()
        cameras = list_cameras()
        if not cameras:
            self.camera_menu.addAction("No camera found").setEnabled(False)
        for index in cameras:
            self.camera_menu.addAction(f"Camera {index}", self._camera_opener(index))

    def _camera_opener(self, index: int) -> Callable[[], None]:
        def open_camera() -> None:
            self.open_source(str(index))

        return open_camera

    def toggle_play(self) -> None:
        """Pause (a camera: stop and release it) while playing, else play; decided by the worker's
        state, not by the button's text."""
        if self.playing:
            self.worker.pause()
        else:
            self.worker.play()

    def _seek_released(self) -> None:
        self._slider_held = False
        self.worker.seek(self.seek.value() / 10.0)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_source(urls[0])

    def _on_source_opened(self, info: SourceInfo) -> None:
        self.source = info
        self._shown_session = self.worker.session
        self.frames_shown = 0
        self._exported_frames = 0
        self.students.clear_students()
        self._undo.clear()  # the edits were the last source's
        self.students_panel.set_undo(None)
        self.timeline.clear_student()
        if info.kind != "camera":
            self.settings.setValue("source/last", info.spec)
        seekable = info.kind == "video" and info.duration_s is not None
        self.seek.setEnabled(seekable)
        self.seek.setRange(0, int((info.duration_s or 0) * 10))
        self.speed.setEnabled(info.kind != "camera")
        self.play_action.setEnabled(True)
        self.record_action.setEnabled(info.kind != "images")
        self.save_faces_action.setEnabled(True)
        self.export_action.setEnabled(True)
        self.report_action.setEnabled(True)
        self.setWindowTitle(f"fervision — {info.name}")

    def _on_source_ended(self) -> None:
        self.status_text.setText(self.status_text.text() + " · end of source")
        if self.source is not None and self.source.kind == "video" and self.source.duration_s:
            # the last frame starts a frame before the end, and the last ones may have been skipped
            self._show_time(self.source.duration_s)

    def _on_playing_changed(self, playing: bool) -> None:
        self.playing = playing
        self._shown_times.clear()  # a pause is not slow display: the fps counts from now
        camera = self.source is not None and self.source.kind == "camera"
        self.play_action.setText("Pause" if playing else "Play")
        if camera:
            self.play_action.setText("Stop" if playing else "Start")

    def show_frame(self, packet: FramePacket) -> None:
        self.last_packet = packet
        self.frames_shown += 1
        self.video.set_image(packet.image)
        now = time.perf_counter()
        self._shown_times.append(now)
        if packet.processing_s > 0:
            self._processing_s = packet.processing_s if not self._processing_s else (
                0.9 * self._processing_s + 0.1 * packet.processing_s)
        if packet.recognise_s is not None:
            self._recognition_s.append(packet.recognise_s)
        self._show_time(packet.time_s)
        self._update_status(packet)

    def _show_time(self, time_s: float) -> None:
        """The seek bar and the time label at ``time_s`` (also for frames skipped to keep real time)."""
        if self.source is not None and self.source.kind == "video":
            if not self._slider_held:
                self.seek.blockSignals(True)
                self.seek.setValue(int(time_s * 10))
                self.seek.blockSignals(False)
            self.time_label.setText(f"{clock(time_s)} / {clock(self.source.duration_s or 0)}")
        elif self.source is not None:
            self.time_label.setText(clock(time_s))

    def _update_status(self, packet: FramePacket) -> None:
        times = self._shown_times
        shown_fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
        processing_fps = 1.0 / self._processing_s if self._processing_s else 0.0
        parts = [f"display {shown_fps:.1f} fps", f"processing {processing_fps:.1f} fps", f"faces {len(packet.faces)}"]
        if self._recognition_s:
            parts.append(f"recognition {1000 * self.recognition_s():.0f} ms")
        parts.append(packet.device)
        self.status_text.setText(" · ".join(parts))

    def recognition_s(self) -> float:
        """The mean time of the last recognition batches: frames that read no face and the first
        batch after a model load (its warm-up) are left out, so the figure neither drops to 0 nor
        jumps to seconds."""
        return sum(self._recognition_s) / len(self._recognition_s) if self._recognition_s else 0.0

    # -- summaries, students -------------------------------------------------------------------
    def refresh_summaries(self) -> None:
        session = self.worker.session
        if session is None or session is not self._shown_session:
            return  # (a source the window has not taken in yet: its students would join the last one's)
        snapshot = session.snapshot(self.chart_window_s)
        self.charts.update_from(snapshot)
        self.students_panel.update_rows(snapshot.students)
        if self.selected_student is not None:
            self._show_timeline(self.selected_student)

    def rename_student(self, student_id: int, name: str) -> None:
        if self.worker.session is not None:
            self.worker.session.rename(student_id, name)
            self._exported_frames = -1  # names changed since the last export
            self.worker.redraw()

    # -- who is a student: the user's hide / count / merge, and undo ------------------------------
    def set_counted(self, student_id: int, counted: bool | None) -> None:
        """False hides a student, True counts one the rules leave out, None: back to the rules."""
        session = self.worker.session
        if session is None:
            return
        with session.lock:
            before = session.record.counted_by_user.get(student_id)
        what = {False: "hide", True: "count", None: "show again"}[counted]
        self._edit_roster(f"{what} #{student_id}", lambda s: s.set_counted(student_id, counted),
                          lambda s: s.set_counted(student_id, before))

    def merge_students(self, source_id: int, into_id: int) -> None:
        """Two ids of one student: ``source_id`` joins ``into_id`` (undone with the names and the
        hide/count choice ``source_id`` had)."""
        session = self.worker.session
        if session is None:
            return
        with session.lock:
            record = session.record
            names = record.names.get(source_id, ""), record.names.get(into_id, "")
            counted = record.counted_by_user.get(source_id)

        def undo(s: AnalysisSession) -> None:
            s.unmerge_student(source_id)
            s.set_counted(source_id, counted)
            s.rename(source_id, names[0])
            s.rename(into_id, names[1])

        self._edit_roster(f"merge #{source_id} into #{into_id}",
                          lambda s: s.merge_students(source_id, into_id), undo)

    def separate_student(self, student_id: int) -> None:
        """An id merged into another stands alone again."""
        session = self.worker.session
        if session is None:
            return
        with session.lock:
            into = session.record.root(student_id)
        self._edit_roster(f"separate #{student_id}", lambda s: s.unmerge_student(student_id),
                          lambda s: s.merge_students(student_id, into))

    def _edit_roster(self, description: str, change: Callable[[AnalysisSession], None],
                     undo: Callable[[AnalysisSession], None]) -> None:
        """Make a roster change on the session (its methods take its lock, as rename does), remember
        how to take it back, and show it: the table, the charts, and the frame on screen."""
        session = self.worker.session
        if session is None:
            return
        try:
            change(session)
        except ValueError as exc:  # a sentence: an unknown id, two ids already one student
            self.messages.show_message(f"Cannot {description}: {exc}", "error")
            return
        self._undo.append((description, session, undo))
        self._roster_changed()

    def undo_roster_edit(self) -> None:
        if not self._undo:
            return
        description, session, undo = self._undo.pop()
        if session is self.worker.session:
            try:
                undo(session)
            except ValueError as exc:
                self.messages.show_message(f"Cannot undo {description}: {exc}", "error")
        self._roster_changed()

    def _roster_changed(self) -> None:
        self._exported_frames = -1  # the roster changed since the last export
        self.students_panel.set_undo(self._undo[-1][0] if self._undo else None)
        self.worker.redraw()
        self.refresh_summaries()

    def select_student(self, student_id: int | None) -> None:
        self.selected_student = student_id
        self.worker.set_highlight(student_id)
        if student_id is None:
            self.timeline.clear_student()
        else:
            self._show_timeline(student_id)

    def _show_timeline(self, student_id: int) -> None:
        session = self.worker.session
        if session is None:
            return
        starts, ends, emotions = session.student_timeline(student_id)
        title = f"{session.record.display_name(student_id)}: top emotion over time"
        self.timeline.show_student(title, session.record.labels, starts, ends, emotions,
                                   facing=session.student_facing(student_id))

    # -- recording and export ---------------------------------------------------------------------
    def _default_folder(self) -> str:
        return str(self.output_dir or self.settings.value("export/last_folder", str(Path.home())))

    def _toggle_record(self, checked: bool) -> None:
        if not checked:
            self.worker.stop_recording()
            return
        stem = self.source.name if self.source else "session"
        path, _ = QFileDialog.getSaveFileName(self, "Record the annotated video",
                                              str(Path(self._default_folder()) / f"{stem}_annotated.mp4"),
                                              "MP4 video (*.mp4)")
        if not path:
            self.record_action.setChecked(False)
            return
        self.start_recording(path)

    def start_recording(self, path: str | Path) -> None:
        self.worker.start_recording(Path(path))

    def _on_recording_changed(self, recording: bool) -> None:
        self.record_action.setChecked(recording)
        self.record_action.setText("Stop recording" if recording else "Record")

    def _toggle_save_faces(self, checked: bool) -> None:
        if not checked:
            self.worker.stop_saving_faces()
            return
        folder = QFileDialog.getExistingDirectory(self, "Save face crops into", self._default_folder())
        if not folder:
            self.save_faces_action.setChecked(False)
            return
        self.worker.start_saving_faces(folder)

    def choose_export_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the session into", self._default_folder())
        if folder:
            self.export_to(folder)

    def export_to(self, folder: str | Path, open_report: bool = False) -> None:
        """Export into ``folder``; with ``open_report``, open the lesson report once it is written."""
        self.settings.setValue("export/last_folder", str(folder))
        self._open_report = open_report
        self.worker.export(folder)

    def choose_report_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Write the lesson report (and the exports) into",
                                                  self._default_folder())
        if folder:
            self.export_to(folder, open_report=True)

    def open_report(self, path: Path) -> None:
        """The report in the user's browser: a local file, nothing leaves the machine."""
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.messages.show_message(f"Wrote {path}: open it in a web browser.", "info")

    def _on_exported(self, paths: dict[str, Path]) -> None:
        self.last_export = paths
        session = self.worker.session
        self._exported_frames = session.record.frames if session else 0
        folder = next(iter(paths.values())).parent
        self.messages.show_message(f"Exported {', '.join(p.name for p in paths.values())} to {folder}.", "info")
        if self._open_report and "report" in paths:
            self.open_report(paths["report"])
        self._open_report = False

    def has_unexported_data(self) -> bool:
        session = self.worker.session
        return session is not None and bool(session.record.students) and session.record.frames != self._exported_frames

    def confirm_discard(self) -> bool:
        """Ask before a new source or quitting would drop a session that was never exported."""
        if not self.ask_before_discard or not self.has_unexported_data():
            return True
        answer = QMessageBox.question(
            self, "Discard this session?",
            "The current session has not been exported. Discard its analysis?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    # -- settings ------------------------------------------------------------------------------------
    def _saved_config(self) -> PipelineConfig:
        """The last configuration that loaded; fields saved by an older version fall back to defaults."""
        saved = self.settings.value("pipeline/config")
        config = PipelineConfig()
        if isinstance(saved, dict):
            known = {f.name: f.type for f in fields(PipelineConfig)}
            with contextlib.suppress(TypeError, ValueError):
                config = config.with_(**{k: v for k, v in saved.items() if k in known})
        return config

    def _on_model_loaded(self, config: PipelineConfig) -> None:
        self._recognition_s.clear()  # another model (or device): another speed
        self.settings_panel.set_config(config)
        self.settings.setValue("pipeline/config", asdict(config))

    def _show_busy(self, text: str) -> None:
        self.busy_label.setText(text)
        self.busy_bar.setVisible(bool(text))

    def _acknowledge_reminder(self) -> None:
        self.settings.setValue("responsible_use/acknowledged", True)
        self.reminder.hide()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_discard():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self.settings.setValue("playback/keep_real_time", self.settings_panel.keep_real_time.isChecked())
        self.settings.setValue("chart/window_s", self.chart_window_s)
        self.settings.sync()
        self.snapshot_timer.stop()
        self.worker.stop()
        self.worker.wait(10_000)  # finishes a recording in progress before the window goes
        event.accept()
