"""Loss functions against explicit hand computations on tiny examples."""

from __future__ import annotations

import math

import pytest
import torch

from pipeline.losses import DistillationLoss, WeightedCrossEntropy

STUDENT = [[2.0, -1.0, 0.5], [0.1, 0.3, -0.7]]
TEACHER = [[1.5, 0.2, -0.3], [-0.4, 2.2, 0.0]]
TEACHER_MIRRORED = [[0.0, 1.0, 3.0], [1.0, 1.0, 1.0]]
LABELS = [0, 2]
WEIGHTS = [1.0, 2.0, 0.5]


def softmax(row, t=1.0):
    exps = [math.exp(v / t) for v in row]
    return [e / sum(exps) for e in exps]


def hand_weighted_ce(logits, labels, weights):
    """PyTorch's weighted mean: sum_i w_{y_i} * -log p_i[y_i] / sum_i w_{y_i}."""
    num = sum(weights[y] * -math.log(softmax(row)[y]) for row, y in zip(logits, labels))
    return num / sum(weights[y] for y in labels)


def hand_kl(student, teacher, t):
    """batchmean KL(p_teacher || p_student) at temperature t: sum over classes, mean over rows."""
    total = 0.0
    for s_row, t_row in zip(student, teacher):
        p, q = softmax(t_row, t), softmax(s_row, t)
        total += sum(pi * (math.log(pi) - math.log(qi)) for pi, qi in zip(p, q))
    return total / len(student)


def test_weighted_cross_entropy_matches_hand_computation():
    loss = WeightedCrossEntropy(WEIGHTS)(torch.tensor(STUDENT), torch.tensor(LABELS))
    assert loss.item() == pytest.approx(hand_weighted_ce(STUDENT, LABELS, WEIGHTS), rel=1e-6)


@pytest.mark.parametrize("temperature,alpha,ce_weight", [(3.0, 0.2, 1.0), (1.0, 0.5, 0.0), (4.0, 0.1, 0.7)])
def test_distillation_loss_matches_hand_computation(temperature, alpha, ce_weight):
    table = torch.tensor([TEACHER, TEACHER_MIRRORED]).permute(1, 0, 2).contiguous()  # (N=2, 2, classes)
    loss_fn = DistillationLoss(table, temperature, alpha, ce_weight, class_weights=WEIGHTS)
    idx = torch.tensor([1, 0])  # batch row 0 is train sample 1, row 1 is sample 0
    flip = torch.tensor([True, False])
    student = torch.tensor(STUDENT)
    labels = torch.tensor(LABELS)
    got = loss_fn(student, labels, idx, flip).item()
    teacher_rows = [TEACHER_MIRRORED[1], TEACHER[0]]  # looked up by (idx, flip)
    expected = (ce_weight * hand_weighted_ce(STUDENT, LABELS, WEIGHTS)
                + alpha * temperature ** 2 * hand_kl(STUDENT, teacher_rows, temperature))
    assert got == pytest.approx(expected, rel=1e-5)


def test_kl_term_vanishes_when_student_equals_teacher():
    table = torch.tensor([TEACHER, TEACHER]).permute(1, 0, 2).contiguous()
    loss_fn = DistillationLoss(table, 3.0, alpha=1.0, ce_weight=0.0)
    loss = loss_fn(torch.tensor(TEACHER), torch.tensor(LABELS), torch.tensor([0, 1]), torch.tensor([False, True]))
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


def test_distillation_loss_rejects_a_table_without_the_mirror_column():
    with pytest.raises(ValueError, match=r"\(N, 2, classes\)"):
        DistillationLoss(torch.zeros(4, 7), 3.0, 0.2)
