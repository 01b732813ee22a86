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
    assert main(["train", "--model", "nca_mobilenet", "--data", str(tmp_path / "missing"), "--output", str(tmp_path / "r")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_console_entry_point_runs_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "fervision", "eval", "default", "--data", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "holds no FERPlus data" in result.stderr
