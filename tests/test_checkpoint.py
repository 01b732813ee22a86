import inspect
import json
import re
import typing
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from fervision import checkpoint
from fervision.checkpoint import (
    MODEL_OPTIONS,
    CheckpointMeta,
    Preprocessing,
    load_checkpoint,
    model_options_problem,
    read_metadata,
    require_labels,
    save_checkpoint,
)
from fervision.errors import CheckpointError
from fervision.models import create_model, get_model_config, list_models
from fervision.models.nca_mobilenet import NCAMobileNet
from fervision.models.registry import _REGISTRY


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
    with pytest.raises(CheckpointError, match="model 'resnet9000' is not a model this fervision has"):
        save_checkpoint(model, _meta(model="resnet9000"), tmp_path / "unknown.safetensors")
    assert not (tmp_path / "unknown.safetensors").exists()  # refused before anything is written
    unknown = _crafted(tmp_path / "unknown.safetensors", model="resnet9000")
    with pytest.raises(CheckpointError, match="model 'resnet9000' is not a model this fervision has"):
        load_checkpoint(unknown)


def _crafted(path, pre=None, **fields):
    """A checkpoint with a good model's weights and metadata changed by hand (``None`` removes a field),
    as someone could write it without save_checkpoint."""
    model = create_model("mobilenetv3_small_100", num_classes=5, in_chans=1)
    meta = _meta().to_json()
    meta["preprocessing"].update(pre or {})
    meta.update(fields)
    meta = {k: v for k, v in meta.items() if v is not None}
    meta["preprocessing"] = {k: v for k, v in meta["preprocessing"].items() if v is not None}
    save_file(model.state_dict(), str(path), metadata={"fervision": json.dumps(meta)})
    return path


def _labels(first):
    return [first, "c1", "c2", "c3", "c4"]


BAD_METADATA = [  # (changed fields, changed preprocessing, what the sentence says)
    ({"labels": _labels("../../x")}, {}, r"labels\[0\] '\.\./\.\./x' is not a plain name"),
    ({"labels": _labels("/etc/cron.d")}, {}, r"labels\[0\] '/etc/cron\.d' is not a plain name"),
    ({"labels": _labels("..")}, {}, r"labels\[0\] '\.\.' is not a plain name"),
    ({"labels": _labels(".hidden")}, {}, r"labels\[0\] '\.hidden' is not a plain name"),
    ({"labels": _labels("a\\b")}, {}, r"labels\[0\] .* is not a plain name"),
    ({"labels": _labels(" happy")}, {}, r"labels\[0\] ' happy' is not a plain name"),
    ({"labels": _labels("")}, {}, r"labels\[0\] '' is not a non-empty name"),
    ({"labels": _labels(7)}, {}, r"labels\[0\] 7 is not a non-empty name"),
    ({"labels": _labels("x" * 33)}, {}, r"labels\[0\] 'x+' is longer than 32 characters"),
    ({"labels": _labels("NUL")}, {}, r"labels\[0\] 'NUL' is a name Windows keeps for a device"),
    ({"labels": ["c0", "c1", "c1", "c3", "c4"]}, {}, r"labels list 'c1' twice"),
    ({"labels": "c0"}, {}, r"labels is not a non-empty list"),
    ({"labels": []}, {}, r"labels is not a non-empty list"),
    ({"labels": None}, {}, r"labels is missing"),
    ({"model": "../../evil"}, {}, r"model '\.\./\.\./evil' is not a model this fervision has"),
    ({"format": "something-else"}, {}, r"format is 'something-else'"),
    ({"format_version": 2}, {}, r"format_version 2 is not one this fervision reads"),
    ({"training": [1, 2]}, {}, r"training is not a JSON object"),
    ({}, {"input_size": 0}, r"preprocessing\.input_size 0 is not a whole number of pixels from 8 to 1024"),
    ({}, {"input_size": 1_000_000}, r"preprocessing\.input_size 1000000 is not a whole number"),
    ({}, {"input_size": 32.5}, r"preprocessing\.input_size 32\.5 is not a whole number"),
    ({}, {"input_size": True}, r"preprocessing\.input_size True is not a whole number"),
    ({}, {"source_size": -48}, r"preprocessing\.source_size -48 is not a whole number"),
    ({}, {"color": "bgr"}, r"preprocessing\.color 'bgr' is not one of grey, rgb"),
    ({}, {"mean": [0.5, 0.5, 0.5]}, r"preprocessing\.mean \[0\.5, 0\.5, 0\.5\] is not 1 number"),
    ({}, {"std": [0.0]}, r"preprocessing\.std \[0\.0\] is not positive"),
    ({}, {"std": [-0.25]}, r"preprocessing\.std \[-0\.25\] is not positive"),
    ({}, {"std": [float("nan")]}, r"preprocessing\.std \[nan\] is not 1 number"),
    ({}, {"std": "0.25"}, r"preprocessing\.std '0\.25' is not 1 number"),
    ({}, {"color": "rgb", "mean": [0.5, 0.5]}, r"preprocessing\.mean \[0\.5, 0\.5\] is not 1 number or 3 \(one "),
    ({}, {"crop_margin": 1.5}, r"preprocessing\.crop_margin 1\.5 is not a number from 0 to 1"),
    ({}, {"crop_margin": -0.1}, r"preprocessing\.crop_margin -0\.1 is not a number from 0 to 1"),
    ({}, {"evil": 1}, r"preprocessing\.evil is not a preprocessing setting"),
    ({}, {"color": None}, r"preprocessing\.color is missing"),
]


