"""A trained ensemble as one model (family ``ensemble``): the teacher that 2 CPU cores can afford.

Its members are any registered families, each fed at its own input size (the ensemble's input is
resized to each member's), combined as EmoXNet combines them: the weighted mean of the members'
softmax. The output is the log of that mean, so softmax(output) gives the mean back and every
consumer of a teacher's logits (soft targets, evaluation, export) reads an ensemble unchanged.
The spec holds every member's spec, so a checkpoint rebuilds the whole ensemble on its own.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.models.registry import build_model, register_family

PROB_FLOOR = 1e-12  # log(0) guard: an ensemble's log-probabilities stay finite (pipeline.ensemble.combine uses it too)


class EnsembleModel(nn.Module):
    """log(sum_m w_m softmax(member_m(resize(x, size_m))))."""

    def __init__(self, members: Sequence[dict[str, Any]], weights: Sequence[float], num_classes: int):
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least two members, got {len(members)}")
        if len(weights) != len(members) or any(w < 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-6:
            raise ValueError(f"weights must be {len(members)} non-negative numbers summing to 1, got {list(weights)}")
        for i, m in enumerate(members):
            if set(m) != {"spec", "input_size"}:
                raise ValueError(f"members[{i}] must have exactly the keys spec and input_size, got {sorted(m)}")
        self.members = nn.ModuleList(build_model(dict(m["spec"]), num_classes, where=f"ensemble members[{i}]")
                                     for i, m in enumerate(members))
        self.input_sizes = [int(m["input_size"]) for m in members]
        self.register_buffer("weights", torch.tensor([float(w) for w in weights]), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = None
        for w, size, member in zip(self.weights, self.input_sizes, self.members):
            xi = x if x.shape[-1] == size else F.interpolate(x, size=(size, size), mode="bilinear", antialias=True,
                                                             align_corners=False)
            p = w * F.softmax(member(xi).float(), dim=1)
            mixed = p if mixed is None else mixed + p
        return mixed.clamp_min(PROB_FLOOR).log()


@register_family("ensemble")
def ensemble(members: Sequence[dict[str, Any]] = (), weights: Sequence[float] = (), num_classes: int = 7) -> nn.Module:
    """Members ``[{spec: {family, ...}, input_size}, ...]`` combined with ``weights`` (summing to 1)."""
    return EnsembleModel(list(members), list(weights), num_classes)
