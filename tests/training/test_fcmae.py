"""FCMAE pre-training: the mask really hides the patches, the loss falls, and the encoder fine-tunes."""

import json

import cv2
import pytest
import torch
import torch.nn.functional as F

from fervision.checkpoint import read_metadata
from fervision.cli import main
from fervision.errors import CheckpointError, FervisionError
from fervision.models import create_model
from fervision.training import train
from fervision.training.fcmae import FCMAE, default_patch_size, random_patch_mask
from fervision.training.pretrain import PretrainConfig, Pretrainer, load_encoder, pretrain, read_encoder_metadata
from fervision.training.runs import warmup_cosine

from .conftest import _cfg


@pytest.mark.parametrize("img_size, patch", [(48, 8), (64, 8), (96, 16), (112, 16), (224, 32)])
def test_default_patch_size_gives_a_grid_of_at_least_six(img_size, patch):
    assert default_patch_size(img_size) == patch


def test_default_patch_size_refuses_sizes_without_a_grid():
    with pytest.raises(FervisionError, match="multiple of 8"):
        default_patch_size(44)


def test_random_patch_mask_masks_the_same_number_in_every_image():
    mask = random_patch_mask(5, 6, 0.6, torch.Generator().manual_seed(0))
    assert mask.shape == (5, 1, 6, 6)
    assert mask.sum(dim=(1, 2, 3)).tolist() == [22.0] * 5
    assert not torch.equal(mask[0], mask[1])  # each image its own pattern
    with pytest.raises(FervisionError, match="mask ratio"):
        random_patch_mask(1, 6, 1.0)


@pytest.mark.parametrize("model", ["convnextv2_pico", "convnextv2_pico_csa"])
def test_masked_pixels_cannot_reach_the_reconstruction(model):
    """What FCMAE's sparse convolutions guarantee: the encoder never sees the removed patches."""
    torch.manual_seed(0)
    fcmae = FCMAE(create_model(model, in_chans=1), 48, 1).eval()
    x = torch.randn(3, 1, 48, 48)
    masked = random_patch_mask(3, fcmae.grid, 0.6, torch.Generator().manual_seed(1))
    hidden = F.interpolate(masked, size=(48, 48), mode="nearest")
    changed = x + 10 * hidden * torch.randn_like(x)
    with torch.no_grad():
        assert torch.equal(fcmae.reconstruct(x, masked), fcmae.reconstruct(changed, masked))
        visible_change = x + 10 * (1 - hidden) * torch.randn_like(x)
        assert not torch.allclose(fcmae.reconstruct(x, masked), fcmae.reconstruct(visible_change, masked))


def test_every_patch_gets_its_own_prediction_even_from_a_1x1_feature_map():
    """At 48 px the encoder's last map is 1×1; the decoder's position embedding must still tell patches apart."""
    torch.manual_seed(0)
    fcmae = FCMAE(create_model("convnextv2_pico", in_chans=1), 48, 1).eval()
    masked = random_patch_mask(1, fcmae.grid, 0.6, torch.Generator().manual_seed(4))
    with torch.no_grad():
        patches = F.pixel_unshuffle(fcmae.reconstruct(torch.randn(1, 1, 48, 48), masked), 8)[0]  # [64, 6, 6]
    per_patch = patches.flatten(1).T  # one row of 64 predicted pixels per patch
    assert torch.unique(per_patch, dim=0).shape[0] == 36


def test_blocks_keep_masked_positions_at_zero():
    fcmae = FCMAE(create_model("convnextv2_pico", in_chans=1), 48, 1).eval()
    seen = []
    fcmae.encoder.model.get_submodule("stages.0.blocks.0").register_forward_hook(lambda m, i, o: seen.append(o))
    masked = random_patch_mask(2, fcmae.grid, 0.6, torch.Generator().manual_seed(2))
    with torch.no_grad():
        fcmae.reconstruct(torch.randn(2, 1, 48, 48), masked)
    at_block = F.interpolate(masked, size=seen[0].shape[-2:], mode="nearest").bool().expand_as(seen[0])
    assert seen[0][at_block].abs().max() == 0
    assert seen[0][~at_block].abs().max() > 0


def test_preview_keeps_visible_pixels_and_blanks_the_masked_ones():
    fcmae = FCMAE(create_model("convnextv2_pico", in_chans=1), 48, 1).eval()
    x = torch.randn(2, 1, 48, 48)
    masked = random_patch_mask(2, fcmae.grid, 0.6, torch.Generator().manual_seed(3))
    shown, redrawn = fcmae.preview(x, masked)
    hidden = F.interpolate(masked, size=(48, 48), mode="nearest").bool()
    assert torch.equal(shown[hidden], torch.zeros_like(shown[hidden]))
    assert torch.equal(redrawn[~hidden], x[~hidden])
    assert not torch.allclose(redrawn[hidden], x[hidden])