@pytest.mark.parametrize(("fields", "pre", "says"), BAD_METADATA)
def test_crafted_metadata_is_refused_naming_the_field(tmp_path, fields, pre, says):
    path = _crafted(tmp_path / "crafted.safetensors", pre, **fields)
    for read in (read_metadata, load_checkpoint):
        with pytest.raises(CheckpointError, match=f"^{re.escape(str(path))} is refused: its {says}"):
            read(path)


def test_plain_labels_and_settings_are_accepted(tmp_path):
    labels = ["very happy", "so-so", "half_asleep", "étonné", "c4"]
    path = _crafted(tmp_path / "ok.safetensors", {"crop_margin": 1, "input_size": 8, "source_size": 1024},
                    labels=labels)
    meta = read_metadata(path)
    assert meta.labels == labels and meta.preprocessing.crop_margin == 1
    assert load_checkpoint(path)[1].labels == labels


def test_rgb_takes_one_shared_or_three_means_and_stds(tmp_path):
    """Training writes the model's one shared mean/std for colour faces too (normalize broadcasts it)."""
    model = create_model("mobilenetv3_small_100", num_classes=5, in_chans=3)
    for mean, std in (((0.5,), (0.25,)), ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))):
        pre = Preprocessing(input_size=32, source_size=48, color="rgb", mean=mean, std=std)
        path = save_checkpoint(model, _meta(preprocessing=pre), tmp_path / f"rgb{len(mean)}.safetensors")
        assert load_checkpoint(path)[1].preprocessing.std == std


