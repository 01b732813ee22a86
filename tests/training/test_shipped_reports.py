"""The shipped checkpoints reproduce the test numbers in their model cards (docs/eval/*.json) exactly,
and the cards' parameter and MAC counts."""

import json

import pytest

from fervision.recognizer import list_checkpoints
from fervision.training import evaluate_checkpoint

from ..conftest import ROOT, shared_path


@pytest.mark.parametrize("name", list_checkpoints())
def test_model_card_numbers_reproduce(name):
    data = shared_path("data", "ferplus")
    saved = json.loads((ROOT / "docs" / "eval" / f"{name}_test_ttaoff.json").read_text())
    report = evaluate_checkpoint(ROOT / "fervision" / "checkpoints" / f"{name}.safetensors", "ferplus", data, "test",
                                 device="cpu", tta_flip=False)
    assert report["confusion_matrix"] == saved["confusion_matrix"]
    assert report["accuracy"] == saved["accuracy"] and report["macro_f1"] == saved["macro_f1"]
    size, card = report["input_size"], (ROOT / "fervision" / "checkpoints" / f"{name}.md").read_text()
    assert f"{report['params'] / 1e6:.2f} M / {report['macs'] / 1e6:.3g} M per face at {size}×{size}" in card
