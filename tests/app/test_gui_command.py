"""``fervision gui`` as a user starts it: a real window on a virtual X screen, and the
no-display fallback to ``annotate``."""

import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from fervision.cli import main
from fervision.outputs.video import H264Writer

from ..conftest import ROOT
from .conftest import SAMPLE


def test_without_a_display_it_annotates_instead(tmp_path, monkeypatch, capsys):
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    clip = tmp_path / "short.mp4"
    with H264Writer(clip, 10.0, (image.shape[1], image.shape[0])) as w:
        for i in range(6):
            w.write(image, i / 10)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main(["gui", str(clip), "--output", str(tmp_path / "out"), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No display found") and "fervision annotate" in out
    assert (tmp_path / "out" / "short_annotated.mp4").is_file() and (tmp_path / "out" / "short_class.csv").is_file()


def test_real_window_under_xvfb(tmp_path):
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (Debian: apt install xvfb); the real-window check needs a virtual screen")
    server = subprocess.Popen([xvfb, "-displayfd", "1", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        display = ":" + server.stdout.readline().strip()
        env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
        env.update(DISPLAY=display, XDG_CONFIG_HOME=str(tmp_path / "config"))  # a first start, own settings
        shot = tmp_path / "screenshot.png"
        run = subprocess.run([sys.executable, "-m", "fervision", "gui", str(SAMPLE), "--device", "cpu",
                              "--screenshot", str(shot), "--screenshot-after", "30"],
                             env=env, capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stderr[-2000:]
    finally:
        server.terminate()
        server.wait(timeout=10)
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[0] >= 600 and image.shape[1] >= 1000
    assert float(np.std(image)) > 20  # a rendered window, not a blank screen
    assert (tmp_path / "config" / "fervision" / "fervision.conf").is_file()  # settings were saved on close


def test_the_recogniser_leaves_a_core_to_the_window():
    from fervision.app.main import analysis_threads

    assert [analysis_threads(cores) for cores in (None, 1, 2, 4, 16)] == [1, 1, 1, 3, 15]
