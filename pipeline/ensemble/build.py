"""The ensemble stage's work: combine members, score ensemble and members alike, make the Lite's soft targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from pipeline.core.naming import RunKind
from pipeline.dataset.prepared import PreparedData
from pipeline.ensemble.combine import as_logits, fit_weights, mean_probabilities
from pipeline.ensemble.members import MemberOutputs
from pipeline.evaluation.metrics import classification_metrics, confusion_frame

RULES = ("mean", "val_weighted")


@dataclass
class EnsembleResult:
    weights: list[float]
    soft_targets: np.ndarray  # float32 (N_train, 2, K): log of the ensemble's mean probabilities
    metrics: dict[str, Any]  # the ensemble's test metrics, with members' scores beside
    confusion: pd.DataFrame
    member_metrics: dict[str, tuple[dict[str, Any], pd.DataFrame]]


def ensemble_weights(members: Sequence[MemberOutputs], rule: str, val_labels: np.ndarray) -> list[float]:
    if rule not in RULES:
        raise ValueError(f"params.yaml: emoxnet.ensemble.rule must be one of {', '.join(RULES)}, got {rule!r}")
    if rule == "mean":
        return [1.0 / len(members)] * len(members)
    return fit_weights([m.logits["val"] for m in members], torch.as_tensor(val_labels))


def combine(members: Sequence[MemberOutputs], split: str, weights: Sequence[float]) -> torch.Tensor:
    return as_logits(mean_probabilities([m.logits[split] for m in members], weights))


def build_ensemble(members: Sequence[MemberOutputs], data: PreparedData, rule: str) -> EnsembleResult:
    """Weights by ``rule``; test metrics of the ensemble and of each member; the train soft-target table."""
    if len(members) < 2:
        raise ValueError(f"an ensemble needs at least two members, got {[m.name for m in members]}")
    names = list(data.class_names)
    val_labels, test_labels = data.subset("val")[1], data.subset("test")[1]
    weights = ensemble_weights(members, rule, val_labels)
    scored = {}
    for m in members:
        metrics = classification_metrics(test_labels, m.logits["test"].numpy(), names)
        metrics["val_acc"] = float((m.logits["val"].argmax(1).numpy() == val_labels).mean())
        metrics.update({"model": m.model_name, "kind": RunKind.EMOXNET_MEMBER, "run": m.name, "family": m.family,
                        "params": m.params, "input_size": m.input_size, "checkpoint": m.checkpoint,
                        "class_names": names, "data_source": data.source})
        scored[m.name] = (metrics, confusion_frame(test_labels, metrics_predictions(m.logits["test"]), names))
    test_logits = combine(members, "test", weights)
    metrics = classification_metrics(test_labels, test_logits.numpy(), names)
    metrics["val_acc"] = float((combine(members, "val", weights).argmax(1).numpy() == val_labels).mean())
    best = max(scored, key=lambda k: scored[k][0]["test_acc"])
    metrics.update({
        "model": "EmoXNet", "kind": RunKind.EMOXNET_ENSEMBLE, "run": "ensemble", "rule": rule,
        "params": int(sum(m.params for m in members)), "class_names": names, "data_source": data.source,
        "members": {m.name: {"weight": w, "family": m.family, "input_size": m.input_size, "params": m.params,
                             "test_acc": scored[m.name][0]["test_acc"], "val_acc": scored[m.name][0]["val_acc"]}
                    for m, w in zip(members, weights)},
        "best_member": best,
        "gain_over_best_member": metrics["test_acc"] - scored[best][0]["test_acc"],
    })
    table = combine(members, "train", weights).numpy().astype(np.float32)
    return EnsembleResult(weights, table, metrics, confusion_frame(test_labels, metrics_predictions(test_logits), names),
                          scored)


def metrics_predictions(logits: torch.Tensor) -> np.ndarray:
    return logits.argmax(1).numpy()
