"""MobileNetV3 baselines of paper B, from timm."""

from __future__ import annotations

import timm
from torch import nn

from .registry import ModelConfig, register_model

_PAPER_B = "Paper B (NCA-MobileNet)"


def _timm_mobilenet(variant: str, num_classes: int, in_chans: int, drop_rate: float) -> nn.Module:
    return timm.create_model(
        variant, pretrained=False, num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate
    )


@register_model(
    ModelConfig(
        name="mobilenetv3_small_100",
        description="MobileNetV3-Small 1.0 (timm), paper B's baseline",
        source=_PAPER_B,
        paper={"params_m": 1.52, "ferplus_acc": 87.68, "rafdb_acc": 83.65},
        default_options={"drop_rate": 0.2},
    )
)
def mobilenetv3_small_100(num_classes: int, in_chans: int, drop_rate: float = 0.2) -> nn.Module:
    return _timm_mobilenet("mobilenetv3_small_100", num_classes, in_chans, drop_rate)


@register_model(
    ModelConfig(
        name="mobilenetv3_large_100",
        description="MobileNetV3-Large 1.0 (timm), paper B's baseline",
        source=_PAPER_B,
        paper={"params_m": 4.21, "ferplus_acc": 88.01, "rafdb_acc": 84.44},
        default_options={"drop_rate": 0.2},
    )
)
def mobilenetv3_large_100(num_classes: int, in_chans: int, drop_rate: float = 0.2) -> nn.Module:
    return _timm_mobilenet("mobilenetv3_large_100", num_classes, in_chans, drop_rate)
