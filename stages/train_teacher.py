"""DVC stage: train the ResEmoteNet teacher (class-weighted CE), one model per seed."""

from __future__ import annotations

from pathlib import Path

from pipeline.losses import WeightedCrossEntropy
from pipeline.prepared import load_prepared
from pipeline.runs import RunSpec, train_over_seeds
from stages.common import DATASET, class_weights_for, load_params, run_stage

OUT_DIR = Path("models/teacher")


def main() -> None:
    params = load_params()
    name = params["teacher"]["model"]
    weights = class_weights_for(params["train"])
    spec = RunSpec(kind="teacher", run="teacher", model_name=name, model_spec=params["models"][name], out_dir=OUT_DIR)
    train_over_seeds(spec, load_prepared(DATASET), params["train"], params["teacher"]["epochs"], params["seeds"],
                     make_loss=lambda splits: WeightedCrossEntropy(weights, device=splits.train.images.device),
                     loss_identity={"loss": "ce", "class_weights": weights})


if __name__ == "__main__":
    run_stage(main)
