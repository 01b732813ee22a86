"""``fervision gui``: start the window (optionally on a source) and, for the docs, take a screenshot."""

from __future__ import annotations

import sys
from pathlib import Path

from ..engine.config import PipelineConfig


def run_gui(source: str | None = None, config: PipelineConfig | None = None, output_dir: str | None = None,
            screenshot: str | None = None, screenshot_after: int = 60) -> int:
    """Open the window; with ``screenshot`` it saves the screen after ``screenshot_after`` frames and quits."""
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from .window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("fervision")
    app.setOrganizationName("fervision")
    settings = QSettings("fervision", "fervision")
    window = MainWindow(settings, config=config, output_dir=output_dir)
    window.show()
    if source is None:
        last = settings.value("source/last")
        source = str(last) if last and Path(str(last)).exists() else None
    if source is not None:
        window.open_source(source)
    if screenshot:
        prepared: list[bool] = []

        def grab_when_ready() -> None:
            if window.frames_shown < screenshot_after:
                return
            if not prepared:  # first tick: fill the panels, show a student's timeline; grab on the next
                window.refresh_summaries()
                if window.students.rowCount():
                    window.students.selectRow(0)
                prepared.append(True)
                return
            # On a real (or virtual X) screen grab what the screen shows where the window is;
            # the offscreen platform has no screen, only the widget's own rendering.
            if app.platformName() == "xcb":
                frame = window.frameGeometry()
                image = window.screen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
            else:
                image = window.grab()
            image.save(str(screenshot))
            window.confirm_discard = lambda: True  # a screenshot run has nothing to export
            window.close()

        timer = QTimer(window, interval=500)
        timer.timeout.connect(grab_when_ready)
        timer.start()
    return app.exec()
