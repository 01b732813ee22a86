import subprocess
import sys

from fervision.cli import main


def test_models_table_lists_every_model_with_paper_figures(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("convnextv2_pico_csa", "nca_mobilenet", "mobilenetv3_large_100"):
        assert name in out
    assert "3.54M" in out and "4.34M" in out and "825.93" in out


def test_bad_input_is_one_sentence_and_exit_2(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "nope.safetensors"), "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fervision: No checkpoint file") and "\n" not in err
    missing = str(tmp_path / "missing")
    assert main(["train", "--model", "nca_mobilenet", "--data", missing, "--output", str(tmp_path / "r")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_console_entry_point_runs_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "fervision", "eval", "default", "--data", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "holds no FERPlus data" in result.stderr


def test_recognize_writes_annotated_image_and_csv(tmp_path, capsys):
    from .conftest import ROOT

    photo = str(ROOT / "assets" / "sample_face_pexels.jpg")
    assert main(["recognize", photo, "--output", str(tmp_path), "--device", "cpu"]) == 0
    assert "1 face(s)" in capsys.readouterr().out
    rows = (tmp_path / "sample_face_pexels_faces.csv").read_text().splitlines()
    assert rows[0].split(",")[:8] == ["face", "x1", "y1", "x2", "y2", "det_score", "emotion", "confidence"]
    labels = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")
    assert rows[0].split(",")[8:] == [*[f"p_{x}" for x in labels], "yaw", "pitch", "roll", "eyes_open", "facing_front"]
    assert len(rows) == 2
    cells = rows[1].split(",")
    assert abs(sum(float(v) for v in cells[8:16]) - 1) < 1e-3
    yaw, pitch, roll, eyes, facing = cells[16:]
    assert all(abs(float(v)) < 60 for v in (yaw, pitch, roll)) and eyes == ""  # a CPU reads five points: no eyelids
    assert facing == "1"  # alone in the photo: the front is where she faces
    assert main(["recognize", photo, "--output", str(tmp_path), "--device", "cpu",
                 "--head-pose-landmarks", "facemesh+yunet"]) == 0
    eyes = (tmp_path / "sample_face_pexels_faces.csv").read_text().splitlines()[1].split(",")[19]
    assert 0 < float(eyes) <= 1
    assert (tmp_path / "sample_face_pexels_annotated.jpg").stat().st_size > 10_000
    assert main(["recognize", photo, "--output", str(tmp_path), "--device", "cpu", "--no-head-pose"]) == 0
    assert (tmp_path / "sample_face_pexels_faces.csv").read_text().splitlines()[0].endswith("p_contempt")


def test_recognize_bad_image_inputs(tmp_path, capsys):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    for path, message in ((tmp_path / "missing.jpg", "No image file"), (empty, "empty"), (text, "not an image")):
        assert main(["recognize", str(path)]) == 2
        assert message in capsys.readouterr().err


def test_unavailable_device_is_one_sentence(tmp_path, capsys):
    import torch

    from .conftest import ROOT

    image = str(ROOT / "assets" / "sample_face_pexels.jpg")
    assert main(["recognize", image, "--output", str(tmp_path), "--device", "tpu9"]) == 2
    assert "unknown device" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(["recognize", image, "--output", str(tmp_path), "--device", "cuda"]) == 2
        assert "no CUDA GPU is available" in capsys.readouterr().err


def _console_script(interrupt_during: str, number: int) -> str:
    """The installed ``fervision`` command as pip writes it from pyproject.toml, with a stop signal
    sent to itself while it imports ``interrupt_during``: the first moments after Enter."""
    import tomllib

    from .conftest import ROOT

    entry = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["fervision"]
    module, function = entry.split(":")
    return f"""
import importlib.abc, os, sys, time

class StopWhileLoading(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == {interrupt_during!r}:
            os.kill(os.getpid(), {number})
            time.sleep(5)  # the handler runs before this ends
        return None

sys.meta_path.insert(0, StopWhileLoading())
from {module} import {function}
sys.exit({function}())
"""


def test_ctrl_c_while_the_command_loads_is_one_line_and_status_130(tmp_path):
    import signal

    for number in (signal.SIGINT, signal.SIGTERM):
        result = subprocess.run([sys.executable, "-c", _console_script("fervision.cli", number), "models"],
                                capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert result.returncode == 128 + number, result.stderr
        assert result.stderr == "fervision: interrupted; what was finished before the stop is saved.\n"  # no traceback


def test_ctrl_c_just_before_main_takes_over_is_one_line(monkeypatch, capsys):
    import fervision.cli
    from fervision.__main__ import run

    def interrupted(argv=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(fervision.cli, "main", interrupted)
    assert run() == 130
    assert capsys.readouterr().err == "fervision: interrupted; what was finished before the stop is saved.\n"
