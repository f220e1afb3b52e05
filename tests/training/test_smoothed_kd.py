"""The label-smoothed distillation loss (EmoXNetLite's) against a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pipeline.training.losses import build_loss
from pipeline.training.soft_targets import distribution_table


def _softmax(values, t=1.0):
    e = [math.exp(v / t) for v in values]
    return [x / sum(e) for x in e]


def test_smoothed_targets_and_loss_match_hand_computation():
    teacher = [[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]]  # one train image: [image, mirror]
    table = np.array([teacher], np.float32)  # (1, 2, 3)
    loss = build_loss({"name": "smoothed_kd", "epsilon": 0.1, "T": 2.0, "alpha": 0.25}, "test").bind(soft_targets=table)
    student = [1.0, -0.5, 0.0]
    label = 0
    terms = loss(torch.tensor([student]), torch.tensor([label]), torch.tensor([0]), torch.tensor([True]))
    # by hand: the mirror's row (flip) at T = 2, smoothed with epsilon / K
    target = [0.9 * p + 0.1 / 3 for p in _softmax(teacher[1], 2.0)]
    log_student = [math.log(p) for p in _softmax(student)]
    soft = -sum(t * s for t, s in zip(target, log_student))
    ce = -log_student[label]
    assert terms["soft"].item() == pytest.approx(soft, rel=1e-5)
    assert terms["ce"].item() == pytest.approx(ce, rel=1e-5)
    assert terms["loss"].item() == pytest.approx(0.75 * soft + 0.25 * ce, rel=1e-5)


def test_default_is_keras_label_smoothing_of_teacher_probabilities():
    loss = build_loss({"name": "smoothed_kd"}, "test")
    assert loss.options() == {"epsilon": 0.1, "T": 1.0, "alpha": 0.0}
    target = loss.targets(torch.tensor([[0.0, 0.0, 0.0, math.log(5.0)]]))  # probs 1/8,1/8,1/8,5/8
    expected = [0.9 / 8 + 0.025] * 3 + [0.9 * 5 / 8 + 0.025]
    assert target[0].tolist() == pytest.approx(expected, rel=1e-6)


def test_distribution_table_with_no_smoothing_is_cross_entropy_on_the_distribution():
    dist = np.array([[0.6, 0.4, 0.0]], np.float32)
    loss = build_loss({"name": "smoothed_kd", "epsilon": 0.0, "T": 1.0}, "test").bind(
        soft_targets=distribution_table(dist))
    student = torch.tensor([[0.3, 0.1, -0.2]])
    got = loss(student, torch.tensor([0]), torch.tensor([0]), torch.tensor([False]))["loss"].item()
    log_p = torch.log_softmax(student, 1)[0]
    assert got == pytest.approx(-(0.6 * log_p[0] + 0.4 * log_p[1]).item(), rel=1e-5)


@pytest.mark.parametrize("spec, key", [({"epsilon": 1.0}, "epsilon"), ({"T": 0}, "T"), ({"alpha": 1.5}, "alpha"),
                                       ({"beta": 1}, "beta")])
def test_bad_options_name_the_key(spec, key):
    with pytest.raises(ValueError, match=key):
        build_loss({"name": "smoothed_kd", **spec}, "emoxnet.lite.loss")
