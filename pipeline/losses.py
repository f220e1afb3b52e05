"""Training losses, all with the trainer's signature ``loss_fn(logits, labels, idx, flip)``.

``idx`` (indices into the train split) and ``flip`` (bool mask of mirrored images) let a loss
look up per-sample data such as precomputed teacher logits, so distillation plugs into the one
trainer without the trainer knowing about teachers.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import torch
import torch.nn.functional as F


class LossFn(Protocol):
    def __call__(self, logits: torch.Tensor, labels: torch.Tensor, idx: torch.Tensor, flip: torch.Tensor) -> torch.Tensor: ...


def _weights_tensor(class_weights: Sequence[float] | torch.Tensor | None, device: torch.device | str) -> torch.Tensor | None:
    if class_weights is None:
        return None
    return torch.as_tensor(class_weights, dtype=torch.float32, device=device)


class WeightedCrossEntropy:
    """Plain (optionally class-weighted) cross-entropy: the teacher's and the baselines' loss."""

    def __init__(self, class_weights: Sequence[float] | torch.Tensor | None = None, device: torch.device | str = "cpu"):
        self.class_weights = _weights_tensor(class_weights, device)

    def __call__(self, logits, labels, idx=None, flip=None) -> torch.Tensor:
        return F.cross_entropy(logits.float(), labels, weight=self.class_weights)


def distillation_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(softmax(teacher/T) || softmax(student/T)), summed over classes and averaged over the batch."""
    return F.kl_div(
        F.log_softmax(student_logits.float() / temperature, dim=1),
        F.log_softmax(teacher_logits.float() / temperature, dim=1),
        log_target=True,
        reduction="batchmean",
    )


class DistillationLoss:
    """ce_weight * CE(student, label; class weights) + alpha * T^2 * KL(teacher_T || student_T).

    ``teacher_logits`` is the (N_train, 2, classes) soft-target table (column 1 = mirrored image),
    resident on the device; each batch's rows are gathered by (idx, flip) - the teacher is never run.
    """

    def __init__(self, teacher_logits: torch.Tensor, temperature: float, alpha: float, ce_weight: float = 1.0,
                 class_weights: Sequence[float] | torch.Tensor | None = None):
        if teacher_logits.ndim != 3 or teacher_logits.shape[1] != 2:
            raise ValueError(f"teacher logits must be (N, 2, classes), got {tuple(teacher_logits.shape)}")
        if temperature <= 0:
            raise ValueError(f"distillation temperature must be > 0, got {temperature}")
        self.teacher_logits = teacher_logits.float()
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.ce = WeightedCrossEntropy(class_weights, device=teacher_logits.device)
        self.ce_weight = float(ce_weight)

    def __call__(self, logits, labels, idx, flip) -> torch.Tensor:
        column = flip.long() if flip is not None else torch.zeros_like(idx)
        teacher = self.teacher_logits[idx, column]
        kl = distillation_kl(logits, teacher, self.temperature)
        return self.ce_weight * self.ce(logits, labels) + self.alpha * self.temperature ** 2 * kl
