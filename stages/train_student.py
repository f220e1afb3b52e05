"""DVC stage: baseline student trained with plain class-weighted CE, no teacher.

    python -m stages.train_student student_a
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.losses import WeightedCrossEntropy
from pipeline.prepared import load_prepared
from pipeline.runs import RunSpec, train_over_seeds
from stages.common import DATASET, class_weights_for, load_params, run_stage


def main() -> None:
    if len(sys.argv) != 2:
        raise ValueError("usage: python -m stages.train_student <student name from params.yaml models>")
    name = sys.argv[1]
    params = load_params()
    if name not in params["models"]:
        raise ValueError(f"params.yaml: unknown model {name!r}; known: {sorted(params['models'])}")
    weights = class_weights_for(params["train"])
    spec = RunSpec(kind="baseline", run=name, model_name=name, model_spec=params["models"][name],
                   out_dir=Path("models/baseline") / name)
    train_over_seeds(spec, load_prepared(DATASET), params["train"], params["student"]["epochs"], params["seeds"],
                     make_loss=lambda splits: WeightedCrossEntropy(weights, device=splits.train.images.device),
                     loss_identity={"loss": "ce", "class_weights": weights})


if __name__ == "__main__":
    run_stage(main)
