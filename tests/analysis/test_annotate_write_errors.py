"""``fervision annotate`` when writing fails: a full disk, a second run into the same folder, an
output name taken by a folder. One sentence, never a traceback; what was finished is kept whole."""

import csv
import os
import re
import subprocess

import av
import pytest

from fervision.analysis.annotate import OutputLock
from fervision.cli import main

from ..conftest import ROOT

SAMPLE = ROOT / "assets" / "sample_pexels.mp4"  # 19.7 s, 640x360, with sound
STEM = "sample_pexels"


def _messages(stderr):
    """stderr without tqdm's progress lines."""
    lines = (line.strip() for line in stderr.replace("\r", "\n").splitlines())
    return [line for line in lines if line and not re.search(r"\d+/\d+ \[", line)]


def _frames(path):
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 kB file system (tmpfs): needs root; skips elsewhere."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True,
                           check=False) if os.geteuid() == 0 else None
    if mount is None or mount.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root) to fill a disk for real")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_is_one_sentence_and_keeps_whole_rows(tiny_disk, capsys):
    assert main(["annotate", str(SAMPLE), "--output", str(tiny_disk), "--device", "cpu", "--detect-every", "3"]) == 2
    err = capsys.readouterr().err
    assert len(_messages(err)) == 1 and "Traceback" not in err
    saved = re.fullmatch(r"fervision: the disk is full: finished frames up to ([\d.]+) s are saved in .+; "
                         r"free some space and run again\.", _messages(err)[0])
    assert saved, err
    with open(tiny_disk / f"{STEM}_faces.csv", newline="") as f:
        faces = list(csv.reader(f))
    assert {len(r) for r in faces} == {len(faces[0])}  # no torn row
    assert 0 < float(saved.group(1)) <= float(faces[-1][1])
    video = next(tiny_disk.glob(f"{STEM}_annotated*.mp4"))
    assert _frames(video) > 0


def test_a_second_run_into_the_same_folder_is_refused(tmp_path, capsys):
    faces = tmp_path / f"{STEM}_faces.csv"
    faces.write_text("the first run's rows\n")
    with OutputLock(tmp_path, STEM):
        assert main(["annotate", str(SAMPLE), "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"fervision: another fervision run (process {os.getpid()}) is writing {STEM}'s outputs into "
                   f"{tmp_path}; wait for it to finish or choose another --output.\n")
    assert faces.read_text() == "the first run's rows\n"  # untouched
    assert not (tmp_path / f".{STEM}.lock").exists()


def test_an_output_name_taken_by_a_folder_is_one_sentence(tmp_path, capsys):
    (tmp_path / f"{STEM}_class.csv").mkdir()
    assert main(["annotate", str(SAMPLE), "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"fervision: {tmp_path / f'{STEM}_class.csv'} is a folder, so the output of that name cannot be "
                   "written; move the folder away or choose another --output.\n")
    assert not (tmp_path / f"{STEM}_faces.csv").exists()  # refused before anything was written
