"""Batched augmentation and preprocessing on uint8 tensors (CPU or GPU).

One affine warp per sample does crop/zoom, rotation, translation, horizontal flip and the
resize to the model's input size in a single ``grid_sample``; colour jitter and random
erasing are plain tensor ops. The same :func:`preprocess` is used for evaluation and by
the recogniser, so a checkpoint sees identical preprocessing in training and in use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

_GREY_WEIGHTS = (0.299, 0.587, 0.114)


def match_channels(x: torch.Tensor, in_chans: int) -> torch.Tensor:
    """Convert float ``[B, C, H, W]`` to ``in_chans`` channels (grey ↔ RGB)."""
    c = x.shape[1]
    if c == in_chans:
        return x
    if c == 1 and in_chans == 3:
        return x.expand(-1, 3, -1, -1)
    if c == 3 and in_chans == 1:
        w = torch.tensor(_GREY_WEIGHTS, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        return (x * w).sum(dim=1, keepdim=True)
    raise ValueError(f"cannot convert {c} channels to {in_chans}")


def normalize(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """``(x/255 − mean) / std`` with per-channel (or one shared) mean and std."""
    m = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    s = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    return (x / 255.0 - m) / s


def preprocess(
    images: torch.Tensor, size: int, in_chans: int, mean: tuple[float, ...], std: tuple[float, ...]
) -> torch.Tensor:
    """Deterministic eval transform: uint8 ``[B, C, H, W]`` → normalised float ``[B, in_chans, size, size]``."""
    x = match_channels(images.float(), in_chans)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return normalize(x, mean, std)


@dataclass(frozen=True)
class AugmentConfig:
    """Strength of each augmentation; defaults suit 48×48 FERPlus faces."""

    scale: tuple[float, float] = (0.8, 1.0)  # fraction of the face kept (zoom-in crop)
    translate: float = 0.08  # as a fraction of the image side
    rotate_deg: float = 12.0
    flip: bool = True
    brightness: float = 0.3
    contrast: float = 0.3
    erase_prob: float = 0.25  # random erasing, a stand-in for occlusion by hands etc.
    erase_area: tuple[float, float] = (0.02, 0.2)


def _affine_grid(
    b: int, size: int, cfg: AugmentConfig, device: torch.device, g: torch.Generator | None
) -> torch.Tensor:
    def uniform(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(b, generator=g, device=device) * (hi - lo) + lo

    zoom = uniform(*cfg.scale)
    angle = uniform(-cfg.rotate_deg, cfg.rotate_deg) * math.pi / 180
    tx, ty = uniform(-cfg.translate, cfg.translate) * 2, uniform(-cfg.translate, cfg.translate) * 2
    flip = torch.where(torch.rand(b, generator=g, device=device) < 0.5, -1.0, 1.0) if cfg.flip else 1.0
    cos, sin = torch.cos(angle) * zoom, torch.sin(angle) * zoom
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1
    )
    return F.affine_grid(theta, [b, 1, size, size], align_corners=False)


def _random_erase(x: torch.Tensor, cfg: AugmentConfig, g: torch.Generator | None) -> torch.Tensor:
    b, _, h, w = x.shape
    dev = x.device
    area = torch.rand(b, generator=g, device=dev) * (cfg.erase_area[1] - cfg.erase_area[0]) + cfg.erase_area[0]
    log_ratio = (torch.rand(b, generator=g, device=dev) * 2 - 1) * math.log(3.0)
    ratio = torch.exp(log_ratio)
    eh = (torch.sqrt(area / ratio) * h).clamp(1, h)
    ew = (torch.sqrt(area * ratio) * w).clamp(1, w)
    y0 = torch.rand(b, generator=g, device=dev) * (h - eh)
    x0 = torch.rand(b, generator=g, device=dev) * (w - ew)
    ys = torch.arange(h, device=dev).view(1, h, 1)
    xs = torch.arange(w, device=dev).view(1, 1, w)
    inside = (
        (ys >= y0.view(-1, 1, 1)) & (ys < (y0 + eh).view(-1, 1, 1))
        & (xs >= x0.view(-1, 1, 1)) & (xs < (x0 + ew).view(-1, 1, 1))
    )
    apply = torch.rand(b, generator=g, device=dev) < cfg.erase_prob
    mask = (inside & apply.view(-1, 1, 1)).unsqueeze(1)
    noise = torch.randn(x.shape, generator=g, device=dev, dtype=x.dtype)
    return torch.where(mask, noise, x)


def augment(
    images: torch.Tensor,
    size: int,
    in_chans: int,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    cfg: AugmentConfig = AugmentConfig(),
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Training transform: uint8 ``[B, C, H, W]`` → augmented, normalised float ``[B, in_chans, size, size]``."""
    b = images.shape[0]
    x = images.float()
    grid = _affine_grid(b, size, cfg, x.device, generator)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    x = match_channels(x, in_chans)
    if cfg.brightness or cfg.contrast:
        bright = 1 + (torch.rand(b, 1, 1, 1, generator=generator, device=x.device) * 2 - 1) * cfg.brightness
        contrast = 1 + (torch.rand(b, 1, 1, 1, generator=generator, device=x.device) * 2 - 1) * cfg.contrast
        mu = x.mean(dim=(1, 2, 3), keepdim=True)
        x = ((x - mu) * contrast + mu * bright).clamp(0, 255)
    x = normalize(x, mean, std)
    if cfg.erase_prob > 0:
        x = _random_erase(x, cfg, generator)
    return x
