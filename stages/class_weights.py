"""Stage class_weights: scikit-learn's balanced weights on the train split -> data/prepared/class_weights.json."""

from __future__ import annotations

import logging

from pipeline.atomic import write_json
from pipeline.class_weights import balanced_class_weights
from pipeline.prepared import load_prepared
from stages.common import run_stage

DATASET = "data/prepared/dataset.npz"
OUTPUT = "data/prepared/class_weights.json"
log = logging.getLogger("class_weights")


def main() -> None:
    _, train_labels = load_prepared(DATASET).subset("train")
    weights = balanced_class_weights(train_labels)
    write_json(OUTPUT, weights)
    log.info("wrote %s: %s", OUTPUT, {k: round(v, 3) for k, v in weights.items()})


if __name__ == "__main__":
    run_stage(main)
