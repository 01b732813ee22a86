"""``fervision gui``: start the window (optionally on a source) and, for the docs, take a screenshot."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..engine.config import PipelineConfig

if TYPE_CHECKING:
    from PySide6.QtGui import QImage


def _is_blank(image: QImage) -> bool:
    """One colour everywhere on a 16x16 grid of samples: nothing drawn on the screen yet."""
    w, h = image.width(), image.height()
    colours = {image.pixel(x * w // 16, y * h // 16) for x in range(16) for y in range(16)} if w and h else set()
    return len(colours) <= 1


def analysis_threads(cores: int | None) -> int:
    """Threads for the recogniser's CPU work: one core is left to the window, decoding and a
    recording. With every core given to torch, any other work on the machine stalls its threads
    at each step: on 2 cores beside a busy process, a batch of 22 faces took 0.9-1.1 s instead of
    60-70 ms with one thread."""
    return max(1, (cores or 1) - 1)


def available_cores() -> int | None:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def run_gui(source: str | None = None, config: PipelineConfig | None = None, output_dir: str | None = None,
            screenshot: str | None = None, screenshot_after: int = 60) -> int:
    """Open the window; with ``screenshot`` it saves the screen after ``screenshot_after`` frames
    (or at the end of a source that had fewer) and quits."""
    import torch
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from .window import MainWindow

    torch.set_num_threads(analysis_threads(available_cores()))
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
        ticks: list[bool] = []
        ended: list[bool] = []  # a source shorter than the frames asked for (on a busy machine)
        window.worker.source_ended.connect(lambda: ended.append(True))

        def grab_when_ready() -> None:
            if window.frames_shown < screenshot_after and not ended:
                return
            if not ticks:  # first tick: fill the panels, show a student's timeline; grab on the next
                window.refresh_summaries()
                if window.students.rowCount():
                    window.students.selectRow(0)
            ticks.append(True)
            if len(ticks) < 2:
                return
            # On a real (or virtual X) screen grab what the screen shows where the window is;
            # the offscreen platform has no screen, only the widget's own rendering.
            if QGuiApplication.platformName() == "xcb":
                window.repaint()
                frame = window.frameGeometry()
                image = window.screen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
                if _is_blank(image.toImage()) and len(ticks) < 40:
                    return  # the X server has not shown the window yet (a busy machine): try again
            else:
                image = window.grab()
            image.save(str(screenshot))
            window.ask_before_discard = False  # a screenshot run has nothing to export
            window.close()

        timer = QTimer(window, interval=500)
        timer.timeout.connect(grab_when_ready)
        timer.start()
    return app.exec()
