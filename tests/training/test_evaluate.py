import pytest

from fervision.checkpoint import read_metadata
from fervision.errors import DataError
from fervision.training import evaluate_checkpoint

from .conftest import write_class_folders


def test_a_folder_with_some_classes_in_any_order_is_scored_against_the_checkpoint(trained, tmp_path):
    """Class folders come sorted by name (happiness before neutral); the checkpoint's order rules."""
    folder = write_class_folders(tmp_path / "faces", {0: "neutral", 1: "happiness"})
    report = evaluate_checkpoint(trained, "folder", folder, "train", device="cpu")
    assert report["labels"] == read_metadata(trained).labels
    assert report["per_class"]["happiness"]["support"] == report["per_class"]["neutral"]["support"] == 24
    assert report["per_class"]["surprise"]["support"] == 0
    assert report["accuracy"] > 0.6  # the faces the checkpoint learnt, read under their own names


def test_a_folder_class_the_checkpoint_does_not_know_is_one_sentence(trained, tmp_path):
    folder = write_class_folders(tmp_path / "faces", {0: "neutral", 2: "yawning"})
    with pytest.raises(DataError, match="does not know: yawning"):
        evaluate_checkpoint(trained, "folder", folder, "train", device="cpu")
