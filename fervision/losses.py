"""Training losses: cross-entropy, focal loss, and paper A's adaptive weighted focal loss
(eqs. 11–13).

Every loss takes either class indices ``[B]`` or label distributions ``[B, K]`` (FERPlus
votes, a teacher's mixed-in predictions), so ``--soft-labels`` and distillation combine with
any loss. On one-hot distributions each loss equals its class-index form exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def as_distribution(targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``float32 [B, K]``: class indices as one-hot rows; distributions pass through."""
    if targets.is_floating_point():
        return targets.float()
    return F.one_hot(targets, num_classes).float()


def adaptive_class_weights(targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Paper A's per-batch weights e_i = 1 − L_i / M (L_i: count of class i, M: batch size).

    Classes absent from the batch get weight 1; a class filling the whole batch gets 0. With
    label distributions, L_i is the probability mass the batch gives class i.
    """
    counts = as_distribution(targets, num_classes).sum(dim=0)
    return 1.0 - counts / targets.shape[0]


def focal_terms(logits: torch.Tensor, gamma: float) -> torch.Tensor:
    """``[B, K]`` of ``-(1 - p_k)^gamma · log p_k`` for every class, in float32 for stability."""
    log_p = F.log_softmax(logits.float(), dim=1)
    return -((1.0 - log_p.exp()).clamp_min(0).pow(gamma)) * log_p


class FocalLoss(nn.Module):
    """``alpha · (1 − p_t)^gamma · (−log p_t)``, averaged over the batch; with a label
    distribution q, ``alpha · Σ_k q_k (1 − p_k)^gamma (−log p_k)``."""

    def __init__(self, gamma: float = 2.0, alpha: float = 1.0) -> None:
        super().__init__()
        self.gamma, self.alpha = gamma, alpha

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        q = as_distribution(targets, logits.shape[1])
        return (self.alpha * (q * focal_terms(logits, self.gamma)).sum(dim=1)).mean()


class AdaptiveWeightedFocalLoss(nn.Module):
    """Paper A: ``−e_y · alpha · (1 − p_y)^gamma · log p_y`` averaged over the batch, with
    ``e`` recomputed from every batch's own label counts (no global class statistics).
    With a label distribution q the sum runs over classes, ``Σ_k q_k e_k …``, and the counts
    are the batch's summed q."""

    def __init__(self, gamma: float = 0.1, alpha: float = 0.5) -> None:
        super().__init__()
        self.gamma, self.alpha = gamma, alpha

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        q = as_distribution(targets, logits.shape[1]).to(logits.device)
        weights = adaptive_class_weights(q, logits.shape[1])
        per_sample = (q * weights * self.alpha * focal_terms(logits, self.gamma)).sum(dim=1)
        return per_sample.mean()


class CrossEntropy(nn.Module):
    """Cross-entropy with optional label smoothing, against class indices or distributions."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.label_smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if targets.is_floating_point():
            targets = targets.float()
        return F.cross_entropy(logits.float(), targets, label_smoothing=self.label_smoothing)


LOSSES = ("ce", "focal", "awfl")


def create_loss(name: str, **options: float) -> nn.Module:
    """Loss by name: ``ce``, ``focal`` or ``awfl`` (adaptive weighted focal)."""
    factories = {"ce": CrossEntropy, "focal": FocalLoss, "awfl": AdaptiveWeightedFocalLoss}
    if name not in factories:
        raise ValueError(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}")
    return factories[name](**options)
