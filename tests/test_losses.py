import math

import pytest
import torch
import torch.nn.functional as F

from fervision.losses import (
    AdaptiveWeightedFocalLoss,
    CrossEntropy,
    FocalLoss,
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
    for row, y in zip(LOGITS.tolist(), TARGETS.tolist(), strict=True):
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
        -(1 - _softmax_row(r)[y]) ** gamma * math.log(_softmax_row(r)[y])
        for r, y in zip(LOGITS.tolist(), TARGETS.tolist(), strict=True)
    ) / 4
    assert FocalLoss(gamma=gamma)(LOGITS, TARGETS).item() == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_takes_distributions():
    onehot = F.one_hot(TARGETS, 4).float()
    assert CrossEntropy()(LOGITS, onehot).item() == pytest.approx(F.cross_entropy(LOGITS, TARGETS).item(), rel=1e-6)
    dist = torch.tensor([[0.5, 0.5, 0, 0]] * 4)
    expected = sum(-0.5 * math.log(_softmax_row(r)[0]) - 0.5 * math.log(_softmax_row(r)[1])
                   for r in LOGITS.tolist()) / 4
    assert CrossEntropy()(LOGITS, dist).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("loss", [CrossEntropy(label_smoothing=0.1), FocalLoss(gamma=2.0, alpha=0.3),
                                  AdaptiveWeightedFocalLoss()])
def test_one_hot_distributions_equal_class_indices(loss):
    onehot = F.one_hot(TARGETS, 4).float()
    assert loss(LOGITS, onehot).item() == pytest.approx(loss(LOGITS, TARGETS).item(), rel=1e-6)


SOFT = torch.tensor([[0.6, 0.4, 0, 0], [1.0, 0, 0, 0], [0, 0.5, 0.5, 0], [0, 0, 0.2, 0.8]])


def test_adaptive_weights_of_distributions_use_the_summed_mass():
    # masses [1.6, 0.9, 0.7, 0.8] over M = 4
    assert adaptive_class_weights(SOFT, 4).tolist() == pytest.approx([0.6, 0.775, 0.825, 0.8])


def test_adaptive_weighted_focal_loss_on_distributions_by_hand():
    gamma, alpha = 0.1, 0.5
    weights = [0.6, 0.775, 0.825, 0.8]
    total = 0.0
    for row, q in zip(LOGITS.tolist(), SOFT.tolist(), strict=True):
        p = _softmax_row(row)
        total += sum(-qk * weights[k] * alpha * (1 - p[k]) ** gamma * math.log(p[k]) for k, qk in enumerate(q))
    got = AdaptiveWeightedFocalLoss(gamma=gamma, alpha=alpha)(LOGITS, SOFT).item()
    assert got == pytest.approx(total / 4, rel=1e-6)


def test_create_loss_by_name():
    assert isinstance(create_loss("awfl"), AdaptiveWeightedFocalLoss)
    with pytest.raises(ValueError, match="unknown loss"):
        create_loss("hinge")
