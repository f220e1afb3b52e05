"""DVC stage: distil one student from the teacher's precomputed soft targets (one paper run).

    python -m stages.distill E1

Loss = ce_weight * CE(class-weighted) + alpha * T^2 * KL; the teacher itself is never loaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from pipeline.checkpoint import array_digest
from pipeline.constants import NUM_CLASSES
from pipeline.losses import DistillationLoss
from pipeline.prepared import load_prepared
from pipeline.runs import RunSpec, train_over_seeds
from pipeline.soft_targets import load_soft_targets
from stages.common import DATASET, SOFT_TARGETS, class_weights_for, load_params, run_stage


def main() -> None:
    if len(sys.argv) != 2:
        raise ValueError("usage: python -m stages.distill <run id from params.yaml distill.runs>")
    run_id = sys.argv[1]
    params = load_params()
    runs = params["distill"]["runs"]
    if run_id not in runs:
        raise ValueError(f"params.yaml: unknown distill run {run_id!r}; known: {sorted(runs)}")
    run = runs[run_id]
    student = run["student"]
    temperature, alpha = float(run["T"]), float(run["alpha"])
    ce_weight = float(params["distill"].get("ce_weight", 1.0))
    weights = class_weights_for(params["train"])
    data = load_prepared(DATASET)
    table = load_soft_targets(SOFT_TARGETS, len(data.subset("train")[1]), NUM_CLASSES)

    def make_loss(splits):
        teacher_logits = torch.from_numpy(table).to(splits.train.images.device)
        return DistillationLoss(teacher_logits, temperature, alpha, ce_weight, class_weights=weights)

    spec = RunSpec(kind="distill", run=run_id, model_name=student, model_spec=params["models"][student],
                   out_dir=Path("models/distill") / run_id, T=temperature, alpha=alpha)
    train_over_seeds(spec, data, params["train"], params["student"]["epochs"], params["seeds"], make_loss=make_loss,
                     loss_identity={"loss": "distill", "T": temperature, "alpha": alpha, "ce_weight": ce_weight,
                                    "class_weights": weights, "soft_targets": array_digest(table)})


if __name__ == "__main__":
    run_stage(main)
