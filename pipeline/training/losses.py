"""Training losses: small ``nn.Module``s chosen by name from params (``loss: {name: kd, T: 3, alpha: 0.2}``).

Every loss has the trainer's signature ``loss(logits, labels, idx, flip) -> {"loss": total, term: value...}``:
``idx`` (indices into the train split) and ``flip`` (mask of mirrored images) let a loss look up
per-sample data such as precomputed teacher logits, so distillation plugs into the one trainer
without the trainer knowing about teachers; each returned term is logged beside the total.

A loss is built in two steps: ``build_loss(spec, where)`` checks its options (name, keys,
ranges) before any work starts; ``.bind(class_weights=..., soft_targets=...)`` attaches the data
it needs. ``identity()`` names everything that changes its value (options, class weights, a digest
of the soft targets): the resume fingerprint uses it, so a changed loss never resumes a stale run.
A new loss is one class here with ``@register_loss("name")``.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, ClassVar, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.core.specs import ParamsError
from pipeline.training.checkpoint import array_digest

_LOSSES: dict[str, type["Loss"]] = {}


def register_loss(name: str) -> Callable[[type["Loss"]], type["Loss"]]:
    def wrap(cls: type["Loss"]) -> type["Loss"]:
        cls.name = name
        _LOSSES[name] = cls
        return cls

    return wrap


class Loss(nn.Module):
    """Base: options in ``__init__`` (checked there), data in ``bind``."""

    name: ClassVar[str] = ""
    needs_soft_targets: ClassVar[bool] = False
    needs_teacher: ClassVar[bool] = False  # runs the teacher model on each batch's model input (``inputs=``)

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("class_weights", None, persistent=False)
        self._bound: dict[str, Any] = {}

    def options(self) -> dict[str, Any]:
        return {}

    def bind(self, *, class_weights: Sequence[float] | None = None, soft_targets: np.ndarray | None = None,
             device: torch.device | str = "cpu", teacher: nn.Module | None = None) -> "Loss":
        """Attach the train split's class weights (None = unweighted) and, if needed, the soft-target table
        or the teacher model itself."""
        self.class_weights = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32,
                                                                                  device=device)
        self._bound = {"class_weights": None if class_weights is None else [float(w) for w in class_weights]}
        if self.needs_soft_targets:
            if soft_targets is None:
                raise ValueError(f"loss {self.name!r} needs the teacher's soft targets")
            if soft_targets.ndim != 3 or soft_targets.shape[1] != 2:
                raise ValueError(f"teacher logits must be (N, 2, classes), got {tuple(soft_targets.shape)}")
            self._bound["soft_targets"] = array_digest(soft_targets)
            self.teacher_logits = torch.as_tensor(soft_targets, dtype=torch.float32, device=device)
        if self.needs_teacher:
            if teacher is None:
                raise ValueError(f"loss {self.name!r} runs the teacher on every batch and needs its model")
            self._bound["teacher"] = array_digest(*teacher.state_dict().values())
            self.teacher = teacher.to(device).eval().requires_grad_(False)
        return self

    def identity(self) -> dict[str, Any]:
        """Everything that changes this loss's value: name, options and bound data digests."""
        return {"name": self.name, **self.options(), **self._bound}

    label_smoothing: float = 0.0

    def cross_entropy(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.float(), labels, weight=self.class_weights, label_smoothing=self.label_smoothing)


@register_loss("ce")
class CrossEntropy(Loss):
    """Plain (optionally class-weighted) cross-entropy: the teacher's and the baselines' loss.

    ``label_smoothing`` (default 0, the paper's) mixes that share of a uniform target into the label.
    """

    def __init__(self, label_smoothing: float = 0.0):
        super().__init__()
        _require(0 <= label_smoothing < 1, "label_smoothing", label_smoothing, "in [0, 1)")
        self.label_smoothing = float(label_smoothing)

    def options(self) -> dict[str, Any]:
        return {"label_smoothing": self.label_smoothing} if self.label_smoothing else {}

    def forward(self, logits, labels, idx=None, flip=None) -> dict[str, torch.Tensor]:
        return {"loss": self.cross_entropy(logits, labels)}


