"""Training losses: cross-entropy (hard or soft targets), focal loss, and paper A's
adaptive weighted focal loss (eqs. 11–13)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def adaptive_class_weights(targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Paper A's per-batch weights e_i = 1 − L_i / M (L_i: count of class i, M: batch size).

    Classes absent from the batch get weight 1; a class filling the whole batch gets 0.
    """
    counts = torch.bincount(targets, minlength=num_classes).to(torch.float32)
    return 1.0 - counts / targets.numel()


def focal_term(logits: torch.Tensor, targets: torch.Tensor, gamma: float) -> torch.Tensor:
    """Per-sample ``-(1 - p_t)^gamma · log p_t`` computed in float32 for stability."""
    log_p = F.log_softmax(logits.float(), dim=1)
    log_pt = log_p.gather(1, targets[:, None]).squeeze(1)
    pt = log_pt.exp()
    return -((1.0 - pt).clamp_min(0).pow(gamma)) * log_pt


class FocalLoss(nn.Module):
    """``alpha · (1 − p_t)^gamma · (−log p_t)``, averaged over the batch."""

    def __init__(self, gamma: float = 2.0, alpha: float = 1.0) -> None:
        super().__init__()
        self.gamma, self.alpha = gamma, alpha

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (self.alpha * focal_term(logits, targets, self.gamma)).mean()


class AdaptiveWeightedFocalLoss(nn.Module):
    """Paper A: ``−e_y · alpha · (1 − p_y)^gamma · log p_y`` averaged over the batch, with
    ``e`` recomputed from every batch's own label counts (no global class statistics)."""

    def __init__(self, gamma: float = 0.1, alpha: float = 0.5) -> None:
        super().__init__()
        self.gamma, self.alpha = gamma, alpha

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        weights = adaptive_class_weights(targets, logits.shape[1]).to(logits.device)
        per_sample = weights[targets] * self.alpha * focal_term(logits, targets, self.gamma)
        return per_sample.mean()


class SoftTargetCrossEntropy(nn.Module):
    """Cross-entropy against a label distribution (e.g. normalised FERPlus votes)."""

    def forward(self, logits: torch.Tensor, target_dist: torch.Tensor) -> torch.Tensor:
        log_p = F.log_softmax(logits.float(), dim=1)
        return -(target_dist.float() * log_p).sum(dim=1).mean()


class CrossEntropy(nn.Module):
    """Plain cross-entropy with optional label smoothing (hard integer targets)."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.label_smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.float(), targets, label_smoothing=self.label_smoothing)


LOSSES = ("ce", "focal", "awfl", "soft_ce")


def create_loss(name: str, **options: float) -> nn.Module:
    """Loss by name: ``ce``, ``focal``, ``awfl`` (adaptive weighted focal) or ``soft_ce``."""
    factories = {
        "ce": CrossEntropy,
        "focal": FocalLoss,
        "awfl": AdaptiveWeightedFocalLoss,
        "soft_ce": SoftTargetCrossEntropy,
    }
    if name not in factories:
        raise ValueError(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}")
    return factories[name](**options)