def test_save_refuses_labels_that_load_would_refuse(tmp_path):
    model = create_model("mobilenetv3_small_100", num_classes=5, in_chans=1)
    with pytest.raises(CheckpointError, match=r"^cannot save .*bad\.safetensors: its labels\[0\] '\.\./x' is not"):
        save_checkpoint(model, _meta(labels=_labels("../x")), tmp_path / "bad.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_require_labels_refuses_other_classes_or_order():
    meta = _meta()
    require_labels(meta, list(meta.labels), "m.safetensors")  # same classes, same order: accepted
    with pytest.raises(CheckpointError, match=r"teacher m\.safetensors predicts"):
        require_labels(meta, list(reversed(meta.labels)), "m.safetensors", role="teacher")
    with pytest.raises(CheckpointError, match="not the data's"):
        require_labels(meta, list(meta.labels)[:-1], "m.safetensors")


BAD_MODEL_OPTIONS = [  # (model, its options, what the sentence says)
    ("mobilenetv3_small_100", {"drop_rate": 5}, r"model_options\.drop_rate 5 is not a number from 0 to below 1"),
    ("mobilenetv3_small_100", {"drop_rate": -0.1}, r"model_options\.drop_rate -0\.1 is not a number from 0 to below"),
    ("mobilenetv3_small_100", {"drop_rate": "0.2"}, r"model_options\.drop_rate '0\.2' is not a number"),
    ("mobilenetv3_small_100", {"drop_rate": True}, r"model_options\.drop_rate True is not a number"),
    ("mobilenetv3_small_100", {"drop_rate": [0.2]}, r"model_options\.drop_rate \[0\.2\] is not a number"),
    ("mobilenetv3_small_100", {"drop_rate": None}, r"model_options\.drop_rate None is not a number"),
    ("mobilenetv3_small_100", {"pretrained": True},
     r"model_options\.pretrained is not an option of model mobilenetv3_small_100 \(it takes drop_rate\)"),
    ("mobilenetv3_small_100", {"csa_reduction": 8}, r"model_options\.csa_reduction is not an option of model"),
    ("nca_mobilenet", {"act": "relu"}, r"model_options\.act 'relu' is not one of mish, hardswish"),
    ("nca_mobilenet", {"attention": {"nca": 1}}, r"model_options\.attention \{'nca': 1\} is not one of nca, ca, none"),
    ("nca_mobilenet", {"ca_reduction": 0}, r"model_options\.ca_reduction 0 is not a whole number from 1 to 1024"),
    ("nca_mobilenet", {"ca_reduction": 10**9}, r"model_options\.ca_reduction 1000000000 is not a whole number"),
    ("nca_mobilenet", {"ca_reduction": 8.5}, r"model_options\.ca_reduction 8\.5 is not a whole number"),
    ("convnextv2_pico_csa", {"csa_placement": "everywhere"},
     r"model_options\.csa_placement 'everywhere' is not one of last, stages"),
    ("convnextv2_pico_csa", {"simam_lambda": 0}, r"model_options\.simam_lambda 0 is not a number above 0, at most 1"),
    ("convnextv2_pico_csa", {"drop_path_rate": float("inf")}, r"model_options\.drop_path_rate inf is not a number"),
]


@pytest.mark.parametrize(("model", "options", "says"), BAD_MODEL_OPTIONS)
def test_crafted_model_options_are_refused_naming_the_option(tmp_path, model, options, says):
    """A checkpoint's model options go to the model's constructor: only its own, plain and in range."""
    path = _crafted(tmp_path / "crafted.safetensors", model=model, model_options=options)
    for read in (read_metadata, load_checkpoint):
        with pytest.raises(CheckpointError, match=f"^{re.escape(str(path))} is refused: its {says}"):
            read(path)
    with pytest.raises(CheckpointError, match=f"^cannot save .*: its {says}"):
        save_checkpoint(create_model("mobilenetv3_small_100", 5, 1), _meta(model=model, model_options=options),
                        tmp_path / "refused.safetensors")


def test_model_option_rules_match_every_registered_builder():
    """MODEL_OPTIONS names each model's keyword arguments with their choices, and its defaults pass."""
    assert set(MODEL_OPTIONS) == set(list_models())
    for name in list_models():
        builder = _REGISTRY[name][0]
        params = dict(inspect.signature(builder).parameters)
        hints = typing.get_type_hints(builder)
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):  # nca_mobilenet passes them on
            assert name == "nca_mobilenet"
            init = NCAMobileNet.__init__
            params, hints = dict(inspect.signature(init).parameters), typing.get_type_hints(init)
        accepted = set(params) - {"num_classes", "in_chans", "self"}
        assert set(MODEL_OPTIONS[name]) == accepted, name
        for key, rule in MODEL_OPTIONS[name].items():
            if typing.get_origin(hints[key]) is typing.Literal:
                assert set(rule.choices) == set(typing.get_args(hints[key])), (name, key)
            if params[key].default is not inspect.Parameter.empty:
                assert rule.allows(params[key].default), (name, key)
        assert model_options_problem(name, get_model_config(name).default_options) is None


def test_shipped_checkpoints_options_are_accepted():
    shipped = sorted((Path(checkpoint.__file__).parent / "checkpoints").glob("*.json"))
    assert shipped
    for path in shipped:
        meta = json.loads(path.read_text())
        assert model_options_problem(meta["model"], meta["model_options"]) is None, path