def test_fcmae_refuses_models_without_convnext_stages():
    with pytest.raises(FervisionError, match="ConvNeXt"):
        FCMAE(create_model("nca_mobilenet", in_chans=1), 48, 1)


def _pre_cfg(root, out, **kw):
    base = dict(model="convnextv2_pico", data=str(root), output=str(out), img_size=48, epochs=3, batch_size=32,
                lr=2e-3, warmup_epochs=0.2, max_train_samples=256, device="cpu", command="pytest")
    return PretrainConfig(**{**base, **kw})


def test_pretraining_learns_and_fine_tuning_starts_from_the_encoder(tiny_ferplus, tmp_path):
    encoder = pretrain(_pre_cfg(tiny_ferplus, tmp_path / "pre"))
    log = [json.loads(line) for line in (tmp_path / "pre" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2, 3]
    assert log[-1]["loss"] < log[0]["loss"]
    meta = read_encoder_metadata(encoder)
    assert meta is not None
    assert meta["model"] == "convnextv2_pico" and meta["patch_size"] == 8 and meta["epochs_done"] == 3
    assert meta["dataset"]["images"] == 256
    preview = cv2.imread(str(tmp_path / "pre" / "reconstruction.png"))
    assert preview.shape[:2] == (3 * 48, 8 * 48)  # original, masked, redrawn × 8 faces

    model = create_model("convnextv2_pico", in_chans=1)
    load_encoder(model, encoder)
    from safetensors.torch import load_file

    saved = load_file(encoder)
    assert not any(k.startswith("head.") for k in saved)
    assert torch.equal(model.get_parameter("stem.0.weight"), saved["stem.0.weight"])

    best = train(_cfg(tiny_ferplus, tmp_path / "ft", model="convnextv2_pico", model_options={}, img_size=48,
                      epochs=1, max_train_samples=64, init=str(encoder)))
    assert json.loads((tmp_path / "ft" / "config.json").read_text())["init"] == str(encoder)
    init = read_metadata(best).training["init"]  # the checkpoint carries where it started from
    assert init["kind"] == "fcmae" and init["epochs_done"] == 3 and init["patch_size"] == 8


def test_pretraining_resumes_where_it_stopped(tiny_ferplus, tmp_path):
    out = tmp_path / "pre"
    pretrain(_pre_cfg(tiny_ferplus, out, epochs=1, max_train_samples=64))
    pretrain(_pre_cfg(tiny_ferplus, out, epochs=2, max_train_samples=64), resume=True)
    assert [json.loads(line)["epoch"] for line in (out / "log.jsonl").read_text().splitlines()] == [1, 2]
    resumed = Pretrainer(_pre_cfg(tiny_ferplus, out, epochs=3, max_train_samples=64))
    resumed.fit(resume=True)  # the last step's lr follows the configured lr, not the saved last-step lr
    steps = 3 * (64 // 32)
    expected = 2e-3 * warmup_cosine(steps - 1, 1, (steps - 1) / steps)
    assert resumed.optimizer.param_groups[0]["lr"] == pytest.approx(expected)
    with pytest.raises(FervisionError, match="mask_ratio"):
        pretrain(_pre_cfg(tiny_ferplus, out, epochs=3, max_train_samples=64, mask_ratio=0.5), resume=True)


def test_encoder_of_another_model_is_refused_with_a_sentence(tiny_ferplus, tmp_path):
    encoder = pretrain(_pre_cfg(tiny_ferplus, tmp_path / "pre", epochs=1, max_train_samples=32))
    with pytest.raises(CheckpointError, match="pre-trained as convnextv2_pico"):
        load_encoder(create_model("convnextv2_pico_csa", in_chans=1), encoder)
    with pytest.raises(CheckpointError, match="1 input channel"):
        load_encoder(create_model("convnextv2_pico", in_chans=3), encoder)


def test_cli_init_errors_are_one_sentence(tiny_ferplus, tmp_path, capsys):
    args = ["train", "--model", "nca_mobilenet", "--data", str(tiny_ferplus), "--output", str(tmp_path / "r"),
            "--img-size", "32", "--epochs", "1", "--device", "cpu"]
    assert main([*args, "--init", str(tmp_path / "missing.safetensors")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main([*args, "--init", "imagenet"]) == 2
    assert "neither a .safetensors checkpoint" in capsys.readouterr().err


def test_cli_pretrain_writes_an_encoder(tiny_ferplus, tmp_path, capsys):
    out = tmp_path / "pre"
    assert main(["pretrain", "--model", "convnextv2_pico", "--data", str(tiny_ferplus), "--output", str(out),
                 "--img-size", "48", "--epochs", "1", "--max-train-samples", "32", "--device", "cpu"]) == 0
    assert "--init" in capsys.readouterr().out
    meta = read_encoder_metadata(out / "encoder.safetensors")
    assert meta is not None and meta["config"]["epochs"] == 1