def distillation_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(softmax(teacher/T) || softmax(student/T)), summed over classes and averaged over the batch."""
    return F.kl_div(
        F.log_softmax(student_logits.float() / temperature, dim=1),
        F.log_softmax(teacher_logits.float() / temperature, dim=1),
        log_target=True,
        reduction="batchmean",
    )


@register_loss("kd")
class KnowledgeDistillation(Loss):
    """ce_weight * CE(student, label; class weights) + alpha * T^2 * KL(teacher_T || student_T).

    The teacher logits are the (N_train, 2, classes) soft-target table (column 1 = mirrored image),
    resident on the device; each batch's rows are gathered by (idx, flip) - the teacher is never run.
    """

    needs_soft_targets = True

    def __init__(self, T: float = 3.0, alpha: float = 0.2, ce_weight: float = 1.0):
        super().__init__()
        _require(T > 0, "T", T, "> 0")
        _require(alpha >= 0, "alpha", alpha, ">= 0")
        _require(ce_weight >= 0, "ce_weight", ce_weight, ">= 0")
        self.temperature, self.alpha, self.ce_weight = float(T), float(alpha), float(ce_weight)

    def options(self) -> dict[str, Any]:
        return {"T": self.temperature, "alpha": self.alpha, "ce_weight": self.ce_weight}

    def forward(self, logits, labels, idx, flip) -> dict[str, torch.Tensor]:
        column = flip.long() if flip is not None else torch.zeros_like(idx)
        teacher = self.teacher_logits[idx, column]
        kl = distillation_kl(logits, teacher, self.temperature)
        ce = self.cross_entropy(logits, labels)
        return {"loss": self.ce_weight * ce + self.alpha * self.temperature ** 2 * kl, "ce": ce, "kl": kl}


@register_loss("kd_online")
class OnlineKnowledgeDistillation(KnowledgeDistillation):
    """The kd loss with the teacher run on the very view the student sees (flip and random affine included).

    ``kd`` reads a table computed once on each unaugmented image and its mirror: exact under the paper's
    flip-only augmentation, but with shift/rotation/zoom the student is taught the teacher's answer for a
    view it did not see. This loss runs the teacher (eval mode, no gradient) on each batch's model input
    instead, at the cost of one teacher forward pass per step (README, "Strong teacher").
    """

    needs_soft_targets = False
    needs_teacher = True

    def forward(self, logits, labels, idx, flip, inputs=None) -> dict[str, torch.Tensor]:
        if inputs is None:
            raise ValueError("kd_online needs the batch's model input (the trainer passes it as inputs=)")
        with torch.no_grad():
            teacher = self.teacher(inputs).float()
        kl = distillation_kl(logits, teacher, self.temperature)
        ce = self.cross_entropy(logits, labels)
        return {"loss": self.ce_weight * ce + self.alpha * self.temperature ** 2 * kl, "ce": ce, "kl": kl}


@register_loss("smoothed_kd")
class LabelSmoothedDistillation(Loss):
    """EmoXNetLite's loss: cross-entropy against label-smoothed teacher probabilities, plus optional hard CE.

    target = (1 - epsilon) * softmax(teacher / T) + epsilon / K, as Keras' label smoothing applied to
    the teacher's (an ensemble's) probabilities; the student is trained on it like any Keras model on
    soft labels, at its own T = 1. total = (1 - alpha) * soft CE + alpha * CE(student, hard label;
    class weights). With epsilon = 0, T = 1, alpha = 0 and a table of log-probabilities this is plain
    cross-entropy on a label distribution (FER+'s "crossentropy" mode on vote distributions).
    """

    needs_soft_targets = True

    def __init__(self, epsilon: float = 0.1, T: float = 1.0, alpha: float = 0.0):
        super().__init__()
        _require(0 <= epsilon < 1, "epsilon", epsilon, "in [0, 1)")
        _require(T > 0, "T", T, "> 0")
        _require(0 <= alpha <= 1, "alpha", alpha, "in [0, 1]")
        self.epsilon, self.temperature, self.alpha = float(epsilon), float(T), float(alpha)

    def options(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, "T": self.temperature, "alpha": self.alpha}

    def targets(self, teacher_logits: torch.Tensor) -> torch.Tensor:
        """The smoothed soft labels of a batch of teacher logits."""
        probs = F.softmax(teacher_logits.float() / self.temperature, dim=1)
        return (1.0 - self.epsilon) * probs + self.epsilon / probs.shape[1]

    def forward(self, logits, labels, idx, flip) -> dict[str, torch.Tensor]:
        column = flip.long() if flip is not None else torch.zeros_like(idx)
        target = self.targets(self.teacher_logits[idx, column])
        soft = -(target * F.log_softmax(logits.float(), dim=1)).sum(dim=1).mean()
        ce = self.cross_entropy(logits, labels)
        return {"loss": (1.0 - self.alpha) * soft + self.alpha * ce, "soft": soft, "ce": ce}


def _require(ok: bool, key: str, value: Any, rule: str) -> None:
    if not ok:
        raise ValueError(f"{key} must be {rule}, got {value!r}")


def losses() -> dict[str, type[Loss]]:
    return dict(_LOSSES)


def build_loss(spec: dict[str, Any], where: str = "loss") -> Loss:
    """The loss a params.yaml spec names, options checked; errors name ``where`` (e.g. distill.runs.E1.loss)."""
    spec = dict(spec)
    name = spec.pop("name", None)
    if name not in _LOSSES:
        raise ParamsError(f"params.yaml: {where}.name {name!r} is not a known loss; known: {', '.join(sorted(_LOSSES))}")
    cls = _LOSSES[name]
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = [k for k in spec if k not in allowed]
    if unknown:
        raise ParamsError(f"params.yaml: unknown key {unknown[0]!r} in {where} (loss {name}); allowed: "
                          f"{', '.join(['name', *allowed])}")
    for key, value in spec.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"params.yaml: {where}.{key} must be a number, got {value!r}")
    try:
        return cls(**spec)
    except ValueError as exc:
        raise ParamsError(f"params.yaml: {where}.{exc}") from None
