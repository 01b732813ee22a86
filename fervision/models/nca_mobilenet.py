"""Paper B's NCA-MobileNet, built from its Table 1 read literally.

Every block is an inverted residual: expand 1×1 (skipped when the expansion equals the
input width) → depthwise k×k → optional (N)CA on the expanded channels → project 1×1,
with BN after each conv and a residual when stride is 1 and widths match.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from .attention import CoordinateAttention, PoolMode, make_act
from .registry import ModelConfig, register_model

# (in, out, expansion, kernel, nonlinearity, stride, attention) — Table 1, rows 1..13.
TABLE_1: tuple[tuple[int, int, int, int, str, int, bool], ...] = (
    (32, 32, 32, 3, "relu", 1, True),
    (32, 64, 128, 3, "relu", 2, False),
    (64, 64, 128, 3, "relu", 1, False),
    (64, 64, 128, 5, "relu", 2, True),
    (64, 128, 256, 5, "relu", 1, False),
    (128, 128, 256, 5, "relu", 1, False),
    (128, 128, 256, 3, "mish", 2, True),
    (128, 256, 512, 3, "mish", 1, False),
    (256, 256, 512, 3, "mish", 1, False),
    (256, 256, 512, 3, "mish", 1, True),
    (256, 512, 1024, 3, "mish", 1, False),
    (512, 512, 1024, 3, "mish", 1, False),
    (512, 512, 1024, 5, "mish", 2, True),
)

Attention = Literal["nca", "ca", "none"]


class InvertedResidual(nn.Module):
    """MobileNet inverted-residual block with an optional attention module after the depthwise conv."""

    def __init__(
        self, cin: int, cout: int, exp: int, k: int, act: str, stride: int, attention: nn.Module | None
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if exp != cin:
            layers += [nn.Conv2d(cin, exp, 1, bias=False), nn.BatchNorm2d(exp), make_act(act)]
        layers += [
            nn.Conv2d(exp, exp, k, stride, k // 2, groups=exp, bias=False),
            nn.BatchNorm2d(exp),
            make_act(act),
        ]
        if attention is not None:
            layers.append(attention)
        layers += [nn.Conv2d(exp, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class NCAMobileNet(nn.Module):
    """Table 1 backbone, global average pool, FC 512→512, classifier."""

    def __init__(
        self,
        num_classes: int = 8,
        in_chans: int = 3,
        act: Literal["mish", "hardswish"] = "mish",
        attention: Attention = "nca",
        nca_pool: PoolMode = "localmax",
        ca_reduction: int = 32,
        drop_rate: float = 0.2,
    ) -> None:
        super().__init__()
        if attention not in ("nca", "ca", "none"):
            raise ValueError(f"attention must be 'nca', 'ca' or 'none', not {attention!r}")
        if act not in ("mish", "hardswish"):
            raise ValueError(f"act must be 'mish' or 'hardswish', not {act!r}")
        pool: PoolMode = nca_pool if attention == "nca" else "avg"
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), make_act(act)
        )
        blocks = []
        for cin, cout, exp, k, nl, stride, has_att in TABLE_1:
            block_act = act if nl == "mish" else nl
            att = (
                CoordinateAttention(exp, reduction=ca_reduction, pool=pool)
                if has_att and attention != "none"
                else None
            )
            blocks.append(InvertedResidual(cin, cout, exp, k, block_act, stride, att))
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(512, 512), make_act(act), nn.Dropout(drop_rate))
        self.classifier = nn.Linear(512, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.forward_features(x)).flatten(1)
        return self.classifier(self.fc(x))


@register_model(
    ModelConfig(
        name="nca_mobilenet",
        description="NCA-MobileNet, paper B Table 1 (Mish + NCA attention)",
        licence="Apache-2.0",
        source="Paper B (NCA-MobileNet)",
        paper={"params_m": 3.54, "mflops": 825.93, "ferplus_acc": 88.84, "rafdb_acc": 85.90},
        default_options={"act": "mish", "attention": "nca", "nca_pool": "localmax"},
        cpu_channels_last=True,  # 1.4x faster at batch 32 on 2 cores (48 px, 301 -> 412 faces/s)
    )
)
def nca_mobilenet(num_classes: int, in_chans: int, **options: object) -> nn.Module:
    """Options: ``act`` (mish|hardswish), ``attention`` (nca|ca|none), ``nca_pool``
    (localmax|maxavg), ``ca_reduction``, ``drop_rate``; the ablation rows of Table 6 are
    combinations of these."""
    return NCAMobileNet(num_classes=num_classes, in_chans=in_chans, **options)  # type: ignore[arg-type]
