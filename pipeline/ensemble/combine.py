"""How members' outputs become one prediction: a (weighted) mean of their softmax probabilities.

The unweighted mean is the rule every published FER ensemble we found uses; ``fit_weights`` is
the option of weights on the probability simplex fitted to the validation split (lowest NLL).
The ensemble's "logits" are the log of its mean probabilities, so softmax(logits) gives them back
and the same soft-target table (and ``softmax(table / T)``) serves an ensemble like one teacher.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from pipeline.models.ensemble_teacher import PROB_FLOOR  # log(0) guard: the table must stay finite


def mean_probabilities(logits: Sequence[torch.Tensor], weights: Sequence[float] | None = None) -> torch.Tensor:
    """sum_m w_m softmax(logits_m) over members (same shape each, classes last); w = 1/M by default."""
    if not logits:
        raise ValueError("an ensemble needs at least one member")
    shapes = {tuple(t.shape) for t in logits}
    if len(shapes) != 1:
        raise ValueError(f"members' outputs differ in shape: {sorted(shapes)}")
    w = torch.full((len(logits),), 1.0 / len(logits), dtype=torch.float64) if weights is None else \
        torch.as_tensor(list(weights), dtype=torch.float64)
    if len(w) != len(logits) or (w < 0).any() or abs(float(w.sum()) - 1.0) > 1e-6:
        raise ValueError(f"weights must be {len(logits)} non-negative numbers summing to 1, got {list(map(float, w))}")
    probs = torch.stack([F.softmax(t.double(), dim=-1) for t in logits])
    return (w.view(-1, *[1] * (probs.ndim - 1)) * probs).sum(0)


def as_logits(probs: torch.Tensor) -> torch.Tensor:
    """float32 log-probabilities (finite): the ensemble's logits."""
    return probs.clamp_min(PROB_FLOOR).log().float()


def fit_weights(val_logits: Sequence[torch.Tensor], val_labels: torch.Tensor, steps: int = 300) -> list[float]:
    """Simplex weights (softmax of free parameters) minimising the val NLL of the weighted mean."""
    probs = torch.stack([F.softmax(t.double(), dim=-1) for t in val_logits])  # (M, N, K)
    theta = torch.zeros(len(val_logits), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([theta], lr=0.05)
    for _ in range(steps):
        w = F.softmax(theta, dim=0)
        mixed = (w[:, None, None] * probs).sum(0).clamp_min(PROB_FLOOR)
        loss = F.nll_loss(mixed.log(), val_labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    w = F.softmax(theta.detach(), dim=0)
    return [float(v) for v in w / w.sum()]
