"""Stage class_weights: scikit-learn's balanced weights on the train split -> data/prepared/class_weights.json."""

from __future__ import annotations

import logging

from pipeline.atomic import write_json
from pipeline.class_weights import balanced_class_weights
from pipeline.prepared import load_prepared
from stages.common import CLASS_WEIGHTS, DATASET, run_stage

log = logging.getLogger("class_weights")


def main() -> None:
    _, train_labels = load_prepared(DATASET).subset("train")
    weights = balanced_class_weights(train_labels)
    write_json(CLASS_WEIGHTS, weights)
    log.info("wrote %s: %s", CLASS_WEIGHTS, {k: round(v, 3) for k, v in weights.items()})


if __name__ == "__main__":
    run_stage(main)
