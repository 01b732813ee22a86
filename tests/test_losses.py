import math

import pytest
import torch
import torch.nn.functional as F

from fervision.losses import (
    AdaptiveWeightedFocalLoss,
    FocalLoss,
    SoftTargetCrossEntropy,
    adaptive_class_weights,
    create_loss,
)

LOGITS = torch.tensor([[2.0, 0.5, -1.0, 0.0], [0.1, 0.2, 0.3, 0.4], [-0.5, 1.5, 0.0, 0.2], [1.0, 1.0, 1.0, 3.0]])
TARGETS = torch.tensor([0, 0, 1, 3])  # class 2 absent from the batch


def _softmax_row(row):
    exps = [math.exp(v) for v in row]
    return [e / sum(exps) for e in exps]


def test_adaptive_weights_follow_eq_13_with_an_absent_class():
    # M = 4 labels: L = [2, 1, 0, 1] -> e = 1 - L/M
    assert adaptive_class_weights(TARGETS, 4).tolist() == [0.5, 0.75, 1.0, 0.75]


def test_adaptive_weighted_focal_loss_matches_a_hand_computation():
    gamma, alpha = 0.1, 0.5
    weights = [0.5, 0.75, 1.0, 0.75]
    total = 0.0
    for row, y in zip(LOGITS.tolist(), TARGETS.tolist()):
        p = _softmax_row(row)[y]
        total += -weights[y] * alpha * (1 - p) ** gamma * math.log(p)
    expected = total / 4
    got = AdaptiveWeightedFocalLoss(gamma=gamma, alpha=alpha)(LOGITS, TARGETS).item()
    assert got == pytest.approx(expected, rel=1e-6)


def test_weights_are_recomputed_per_batch():
    loss = AdaptiveWeightedFocalLoss()
    one_class = loss(LOGITS, torch.zeros(4, dtype=torch.long))
    assert one_class.item() == 0.0  # e_0 = 1 - 4/4 = 0 when the batch holds one class only


def test_focal_with_gamma_zero_is_scaled_cross_entropy():
    assert FocalLoss(gamma=0.0, alpha=0.3)(LOGITS, TARGETS).item() == pytest.approx(
        0.3 * F.cross_entropy(LOGITS, TARGETS).item(), rel=1e-6
    )


def test_focal_down_weights_easy_examples_by_hand():
    gamma = 2.0
    expected = sum(
        -(1 - _softmax_row(r)[y]) ** gamma * math.log(_softmax_row(r)[y]) for r, y in zip(LOGITS.tolist(), TARGETS.tolist())
    ) / 4
    assert FocalLoss(gamma=gamma)(LOGITS, TARGETS).item() == pytest.approx(expected, rel=1e-6)


def test_soft_target_cross_entropy():
    onehot = F.one_hot(TARGETS, 4).float()
    assert SoftTargetCrossEntropy()(LOGITS, onehot).item() == pytest.approx(F.cross_entropy(LOGITS, TARGETS).item(), rel=1e-6)
    dist = torch.tensor([[0.5, 0.5, 0, 0]] * 4)
    expected = sum(-0.5 * math.log(_softmax_row(r)[0]) - 0.5 * math.log(_softmax_row(r)[1]) for r in LOGITS.tolist()) / 4
    assert SoftTargetCrossEntropy()(LOGITS, dist).item() == pytest.approx(expected, rel=1e-6)


def test_create_loss_by_name():
    assert isinstance(create_loss("awfl"), AdaptiveWeightedFocalLoss)
    with pytest.raises(ValueError, match="unknown loss"):
        create_loss("hinge")
