"""EmoXNet's combination rule on known logits, and the ensemble stage's work on tiny member outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pipeline.dataset.prepared import PreparedData
from pipeline.ensemble.build import build_ensemble
from pipeline.ensemble.combine import as_logits, fit_weights, mean_probabilities
from pipeline.ensemble.members import MemberOutputs


def test_mean_of_softmax_on_known_logits():
    a = torch.tensor([[0.0, 0.0]])  # softmax (0.5, 0.5)
    b = torch.tensor([[math.log(3.0), 0.0]])  # softmax (0.75, 0.25)
    probs = mean_probabilities([a, b])
    assert probs[0].tolist() == pytest.approx([0.625, 0.375])
    assert torch.softmax(as_logits(probs), 1)[0].tolist() == pytest.approx([0.625, 0.375], rel=1e-6)
    weighted = mean_probabilities([a, b], [0.25, 0.75])
    assert weighted[0].tolist() == pytest.approx([0.25 * 0.5 + 0.75 * 0.75, 0.25 * 0.5 + 0.75 * 0.25])


def test_bad_weights_and_shapes_are_refused():
    with pytest.raises(ValueError, match="sum"):
        mean_probabilities([torch.zeros(1, 2), torch.zeros(1, 2)], [0.5, 0.6])
    with pytest.raises(ValueError, match="shape"):
        mean_probabilities([torch.zeros(1, 2), torch.zeros(1, 3)])


def test_fitted_weights_favour_the_member_that_is_right_on_val():
    labels = torch.tensor([0, 1, 0, 1])
    good = torch.nn.functional.one_hot(labels, 2).float() * 4
    bad = torch.nn.functional.one_hot(1 - labels, 2).float() * 4
    w = fit_weights([good, bad], labels)
    assert w[0] > 0.9 and sum(w) == pytest.approx(1.0)


def _member(name, logits_by_split):
    return MemberOutputs(name, f"{name}.pt", name, "fake", 10, 8, {k: torch.tensor(v) for k, v in logits_by_split.items()})


def test_build_ensemble_scores_members_and_writes_mirror_table():
    # 2 train, 2 val, 3 test images, 3 classes; member a is right on test 0 and 1, member b (surer) on 1 and 2
    labels = np.array([0, 1, 0, 1, 0, 1, 2])
    split = np.array([0, 0, 1, 1, 2, 2, 2], np.int8)
    data = PreparedData(np.zeros((7, 4, 4), np.uint8), labels, split, "toy", ("x", "y", "z"))
    train = np.zeros((2, 2, 3), np.float32)
    val = [[3.0, 0, 0], [0, 3.0, 0]]
    a = _member("a", {"train": train, "val": val, "test": [[3.0, 0, 0], [0, 3.0, 0], [0, 3.0, 0]]})
    b = _member("b", {"train": train + 1, "val": val, "test": [[0, 0, 4.0], [0, 3.0, 0], [0, 0, 4.0]]})
    result = build_ensemble([a, b], data, "mean")
    assert result.weights == [0.5, 0.5]
    assert result.soft_targets.shape == (2, 2, 3) and result.soft_targets.dtype == np.float32
    m = result.metrics
    assert m["members"]["a"]["test_acc"] == pytest.approx(2 / 3) and m["members"]["b"]["test_acc"] == pytest.approx(2 / 3)
    assert m["confusion_matrix"] == [[0, 0, 1], [0, 1, 0], [0, 0, 1]]  # b is surer: its votes win
    assert m["gain_over_best_member"] == pytest.approx(0.0) and m["best_member"] == "a"
    assert set(result.member_metrics) == {"a", "b"}
    with pytest.raises(ValueError, match="rule"):
        build_ensemble([a, b], data, "max")
