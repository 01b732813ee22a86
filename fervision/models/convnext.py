"""ConvNeXt V2-pico (timm) and paper A's variant with CSA attention."""

from __future__ import annotations

from typing import Literal

import timm
from timm.models.convnext import ConvNeXt
from torch import nn

from .attention import CSA
from .registry import ModelConfig, register_model

Placement = Literal["last", "stages"]

_PAPER_A = "Paper A (ConvNeXt V2 + CSA + adaptive weighted focal loss)"


def _convnextv2_pico(num_classes: int, in_chans: int, drop_path_rate: float) -> ConvNeXt:
    model = timm.create_model(
        "convnextv2_pico",
        pretrained=False,
        num_classes=num_classes,
        in_chans=in_chans,
        drop_path_rate=drop_path_rate,
    )
    assert isinstance(model, ConvNeXt)  # create_model is typed to return any nn.Module
    return model


@register_model(
    ModelConfig(
        name="convnextv2_pico",
        description="ConvNeXt V2-pico baseline (timm), paper A's backbone",
        licence="Apache-2.0 (timm) / CC-BY-NC-4.0 for Meta's pretrained weights (unused)",
        source=_PAPER_A,
        paper={"params_m": 8.76, "ferplus_acc": 90.47, "rafdb_acc": 87.35},
        default_options={"drop_path_rate": 0.1},
    )
)
def convnextv2_pico(num_classes: int, in_chans: int, drop_path_rate: float = 0.1) -> nn.Module:
    return _convnextv2_pico(num_classes, in_chans, drop_path_rate)


@register_model(
    ModelConfig(
        name="convnextv2_pico_csa",
        description="ConvNeXt V2-pico + CSA (coordinate attention ∥ SimAM), paper A",
        licence="Apache-2.0",
        source=_PAPER_A,
        paper={"params_m": 8.98, "ferplus_acc": 92.96, "rafdb_acc": 90.87},
        default_options={"drop_path_rate": 0.1, "csa_placement": "last", "csa_reduction": 8},
    )
)
def convnextv2_pico_csa(
    num_classes: int,
    in_chans: int,
    drop_path_rate: float = 0.1,
    csa_placement: Placement = "last",
    csa_reduction: int = 8,
    simam_lambda: float = 1e-4,
) -> nn.Module:
    """CSA after the last stage (``last``) or after every stage (``stages``).

    The paper does not say where CSA sits; its Table 2 says CSA adds about 0.16 M
    parameters. Reduction 8 after the last stage adds 0.10 M, after every stage 0.13 M
    (``fervision models`` prints the exact deltas).
    """
    if csa_placement not in ("last", "stages"):
        raise ValueError(f"csa_placement must be 'last' or 'stages', not {csa_placement!r}")
    model = _convnextv2_pico(num_classes, in_chans, drop_path_rate)
    indices = [len(model.stages) - 1] if csa_placement == "last" else range(len(model.stages))
    for i in indices:
        channels = model.feature_info[i]["num_chs"]
        assert isinstance(channels, int)  # timm types feature_info as list[dict[str, object]]
        model.stages[i] = nn.Sequential(
            model.stages[i], CSA(channels, reduction=csa_reduction, lam=simam_lambda)
        )
    return model
