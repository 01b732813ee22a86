"""Attention blocks of the two papers: coordinate attention (CA), its max-pooling variant
NCA (paper B), SimAM, and CSA = CA ∥ SimAM with learnable convex weights (paper A).

See ``../shared/design/methods.md`` for the readings of the ambiguous equations; each
reading is a named option here so that it can be measured rather than guessed.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

PoolMode = Literal["avg", "localmax", "maxavg"]
"""Directional pooling of coordinate attention.

* ``avg``: plain CA (Hou et al. 2021): mean along the other axis.
* ``localmax``: NCA reading 1: max over a 3-wide window along the pooled axis, then mean.
* ``maxavg``: NCA reading 2: directional max + directional mean (as in CBAM).
"""


def make_act(name: str) -> nn.Module:
    """Activation by name; the papers use ReLU, Hardswish and Mish."""
    acts = {"relu": nn.ReLU, "hardswish": nn.Hardswish, "mish": nn.Mish, "silu": nn.SiLU}
    if name not in acts:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(acts)}")
    return acts[name](inplace=True) if name != "mish" else nn.Mish()


class CoordinateAttention(nn.Module):
    """Coordinate attention with a choice of directional pooling (CA or NCA).

    The reduced width is ``max(min_channels, channels // reduction)`` as in Hou et al.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 32,
        pool: PoolMode = "avg",
        act: str = "hardswish",
        min_channels: int = 8,
    ) -> None:
        super().__init__()
        if pool not in ("avg", "localmax", "maxavg"):
            raise ValueError(f"unknown coordinate pooling {pool!r}")
        self.pool = pool
        mid = max(min_channels, channels // reduction)
        self.reduce = nn.Sequential(
            nn.Conv2d(channels, mid, 1, bias=True), nn.BatchNorm2d(mid), make_act(act)
        )
        self.to_h = nn.Conv2d(mid, channels, 1)
        self.to_w = nn.Conv2d(mid, channels, 1)

    def _directional(self, x: torch.Tensor, dim: int) -> torch.Tensor:
        """Pool over ``dim`` (3 = width, giving B×C×H×1; 2 = height, giving B×C×1×W)."""
        if self.pool == "avg":
            return x.mean(dim=dim, keepdim=True)
        if self.pool == "maxavg":
            return x.amax(dim=dim, keepdim=True) + x.mean(dim=dim, keepdim=True)
        # localmax: 3-wide max filter along the axis being pooled, then the mean.
        kernel = (1, 3) if dim == 3 else (3, 1)
        padding = (0, 1) if dim == 3 else (1, 0)
        local = F.max_pool2d(x, kernel, stride=1, padding=padding)
        return local.mean(dim=dim, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, h, w = x.shape
        x_h = self._directional(x, 3)  # B C H 1
        x_w = self._directional(x, 2).transpose(2, 3)  # B C W 1
        y = self.reduce(torch.cat([x_h, x_w], dim=2))
        y_h, y_w = torch.split(y, [h, w], dim=2)
        a_h = torch.sigmoid(self.to_h(y_h))  # B C H 1
        a_w = torch.sigmoid(self.to_w(y_w.transpose(2, 3)))  # B C 1 W
        return x * a_h * a_w


class SimAM(nn.Module):
    """Parameter-free SimAM attention (Yang et al. 2021), the standard energy formula.

    Paper A prints a different denominator with lambda = 1e-8; methods.md explains why we
    read that as a transcription error. ``lam`` stays configurable.
    """

    def __init__(self, lam: float = 1e-4) -> None:
        super().__init__()
        self.lam = lam

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[2] * x.shape[3] - 1
        d = (x - x.mean(dim=(2, 3), keepdim=True)).pow(2)
        v = d.sum(dim=(2, 3), keepdim=True) / max(n, 1)
        energy = d / (4 * (v + self.lam)) + 0.5
        return x * torch.sigmoid(energy)


class CSA(nn.Module):
    """Paper A's CSA: ``alpha * CA(x) + beta * SimAM(x)`` with alpha = sigmoid(theta), beta = 1 - alpha."""

    def __init__(self, channels: int, reduction: int = 32, lam: float = 1e-4) -> None:
        super().__init__()
        self.coord = CoordinateAttention(channels, reduction=reduction, pool="avg")
        self.simam = SimAM(lam)
        self.theta = nn.Parameter(torch.zeros(()))

    @property
    def alpha(self) -> float:
        return float(torch.sigmoid(self.theta.detach()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.sigmoid(self.theta)
        return a * self.coord(x) + (1 - a) * self.simam(x)
