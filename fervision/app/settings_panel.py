"""Model, device, detector and playback settings. Model and device apply at once; detector
settings on "Apply". Emits a :class:`PipelineConfig`, the same object ``annotate`` builds from."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..engine.config import PipelineConfig
from ..engine.detectors import list_detectors
from ..recognizer import DEFAULT_CHECKPOINT, list_checkpoints

OTHER_FILE = "Other file…"


def available_devices() -> list[str]:
    import torch

    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return devices


class SettingsPanel(QWidget):
    config_changed = Signal(object)  # PipelineConfig
    keep_real_time_changed = Signal(bool)
    chart_window_changed = Signal(float)  # seconds

    def __init__(self, config: PipelineConfig, keep_real_time: bool = True, chart_window_s: float = 300.0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._config = config
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow dock: the field goes under its label
        self.model = QComboBox()
        self.model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(12)  # long checkpoint names must not widen the dock
        for name in list_checkpoints():  # "default" is one of them: one entry, "<name> (default)"
            if name == DEFAULT_CHECKPOINT:  # chosen as "default", so a later version's default follows
                self.model.addItem(f"{name} (default)", "default")
            else:
                self.model.addItem(name, name)
        self.model.addItem(OTHER_FILE, OTHER_FILE)
        self._show_model(config.model)
        self.model.activated.connect(self._on_model)
        form.addRow("Model", self.model)
        self.device = QComboBox()
        self.device.addItems(available_devices())
        if self.device.findText(config.device) < 0:
            self.device.addItem(config.device)
        self.device.setCurrentText(config.device)
        self.device.activated.connect(lambda _: self._emit(device=self.device.currentText()))
        form.addRow("Device", self.device)

        self.detector = QComboBox()
        self.detector.addItems(list_detectors())
        self.detector.setCurrentText(config.detector)
        form.addRow("Face detector", self.detector)
        self.min_face = QSpinBox(minimum=0, maximum=400, suffix=" px", value=config.min_face_px)
        self.min_face.setToolTip("Ignore faces smaller than this, as sqrt(width × height): too small to read, "
                                 "and where most false detections are (0 = keep all).")
        form.addRow("Minimum face size", self.min_face)
        self.min_score = QDoubleSpinBox(minimum=0.0, maximum=0.99, singleStep=0.05, decimals=2,
                                        value=config.min_face_score or 0.0)
        self.min_score.setSpecialValueText("detector default")
        form.addRow("Minimum face score", self.min_score)
        self.tiles = QSpinBox(minimum=1, maximum=4, value=config.tiles)
        self.tiles.setToolTip("Split large frames into N×N tiles so small back-row faces are found (slower).")
        form.addRow("Tiling (N×N)", self.tiles)
        self.detect_every = QSpinBox(minimum=0, maximum=10, value=config.detect_every or 0)
        self.detect_every.setSpecialValueText("auto")
        self.detect_every.setToolTip("Detect faces on every N-th frame only (faster; students sit still). "
                                     "Auto: 3 on a CPU, 1 on a GPU.")
        form.addRow("Detect every", self.detect_every)
        faces = config.max_faces_per_frame
        self.max_faces = QSpinBox(minimum=-2, maximum=200, value=-2 if faces is None else max(faces, -1))
        self.max_faces.setSpecialValueText("auto")
        self.max_faces.setToolTip("Re-read at most this many faces per frame besides those whose label turns 1 s "
                                  "old; 0 = each once a second in one batch; -1 = all, every frame. "
                                  "Auto: 0 on a CPU, all on a GPU.")
        form.addRow("Faces re-read per frame", self.max_faces)
        apply = QPushButton("Apply detector settings")
        apply.clicked.connect(self._apply_detector)
        form.addRow(apply)

        self.keep_real_time = QCheckBox("Skip frames to keep real time")
        self.keep_real_time.setChecked(keep_real_time)
        self.keep_real_time.toggled.connect(self.keep_real_time_changed)
        form.addRow(self.keep_real_time)
        self.chart_window = QSpinBox(minimum=1, maximum=120, suffix=" min", value=max(1, round(chart_window_s / 60)))
        self.chart_window.valueChanged.connect(lambda v: self.chart_window_changed.emit(60.0 * v))
        form.addRow("Chart window", self.chart_window)

    @property
    def config(self) -> PipelineConfig:
        return self._config

    def set_config(self, config: PipelineConfig) -> None:
        """Show the configuration in use (after a failed switch the old one stays)."""
        self._config = config
        self._show_model(config.model)
        self.device.setCurrentText(config.device)

    def _show_model(self, model: str) -> None:
        """Select ``model``'s entry (the default checkpoint's for its name or "default"), adding a file's path."""
        name = "default" if model == DEFAULT_CHECKPOINT else model
        index = self.model.findData(name)
        if index < 0:
            index = self.model.count() - 1  # before "Other file…"
            self.model.insertItem(index, name, name)
        self.model.setCurrentIndex(index)

    def _on_model(self, _: int) -> None:
        choice = str(self.model.currentData())
        if choice == OTHER_FILE:
            path, _filter = QFileDialog.getOpenFileName(self, "Open a checkpoint", "", "Checkpoints (*.safetensors)")
            if not path:
                self._show_model(self._config.model)
                return
            choice = path
        self._emit(model=choice)

    def _apply_detector(self) -> None:
        self._emit(detector=self.detector.currentText(), min_face_px=self.min_face.value(),
                   min_face_score=self.min_score.value() or None, tiles=self.tiles.value(),
                   detect_every=self.detect_every.value() or None,
                   max_faces_per_frame=None if self.max_faces.value() == -2 else self.max_faces.value())

    def _emit(self, **changes: object) -> None:
        self.config_changed.emit(self._config.with_(**changes))
