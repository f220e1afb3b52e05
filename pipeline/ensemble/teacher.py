"""The teacher as an ensemble of trained models (params ``teacher.ensemble``): assembled and scored, not trained.

A converged 80M-parameter ResEmoteNet costs ~14 h of one CPU thread; a few converged small models
cost a few hours and, combined, are stronger than each of their students. The members are
``emoxnet.members`` checkpoints, weighted as the EmoXNet ensemble is (``mean`` or ``val_weighted``),
and saved as one ``ensemble``-family model, so the soft-target, distillation, evaluation and report
stages read it exactly as they read the ResEmoteNet teacher.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

import torch
from torch import nn

from pipeline.dataset.prepared import PreparedData
from pipeline.ensemble.build import ensemble_weights
from pipeline.ensemble.members import member_outputs
from pipeline.inputs.contract import InputContract
from pipeline.inputs.device_data import DeviceSplit
from pipeline.models import build_model, count_parameters, load_model
from pipeline.training.trainer import split_loss_accuracy

log = logging.getLogger(__name__)

SHARED_CONTRACT_KEYS = ("class_names", "image_mode", "channels", "mean", "std")  # what every member must share


def assemble_ensemble(checkpoints: Mapping[str, str | os.PathLike], rule: str, data: PreparedData,
                      device: torch.device, batch_size: int = 256) -> tuple[nn.Module, list[dict[str, Any]]]:
    """One ``ensemble`` model from the members' checkpoints, and a row per member (weight, val/test accuracy)."""
    outputs = [member_outputs(name, path, data, device, batch_size, splits=("val", "test"))
               for name, path in checkpoints.items()]
    weights = ensemble_weights(outputs, rule, data.subset("val")[1])
    members, states, first = [], [], None
    for name, path in checkpoints.items():
        model, meta = load_model(path)
        contract = InputContract.from_meta(meta, where=str(path)).to_meta()
        shared = {k: contract[k] for k in SHARED_CONTRACT_KEYS}
        if first is not None and shared != first[1]:
            diff = [k for k in SHARED_CONTRACT_KEYS if shared[k] != first[1][k]]
            raise ValueError(f"teacher.ensemble: member {name} ({path}) is fed differently from {first[0]} "
                             f"({', '.join(diff)}); members must share class names, image mode and normalisation")
        first = first or (name, shared)
        spec = {k: v for k, v in model.model_spec.items() if k != "num_classes"}
        members.append({"spec": spec, "input_size": int(contract["input_size"])})
        states.append(model.state_dict())
    ensemble = build_model({"family": "ensemble", "members": members, "weights": weights}, data.num_classes,
                           where="teacher.ensemble")
    for member, state in zip(ensemble.members, states):
        member.load_state_dict(state, strict=True)
    rows = [{"member": o.name, "family": o.family, "params": o.params, "input_size": o.input_size, "weight": w,
             "val_acc": float((o.logits["val"].argmax(1).numpy() == data.subset("val")[1]).mean()),
             "test_acc": float((o.logits["test"].argmax(1).numpy() == data.subset("test")[1]).mean())}
            for o, w in zip(outputs, weights)]
    return ensemble.to(device).eval(), rows


def ensemble_teacher_metrics(model: nn.Module, rows: list[dict[str, Any]], rule: str, data: PreparedData,
                             input_size: int, device: torch.device, batch_size: int = 256) -> dict[str, Any]:
    """The teacher's metrics.json, in the trained teacher's layout (one "seed": the ensemble as assembled)."""
    scores = {}
    for split in ("val", "test"):
        images, labels = data.subset(split)
        loss, acc = split_loss_accuracy(model, DeviceSplit.from_arrays(images, labels, input_size, device), batch_size)
        scores.update({f"{split}_loss": loss, f"{split}_acc": acc})
    best = max(rows, key=lambda r: r["test_acc"])
    log.info("ensemble teacher (%s of %s): test acc %.4f, best member %s %.4f", rule,
             ", ".join(r["member"] for r in rows), scores["test_acc"], best["member"], best["test_acc"])
    return {"kind": "teacher", "run": "teacher", "model": "ensemble", "dataset": data.source,
            "params": count_parameters(model), "T": None, "alpha": None, "loss": {"name": "ensemble", "rule": rule},
            "seeds": [], **scores, **{f"{k}_std": 0.0 for k in scores}, "epochs_run": 0,
            "per_seed": [{"seed": None, "best_epoch": None, "epochs_run": 0, **scores}],
            "ensemble": {"rule": rule, "members": rows, "gain_over_best_member": scores["test_acc"] - best["test_acc"]}}
