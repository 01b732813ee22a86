import json

import pytest
import torch
from safetensors.torch import save_file

from fervision.checkpoint import (
    CheckpointMeta,
    Preprocessing,
    load_checkpoint,
    read_metadata,
    require_labels,
    save_checkpoint,
)
from fervision.errors import CheckpointError
from fervision.models import create_model


def _meta(**kw):
    base = dict(model="mobilenetv3_small_100", model_options={"drop_rate": 0.2}, labels=[f"c{i}" for i in range(5)],
                preprocessing=Preprocessing(input_size=32, source_size=48, color="grey", mean=(0.5,), std=(0.25,)))
    return CheckpointMeta(**{**base, **kw})


def test_round_trip_keeps_weights_and_metadata(tmp_path):
    model = create_model("mobilenetv3_small_100", num_classes=5, in_chans=1).eval()
    path = save_checkpoint(model, _meta(metrics={"test": 0.5}), tmp_path / "m.safetensors")
    loaded, meta = load_checkpoint(path)
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x), loaded(x), atol=1e-6)
    assert meta.labels == [f"c{i}" for i in range(5)] and meta.metrics == {"test": 0.5}
    assert meta.preprocessing.mean == (0.5,) and not loaded.training
    sidecar = json.loads((tmp_path / "m.json").read_text())
    assert sidecar["format"] == "fervision-checkpoint" and sidecar["model"] == "mobilenetv3_small_100"
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o044  # readable like any other file


def test_half_precision_checkpoint_is_smaller_and_close(tmp_path):
    model = create_model("mobilenetv3_small_100", num_classes=5, in_chans=1).eval()
    full = save_checkpoint(model, _meta(), tmp_path / "full.safetensors")
    half = save_checkpoint(model, _meta(), tmp_path / "half.safetensors", half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded, _ = load_checkpoint(half)
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(torch.softmax(model(x), 1), torch.softmax(loaded(x), 1), atol=1e-2)


def test_bad_checkpoints_give_one_clear_sentence(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint file"):
        load_checkpoint(tmp_path / "missing.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"this is not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_checkpoint(garbage)
    truncated = tmp_path / "truncated.safetensors"
    good = save_checkpoint(create_model("mobilenetv3_small_100", 5, 1), _meta(), tmp_path / "good.safetensors")
    truncated.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(CheckpointError):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(CheckpointError, match="not a fervision checkpoint"):
        read_metadata(foreign)


def test_checkpoint_that_does_not_fit_its_model(tmp_path):
    model = create_model("mobilenetv3_small_100", num_classes=5, in_chans=1)
    path = save_checkpoint(model, _meta(model="nca_mobilenet", model_options={}), tmp_path / "wrong.safetensors")
    with pytest.raises(CheckpointError, match="does not fit model nca_mobilenet"):
        load_checkpoint(path)
    unknown = save_checkpoint(model, _meta(model="resnet9000"), tmp_path / "unknown.safetensors")
    with pytest.raises(CheckpointError, match="cannot build"):
        load_checkpoint(unknown)


def test_require_labels_refuses_other_classes_or_order():
    meta = _meta()
    require_labels(meta, list(meta.labels), "m.safetensors")  # same classes, same order: accepted
    with pytest.raises(CheckpointError, match=r"teacher m\.safetensors predicts"):
        require_labels(meta, list(reversed(meta.labels)), "m.safetensors", role="teacher")
    with pytest.raises(CheckpointError, match="not the data's"):
        require_labels(meta, list(meta.labels)[:-1], "m.safetensors")
