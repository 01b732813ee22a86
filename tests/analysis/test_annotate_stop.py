"""Stopping ``fervision annotate`` (SIGTERM, SIGHUP, Ctrl-C, SIGKILL): one line, never a traceback,
and every finished frame kept in files that open."""

import csv
import os
import re
import signal
import subprocess
import sys
import time

import av
import pytest

from fervision.analysis.annotate import OutputLock
from fervision.cli import INTERRUPTED

from ..conftest import ROOT

SAMPLE = ROOT / "assets" / "sample_pexels.mp4"  # 19.7 s, 640x360, with sound
STEM = "sample_pexels"
STILL_SAVING = "fervision: still saving finished work; stop again to quit at once."


def _start(out):
    return subprocess.Popen([sys.executable, "-m", "fervision", "annotate", str(SAMPLE), "--output", str(out),
                             "--device", "cpu", "--detect-every", "3"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _last_time(faces_csv):
    try:
        lines = faces_csv.read_text().splitlines()
        return float(lines[-1].split(",")[1]) if len(lines) > 1 else -1.0
    except (FileNotFoundError, ValueError, IndexError):
        return -1.0


def _wait_until_analysed(proc, out, seconds, timeout=90):
    """Wait until ``seconds`` of the clip have their rows in faces.csv."""
    deadline = time.monotonic() + timeout
    while _last_time(out / f"{STEM}_faces.csv") < seconds:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "annotate did not get that far in time"
        time.sleep(0.1)


def _messages(stderr):
    """stderr without tqdm's progress lines."""
    lines = (line.strip() for line in stderr.replace("\r", "\n").splitlines())
    return [line for line in lines if line and not re.search(r"\d+/\d+ \[", line)]


def _tables(out):
    """Every CSV parses into rows as long as its header; returns the faces table."""
    tables = {}
    for kind in ("faces", "students", "class"):
        with open(out / f"{STEM}_{kind}.csv", newline="") as f:
            rows = list(csv.reader(f))
        assert rows and {len(r) for r in rows} == {len(rows[0])}, kind
        tables[kind] = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert tables["faces"] and tables["students"] and tables["class"]
    return tables["faces"]


def _decode(path, kind):
    """(frames that decode, time of the last one)."""
    with av.open(str(path)) as c:
        frames = [f.time for f in c.decode(**{kind: 0})]
    return len(frames), frames[-1] if frames else None


def test_sigterm_closes_every_output(tmp_path):
    proc = _start(tmp_path)
    _wait_until_analysed(proc, tmp_path, 3.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert _messages(err) == [INTERRUPTED] and "Traceback" not in err
    last_s = float(_tables(tmp_path)[-1]["time_s"])
    video = tmp_path / f"{STEM}_annotated.mp4"
    frames, end_s = _decode(video, "video")
    assert end_s >= last_s - 0.1 and frames >= 24 * last_s * 0.9  # every analysed frame
    _, sound_end_s = _decode(video, "audio")
    assert sound_end_s == pytest.approx(end_s, abs=0.3)  # the sound ends with the pictures
    assert (tmp_path / f"{STEM}_timeline.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == [  # no partial video, no lock left
        f"{STEM}_annotated.mp4", f"{STEM}_class.csv", f"{STEM}_faces.csv", f"{STEM}_report.html",
        f"{STEM}_students.csv", f"{STEM}_timeline.png"]


def test_sigkill_leaves_a_video_that_plays_and_whole_rows(tmp_path):
    proc = _start(tmp_path)
    _wait_until_analysed(proc, tmp_path, 5.0)
    proc.kill()
    proc.communicate(timeout=30)
    _tables(tmp_path)
    partial = tmp_path / f"{STEM}_annotated.partial.mp4"
    frames, end_s = _decode(partial, "video")
    assert end_s >= 1.9 and frames >= 47  # up to its last whole 2-second fragment
    assert _decode(partial, "audio")[1] >= 1.5
    with OutputLock(tmp_path, STEM):  # the lock file the killed run left blocks nobody
        pass


def test_a_second_stop_while_saving_does_not_cut_it_short(tmp_path):
    proc = _start(tmp_path)
    _wait_until_analysed(proc, tmp_path, 2.0)
    proc.send_signal(signal.SIGINT)
    video = tmp_path / f"{STEM}_annotated.mp4"
    deadline = time.monotonic() + 30
    while not video.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # the video is closed first; the tables and the plot follow
    assert proc.poll() is None, "annotate finished closing too quickly to be stopped again"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert _messages(err) == [STILL_SAVING, INTERRUPTED]
    _tables(tmp_path)
    assert _decode(video, "video")[0] >= 48
    assert (tmp_path / f"{STEM}_timeline.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("number", "after_s"), [(signal.SIGINT, 0.4), (signal.SIGINT, 2.0), (signal.SIGHUP, 2.0)],
                         ids=["ctrl-c-loading-fervision", "ctrl-c-loading-torch", "terminal-closed"])
def test_stopping_during_start_up_is_one_line(tmp_path, number, after_s):
    """While Python loads fervision, torch and the model (the terminal closed: SIGHUP)."""
    proc = _start(tmp_path)
    time.sleep(after_s)
    proc.send_signal(number)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + number
    assert _messages(err) == [INTERRUPTED] and "Traceback" not in err


def test_stop_signals_in_process(capfd):
    """The first stop raises KeyboardInterrupt; a second, while closing, only says so."""
    from fervision.cli import _StopSignals

    before = signal.getsignal(signal.SIGTERM)
    with _StopSignals() as stop:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        os.kill(os.getpid(), signal.SIGINT)  # closing: not raised
        time.sleep(0.1)
        assert stop.exit_status == 143
    assert signal.getsignal(signal.SIGTERM) is before
    assert capfd.readouterr().err == STILL_SAVING + "\n"
