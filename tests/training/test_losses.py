"""Loss functions against explicit hand computations on tiny examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pipeline.training.losses import CrossEntropy, KnowledgeDistillation, build_loss

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
    loss = CrossEntropy().bind(class_weights=WEIGHTS)(torch.tensor(STUDENT), torch.tensor(LABELS))["loss"]
    assert loss.item() == pytest.approx(hand_weighted_ce(STUDENT, LABELS, WEIGHTS), rel=1e-6)


@pytest.mark.parametrize("temperature,alpha,ce_weight", [(3.0, 0.2, 1.0), (1.0, 0.5, 0.0), (4.0, 0.1, 0.7)])
def test_distillation_loss_matches_hand_computation(temperature, alpha, ce_weight):
    table = np.array([TEACHER, TEACHER_MIRRORED], np.float32).transpose(1, 0, 2)  # (N=2, 2, classes)
    loss_fn = KnowledgeDistillation(temperature, alpha, ce_weight).bind(class_weights=WEIGHTS, soft_targets=table)
    idx = torch.tensor([1, 0])  # batch row 0 is train sample 1, row 1 is sample 0
    flip = torch.tensor([True, False])
    student = torch.tensor(STUDENT)
    labels = torch.tensor(LABELS)
    terms = loss_fn(student, labels, idx, flip)
    teacher_rows = [TEACHER_MIRRORED[1], TEACHER[0]]  # looked up by (idx, flip)
    ce, kl = hand_weighted_ce(STUDENT, LABELS, WEIGHTS), hand_kl(STUDENT, teacher_rows, temperature)
    assert terms["ce"].item() == pytest.approx(ce, rel=1e-5) and terms["kl"].item() == pytest.approx(kl, rel=1e-5)
    assert terms["loss"].item() == pytest.approx(ce_weight * ce + alpha * temperature ** 2 * kl, rel=1e-5)


def test_kl_term_vanishes_when_student_equals_teacher():
    table = np.array([TEACHER, TEACHER], np.float32).transpose(1, 0, 2)
    loss_fn = KnowledgeDistillation(3.0, alpha=1.0, ce_weight=0.0).bind(soft_targets=table)
    loss = loss_fn(torch.tensor(TEACHER), torch.tensor(LABELS), torch.tensor([0, 1]), torch.tensor([False, True]))["loss"]
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


def test_distillation_loss_rejects_a_table_without_the_mirror_column():
    with pytest.raises(ValueError, match=r"\(N, 2, classes\)"):
        KnowledgeDistillation(3.0, 0.2).bind(soft_targets=np.zeros((4, 7), np.float32))


@pytest.mark.parametrize("spec, message", [
    ({"name": "kd", "T": 3, "alpha": -1}, r"distill.runs.E1.loss.alpha must be >= 0, got -1"),
    ({"name": "kd", "T": 0, "alpha": 0.2}, r"distill.runs.E1.loss.T must be > 0"),
    ({"name": "kd", "T": 3, "alhpa": 0.2}, r"unknown key 'alhpa' in distill.runs.E1.loss .*allowed: name, T, alpha, ce_weight"),
    ({"name": "kld"}, r"distill.runs.E1.loss.name 'kld' is not a known loss; known: ce, kd"),
    ({"name": "kd", "T": "3"}, r"distill.runs.E1.loss.T must be a number"),
])
def test_build_loss_names_the_bad_key(spec, message):
    with pytest.raises(ValueError, match=message):
        build_loss(spec, where="distill.runs.E1.loss")


def test_identity_changes_with_every_setting_that_changes_the_loss():
    table = np.zeros((3, 2, 7), np.float32)
    base = build_loss({"name": "kd", "T": 3, "alpha": 0.2}).bind(class_weights=[1.0] * 7, soft_targets=table).identity()
    assert base != build_loss({"name": "kd", "T": 3, "alpha": 0.3}).bind(class_weights=[1.0] * 7, soft_targets=table).identity()
    assert base != build_loss({"name": "kd", "T": 3, "alpha": 0.2}).bind(class_weights=[2.0] * 7, soft_targets=table).identity()
    assert base != build_loss({"name": "kd", "T": 3, "alpha": 0.2}).bind(class_weights=[1.0] * 7,
                                                                         soft_targets=table + 1).identity()
