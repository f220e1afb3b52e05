"""DVC stage class_weights: scikit-learn's balanced weights on the train split.

    python -m stages.class_weights --data data/prepared/dataset.npz --out data/prepared/class_weights.json
"""

from __future__ import annotations

import logging

from pipeline.core.atomic import write_json
from pipeline.core.stage import run_stage, stage_parser
from pipeline.dataset.class_weights import balanced_class_weights
from pipeline.dataset.prepared import load_prepared
from pipeline.params.load import load_params

log = logging.getLogger("class_weights")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--data", required=True, help="prepared dataset (.npz)")
    parser.add_argument("--out", required=True, help="class weights (.json)")
    args = parser.parse_args(argv)
    load_params()  # the strict check runs in every stage, so a typo anywhere stops the pipeline early
    data = load_prepared(args.data)
    weights = balanced_class_weights(data.subset("train")[1], data.class_names)
    write_json(args.out, weights)
    log.info("wrote %s: %s", args.out, {k: round(v, 3) for k, v in weights.items()})


if __name__ == "__main__":
    run_stage(main)
