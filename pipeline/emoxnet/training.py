"""EmoXNet's members and Lite students, trained by the one trainer (pipeline.training.runs).

What differs from the Mini-ResEmoteNet runs is only configuration: each model names its spec in
``emoxnet.models`` and carries its own input size and epochs; a loss that needs soft targets gets
the ensemble's table (Lite) or, for a member, the data's own label distributions (FER+ votes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.dataset.prepared import PreparedData
from pipeline.core.naming import LITE_KINDS, RunKind
from pipeline.core.params import emoxnet_section
from pipeline.models import check_input_size
from pipeline.training.losses import build_loss
from pipeline.training.runs import RunSpec, class_weights_for, train_over_seeds
from pipeline.training.soft_targets import distribution_table



def _train(params: dict[str, Any], kind: str, name: str, model_name: str, input_size: int, epochs: int,
           loss_spec: dict, loss_where: str, data: PreparedData, class_weights: str | Path, out: Path,
           soft_targets: np.ndarray | None, seeds: list[int] | None = None) -> dict[str, Any]:
    section = emoxnet_section(params)
    spec = section["models"][model_name]
    check_input_size(spec, data.num_classes, input_size, where=f"emoxnet.models.{model_name}")
    loss = build_loss(loss_spec, where=loss_where)
    if loss.needs_soft_targets and soft_targets is None:
        raise ValueError(f"params.yaml: {loss_where} ({loss.name}) needs soft targets, and none are available here")
    # every train key but input_size, which is the member's own (so dvc.yaml lists train.input_size for none of them)
    train_params = {**{k: params["train"][k] for k in params["train"] if k != "input_size"}, "input_size": int(input_size)}
    run = RunSpec(kind=kind, name=name, model_name=model_name, model_spec=spec, out_dir=Path(out))
    return train_over_seeds(run, data, train_params, epochs, seeds or params["seeds"], loss,
                            class_weights_for(params, class_weights, data.class_names),
                            soft_targets=soft_targets if loss.needs_soft_targets else None)


def train_member(params: dict[str, Any], member: str, data: PreparedData, class_weights: str | Path,
                 out: str | Path) -> dict[str, Any]:
    """One ensemble member (its own ``seed`` when it sets one: several seeds of one model are several members);
    a soft-target loss (``emoxnet.member_loss``) trains on the data's label distributions."""
    section = emoxnet_section(params)
    if member not in section["members"]:
        raise ValueError(f"params.yaml: unknown EmoXNet member {member!r}; known: {', '.join(section['members'])}")
    entry = section["members"][member]
    table = None
    if build_loss(section["member_loss"], "emoxnet.member_loss").needs_soft_targets:
        soft = data.soft_subset("train")
        if soft is None:
            raise ValueError(f"params.yaml: emoxnet.member_loss needs label distributions, but {data.source} data has "
                             "none (FER+ with data.ferplus_target: crossentropy has them)")
        table = distribution_table(soft)
    return _train(params, RunKind.EMOXNET_MEMBER, member, entry["model"], entry["input_size"], entry["epochs"],
                  section["member_loss"], "emoxnet.member_loss", data, class_weights, out, table,
                  seeds=[entry["seed"]] if "seed" in entry else None)


def train_lite(params: dict[str, Any], kind: str, data: PreparedData, class_weights: str | Path, out: str | Path,
               soft_targets: np.ndarray | None = None) -> dict[str, Any]:
    """EmoXNetLite distilled from the ensemble's table (``lite``) or the same net on plain CE (``lite_baseline``)."""
    if kind not in LITE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(LITE_KINDS)}, got {kind!r}")
    kind = RunKind(kind)
    section = emoxnet_section(params)
    lite = section["lite"]
    loss_spec, where = ((lite["loss"], "emoxnet.lite.loss") if kind is RunKind.LITE
                        else (section["lite_baseline_loss"], "emoxnet.lite_baseline_loss"))
    return _train(params, kind, kind, lite["model"], lite["input_size"], lite["epochs"], loss_spec, where, data,
                  class_weights, out, soft_targets)
