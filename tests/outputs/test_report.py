"""The lesson report, opened in a real browser (headless Chromium): it renders, runs its script
without a console error, links nowhere, holds no face image, and escapes what users type.

``FERVISION_DOCS_SCREENSHOT=docs/report.png pytest tests/outputs/test_report.py`` also saves
the screenshot the README shows."""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from fervision.analysis.annotate import annotate
from fervision.engine.config import PipelineConfig
from fervision.outputs.record import LessonRecord
from fervision.outputs.report import write_report

from ..conftest import ROOT

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_browser = pytest.mark.skipif(BROWSER is None,
                                   reason="no Chromium: apt-get install chromium (README's system line)")


def _browse(html, *extra):
    """Chromium on ``html``: (stdout, console messages)."""
    cmd = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
           "--user-data-dir=" + str(html.parent / "chromium-profile"), *extra, html.as_uri()]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return result.stdout, console


@pytest.fixture(scope="module")
def lesson_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    result = annotate(str(ROOT / "assets" / "sample_pexels.mp4"), PipelineConfig(device="cpu"), out, stride=4,
                      progress=False)
    return result.outputs["report"]


def test_the_report_is_one_self_contained_page(lesson_report):
    html = lesson_report.read_text()
    assert lesson_report.stat().st_size < 3_000_000
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:|//|file:)', html)  # nothing fetched from anywhere
    assert "<img" not in html and "data:image/jpeg" not in html  # no face images
    assert "<svg" in html and "Responsible use" in html and "How to read this" in html
    assert html.count('<tr class="">') == 1  # the one student of the sample clip
    assert "Facing front" in html and "efficientnet_lite0" in html


@needs_browser
def test_the_report_renders_in_a_browser_without_errors(lesson_report):
    dom, console = _browse(lesson_report, "--dump-dom")
    assert console == [] and "Responsible use" in dom
    png = lesson_report.with_suffix(".png")
    _, console = _browse(lesson_report, "--window-size=1200,1700", f"--screenshot={png}", "--hide-scrollbars")
    assert console == []
    import cv2

    shot = cv2.imread(str(png))
    assert shot is not None and shot.shape[:2] == (1700, 1200)
    assert (shot < 200).any(axis=2).mean() > 0.05 and shot.std() > 20  # not a blank page
    target = os.environ.get("FERVISION_DOCS_SCREENSHOT")
    if target:
        shutil.copyfile(png, target)


@needs_browser
def test_a_script_error_would_be_caught(tmp_path):
    """The browser check is real: a page with a broken script fails it."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>x</p><script>noSuchFunction();</script></body></html>")
    assert any("noSuchFunction" in line for line in _browse(page, "--dump-dom")[1])


def test_names_and_checkpoint_text_are_escaped(tmp_path):
    labels = ["neutral", "happiness"]
    from fervision.core.frame import FaceFrame

    record = LessonRecord(labels)
    for i in range(30):
        probs = np.array([[0.2, 0.8]], np.float32)
        record.add(FaceFrame(xyxy=np.array([[0, 0, 40, 40]], np.float32), confidence=np.ones(1, np.float32),
                             time_s=i / 10, index=i, student_ids=np.array([1]), data={"expression": probs},
                             labels=labels))
    record.rename(1, "<script>alert(1)</script>")
    metrics = {"valid": {"per_class_recall": {"neutral": 0.9, "happiness": "<b>x</b>"}}}
    html = write_report(record, tmp_path / "r.html", title="<i>t</i>", length_s=3.0, metrics=metrics,
                        settings=[("model", "<img src=x>")]).read_text()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x>" not in html and "<i>t</i>" not in html
    assert ">10%<" in html and "<b>x</b>" not in html  # a recall that is not a number is left out
