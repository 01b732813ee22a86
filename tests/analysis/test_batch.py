"""fervision batch: many lessons, each as annotate writes it; failures recorded; re-runs skip
finished lessons and restart unfinished ones; the same on a local Ray."""

import csv
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from fervision.analysis.batch import MARKER, LessonOptions, find_lessons, run_batch
from fervision.cli import main
from fervision.engine.config import PipelineConfig
from fervision.errors import FervisionError
from fervision.outputs.video import H264Writer

from ..conftest import ROOT


def _clip(path, seconds=1.5, fps=10.0, shift=0):
    image = cv2.imread(str(ROOT / "assets" / "sample_face_pexels.jpg"))
    image = np.roll(image, shift, axis=1)
    with H264Writer(path, fps, (image.shape[1], image.shape[0])) as w:
        for i in range(round(seconds * fps)):
            w.write(image, i / fps)
    return path


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """Two short real lessons, a broken one, and a manifest with the school's own columns."""
    folder = tmp_path_factory.mktemp("term")
    _clip(folder / "monday.mp4")
    _clip(folder / "tuesday.mp4", shift=40)
    (folder / "broken.mp4").write_bytes((folder / "monday.mp4").read_bytes()[:3000])
    (folder / "lessons.csv").write_text("path,class,teacher\nmonday.mp4,7B,Ms Ng\nbroken.mp4,7C,Mr Ode\n"
                                        "tuesday.mp4,7B,Ms Ng\n")
    return folder


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_term_without_ray_then_a_rerun_that_skips_what_is_finished(term, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["batch", "--manifest", str(term / "lessons.csv"), "--output", str(out), "--device", "cpu", "--stride", "3"]
    assert main(args) == 1  # one lesson failed
    printed = capsys.readouterr().out
    assert "3 lesson(s): 2 done, 0 skipped (finished before), 1 failed" in printed and "broken.mp4" in printed
    rows = _rows(out / "lessons.csv")
    assert [(r["class"], r["teacher"], r["status"]) for r in rows] == [
        ("7B", "Ms Ng", "done"), ("7C", "Mr Ode", "failed"), ("7B", "Ms Ng", "done")]
    monday = rows[0]
    assert monday["path"].endswith("monday.mp4") and monday["students"] == "1" and monday["frames_analysed"] == "5"
    assert abs(sum(float(v) for k, v in monday.items() if k.startswith("share_")) - 1) < 1e-3
    assert 0 <= float(monday["facing_front_share"]) <= 1 and float(monday["duration_s"]) > 1.0
    assert "ends early" in rows[1]["reason"] or "could not be opened" in rows[1]["reason"]
    assert {p.name for p in (out / "monday").iterdir()} >= {"monday_annotated.mp4", "monday_faces.csv",
                                                            "monday_report.html", MARKER}
    index = (out / "index.html").read_text()
    assert 'href="monday/monday_report.html"' in index and 'href="tuesday/tuesday_report.html"' in index
    assert "Mr Ode" in index and "broken.mp4" in index and rows[0]["report"] == "monday/monday_report.html"
    # again: finished lessons are skipped, the failed one is tried again
    assert main(args) == 1
    assert [r["status"] for r in _rows(out / "lessons.csv")] == ["skipped", "failed", "skipped"]
    assert _rows(out / "lessons.csv")[0]["students"] == "1"  # a skipped lesson keeps its figures


def test_lessons_from_files_folders_and_globs_get_unique_safe_names(term, tmp_path):
    lessons = find_lessons([str(term / "monday.mp4"), str(term), str(term / "tue*.mp4")])
    assert [lesson.name for lesson in lessons] == ["monday", "broken", "monday_2", "tuesday", "tuesday_2"]
    weird = _clip(tmp_path / "..évil name;rm -rf.mp4")
    assert find_lessons([str(weird)])[0].name == "évil_name_rm_-rf"
    with pytest.raises(FervisionError, match="does not exist"):
        find_lessons([str(tmp_path / "missing.mp4")])
    (tmp_path / "bad.csv").write_text("file,class\nx.mp4,1\n")
    with pytest.raises(FervisionError, match="'path' column"):
        find_lessons([], tmp_path / "bad.csv")


def test_a_batch_killed_mid_lesson_restarts_that_lesson_cleanly(term, tmp_path):
    out = tmp_path / "out"
    lessons = [str(term / "monday.mp4"), str(_clip(tmp_path / "long.mp4", seconds=20)), str(term / "tuesday.mp4")]
    cmd = [sys.executable, "-m", "fervision", "batch", *lessons, "--output", str(out), "--device", "cpu"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and not (out / "long" / "long_faces.csv").is_file():
        time.sleep(0.2)
    time.sleep(1.0)  # well into the long lesson
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / "monday" / MARKER).is_file() and not (out / "long" / MARKER).is_file()
    assert [r["status"] for r in _rows(out / "lessons.csv")] == ["done"]  # parseable after the kill
    leftover = out / "long" / "left_by_the_killed_run.txt"
    leftover.write_text("x")
    summary = run_batch(find_lessons(lessons), out, LessonOptions(PipelineConfig(device="cpu")), progress=False)
    assert [r["status"] for r in summary.rows] == ["skipped", "done", "done"]
    assert not leftover.exists() and (out / "long" / MARKER).is_file()


def test_a_folder_batch_did_not_make_is_never_emptied(term, tmp_path):
    mine = tmp_path / "monday"
    mine.mkdir()
    (mine / "my notes.txt").write_text("keep me")
    summary = run_batch(find_lessons([str(term / "monday.mp4")]), tmp_path, progress=False)
    assert summary.rows[0]["status"] == "failed" and "not made by fervision batch" in summary.rows[0]["reason"]
    assert (mine / "my notes.txt").read_text() == "keep me"


def test_the_same_term_on_a_local_ray(term, tmp_path):
    pytest.importorskip("ray", reason="Ray is in the dev and cluster extras")
    lessons = find_lessons([], term / "lessons.csv")
    summary = run_batch(lessons, tmp_path / "out", LessonOptions(PipelineConfig(device="cpu"), stride=3),
                        ray_address="local", progress=False)
    assert [(r["class"], r["status"]) for r in summary.rows] == [("7B", "done"), ("7C", "failed"), ("7B", "done")]
    assert (tmp_path / "out" / "tuesday" / "tuesday_annotated.mp4").is_file()
    assert [r["status"] for r in _rows(tmp_path / "out" / "lessons.csv")] == ["done", "failed", "done"]


def test_two_local_worker_processes(term, tmp_path):
    lessons = find_lessons([str(term / "monday.mp4"), str(term / "tuesday.mp4")])
    summary = run_batch(lessons, tmp_path, LessonOptions(PipelineConfig(device="cpu"), stride=3), workers=2,
                        progress=False)
    assert [r["status"] for r in summary.rows] == ["done", "done"]
    assert [r["path"] for r in _rows(tmp_path / "lessons.csv")] == [str(term / "monday.mp4"), str(term / "tuesday.mp4")]
