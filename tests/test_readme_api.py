"""The README's Python API examples run as written (on a short clip cut from the bundled sample)."""

from __future__ import annotations

import re

import cv2

from fervision.outputs.video import H264Writer

from .conftest import ROOT


def _python_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Python API"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_python_api_runs(tmp_path, monkeypatch, capsys):
    capture = cv2.VideoCapture(str(ROOT / "assets" / "sample_pexels.mp4"))
    clip = tmp_path / "clip.mp4"
    with H264Writer(clip, 25.0, (int(capture.get(3)), int(capture.get(4)))) as writer:
        for i in range(12):
            ok, image = capture.read()
            assert ok
            writer.write(image, i / 25)
    capture.release()
    monkeypatch.chdir(tmp_path)
    frame_by_frame, with_sinks, _ = _python_blocks()
    scope: dict = {}
    for block in (frame_by_frame, with_sinks):
        exec(block.replace("assets/sample_pexels.mp4", str(clip)), scope)
    out = capsys.readouterr().out
    assert re.search(r"student #1: \w+", out)  # the first block printed confirmed students
    assert (tmp_path / "faces.csv").read_text().count("\n") > 12  # the second wrote a row per face
    assert scope["record"].students
