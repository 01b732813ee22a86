import pytest
import torch

from fervision.models import count_macs, count_params, create_model, get_model_config, list_models

EXPECTED = {"convnextv2_pico", "convnextv2_pico_csa", "mobilenetv3_small_100", "mobilenetv3_large_100", "nca_mobilenet"}


def test_registry_lists_the_papers_models():
    assert set(list_models()) >= EXPECTED


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("in_chans", [1, 3])
def test_every_model_runs_forward_and_backward(name, in_chans):
    model = create_model(name, num_classes=7, in_chans=in_chans)
    x = torch.randn(2, in_chans, 64, 64)
    out = model(x)
    assert out.shape == (2, 7)
    out.sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    assert any(g.abs().sum() > 0 for g in grads if g is not None)
    cfg = get_model_config(name)
    assert cfg.input_size > 0 and cfg.licence and cfg.source
    assert cfg.paper or "not from the papers" in cfg.source  # the papers' models carry their figures


def test_paper_a_model_is_within_5_percent_of_8_98m_parameters():
    params = count_params(create_model("convnextv2_pico_csa", num_classes=8))
    assert abs(params - 8.98e6) / 8.98e6 < 0.05


@pytest.mark.parametrize("placement", ["last", "stages"])
def test_csa_adds_parameters_to_the_baseline(placement):
    base = count_params(create_model("convnextv2_pico", num_classes=8))
    csa = count_params(create_model("convnextv2_pico_csa", num_classes=8, csa_placement=placement))
    assert 0.02e6 < csa - base < 0.3e6


def test_nca_mobilenet_follows_table_1_literally():
    model = create_model("nca_mobilenet", num_classes=8)
    # Table 1 read literally gives 4.34 M parameters and ~0.97 G MACs at 224², not the
    # paper's 3.54 M / 825.93 M (see README).
    assert abs(count_params(model) - 4.343e6) < 0.01e6
    assert abs(count_macs(model, 224) - 0.969e9) < 0.01e9


@pytest.mark.parametrize("name,paper", [("mobilenetv3_small_100", 1.52e6), ("mobilenetv3_large_100", 4.21e6)])
def test_mobilenet_baselines_match_the_papers_parameter_counts(name, paper):
    assert abs(count_params(create_model(name, num_classes=8)) - paper) / paper < 0.02


def test_nca_ablation_options_change_the_model():
    full = count_params(create_model("nca_mobilenet"))
    no_att = count_params(create_model("nca_mobilenet", attention="none"))
    ca = count_params(create_model("nca_mobilenet", attention="ca"))
    assert no_att < full and ca == full  # CA and NCA differ in pooling only


def test_unknown_model_and_option_are_refused():
    with pytest.raises(KeyError, match="unknown model"):
        create_model("resnet9000")
    with pytest.raises(TypeError):
        create_model("nca_mobilenet", wings=2)
    with pytest.raises(ValueError):
        create_model("nca_mobilenet", attention="se")
