import pytest
import torch

from fervision.checkpoint import load_checkpoint, read_metadata
from fervision.cli import main
from fervision.errors import CheckpointError
from fervision.models import create_model
from fervision.training.initial_weights import load_checkpoint_init

from ..conftest import make_faces
from .conftest import write_class_folders


def _model(labels, **options):
    return create_model("nca_mobilenet", num_classes=len(labels), in_chans=1, **({"attention": "none"} | options))


def test_same_labels_start_from_every_trained_weight(trained):
    source, meta = load_checkpoint(trained)
    model = _model(meta.labels)
    record = load_checkpoint_init(model, trained, meta.labels)
    theirs = source.state_dict()
    assert all(torch.equal(v, theirs[k]) for k, v in model.state_dict().items())
    assert record["kind"] == "checkpoint" and record["classifier_rows_kept"] == meta.labels
    assert record["command"] == "pytest" and record["valid_accuracy"] == meta.metrics["valid"]["accuracy"]


def test_known_classes_keep_their_classifier_rows_in_any_order(trained):
    source, _ = load_checkpoint(trained)
    labels = ["happiness", "yawning", "neutral"]  # reordered, one class the checkpoint never saw
    model = _model(labels).eval()
    fresh_row = model.classifier.weight[1].detach().clone()
    record = load_checkpoint_init(model, trained, labels)
    assert record["classifier_rows_kept"] == ["happiness", "neutral"]
    x = torch.from_numpy(make_faces(8, size=32)[0]).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        ours, theirs = model(x), source(x)
    assert torch.allclose(ours[:, [0, 2]], theirs[:, [1, 0]], atol=1e-5)  # happiness, neutral
    assert torch.equal(model.classifier.weight[1], fresh_row)  # the new class starts from the fresh head


def test_another_model_or_colour_is_refused_with_a_sentence(trained):
    labels = read_metadata(trained).labels
    with pytest.raises(CheckpointError, match=r"'act': 'mish'.*leave out --model"):
        load_checkpoint_init(_model(labels, act="hardswish"), trained, labels)
    with pytest.raises(CheckpointError, match="trained on grey faces"):
        load_checkpoint_init(create_model("nca_mobilenet", num_classes=8, in_chans=3, attention="none"), trained,
                             labels)


def test_cli_fine_tunes_a_checkpoint_on_a_folder_of_colour_faces(trained, tmp_path, capsys):
    """No --model or --img-size: the checkpoint's model and input size; the faces read grey at its resolution."""
    write_class_folders(tmp_path / "faces", {0: "neutral", 1: "happiness", 2: "yawning"})
    out = tmp_path / "ft"
    assert main(["train", "--init", str(trained), "--dataset", "folder", "--data", str(tmp_path / "faces"),
                 "--output", str(out), "--epochs", "1", "--batch-size", "16", "--lr", "1e-4", "--device", "cpu"]) == 0
    meta = read_metadata(out / "best.safetensors")
    assert meta.model == "nca_mobilenet" and meta.model_options == read_metadata(trained).model_options
    assert meta.labels == ["happiness", "neutral", "yawning"]
    pre = meta.preprocessing
    assert (pre.color, pre.source_size, pre.input_size, pre.crop_margin) == ("grey", 48, 32, 0.0)  # as the start's
    assert meta.training["init"]["classifier_rows_kept"] == ["happiness", "neutral"]
    # the two known classes are recognised from the start: validation is far above chance after one gentle epoch
    assert meta.metrics["valid"]["per_class_recall"]["happiness"] > 0.6
    assert meta.metrics["valid"]["per_class_recall"]["neutral"] > 0.6


def test_cli_train_needs_a_model_or_a_checkpoint(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path), "--device", "cpu"]) == 2
    assert "give --model" in capsys.readouterr().err
