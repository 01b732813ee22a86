"""Qt tests run offscreen (no display needed), with settings in a temporary INI file."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported by pytest-qt

import pytest
from PySide6.QtCore import QSettings

from fervision.engine.config import PipelineConfig

from ..conftest import ROOT

SAMPLE = ROOT / "assets" / "sample_pexels.mp4"


@pytest.fixture(autouse=True)
def analysis_threads():
    """The recogniser's threads as ``fervision gui`` sets them, one core left to the window (with
    every core, the window's tests stalled whenever anything else ran on the machine)."""
    import torch

    from fervision.app.main import analysis_threads, available_cores

    before = torch.get_num_threads()
    torch.set_num_threads(analysis_threads(available_cores()))
    yield
    torch.set_num_threads(before)


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
