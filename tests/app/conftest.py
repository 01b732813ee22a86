"""Qt tests run offscreen (no display needed), with settings in a temporary INI file."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported by pytest-qt

import pytest
from PySide6.QtCore import QSettings

from fervision.engine.config import PipelineConfig

from ..conftest import ROOT

SAMPLE = ROOT / "assets" / "sample_pexels.mp4"


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "fervision.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings):
    """Opens main windows on CPU; closes them at the end without asking to export."""
    from fervision.app.window import MainWindow

    def make(config=None, **kwargs):
        window = MainWindow(settings, config=config or PipelineConfig(device="cpu"), **kwargs)
        qtbot.addWidget(window, before_close_func=lambda w: setattr(w, "ask_before_discard", False))
        window.show()
        return window

    return make
