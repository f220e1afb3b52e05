"""DVC stage evaluate: test-set metrics, confusion.csv and confusion.png of one saved model (and run.json: where).

    python -m stages.evaluate --model models/distill/E1/model.pt --data data/prepared/dataset.npz --out reports/eval/E1
"""

from __future__ import annotations

import logging

from pipeline.core.devices import resolve_device
from pipeline.core.runfacts import run_facts
from pipeline.core.stage import run_stage, stage_parser
from pipeline.dataset.prepared import load_prepared
from pipeline.evaluation.test_set import score_test_split, write_evaluation
from pipeline.models import load_model
from pipeline.params.load import load_params

log = logging.getLogger("evaluate")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--model", required=True, help="checkpoint written by pipeline.models.save_model")
    parser.add_argument("--data", required=True, help="prepared dataset (.npz)")
    parser.add_argument("--out", required=True, help="folder for metrics.json, run.json, confusion.csv, confusion.png")
    args = parser.parse_args(argv)
    train_params = load_params()["train"]
    device = resolve_device(train_params["device"])
    model, meta = load_model(args.model, map_location=device)
    metrics, frame = score_test_split(model, meta, load_prepared(args.data), device,
                                      batch_size=train_params["eval_batch_size"])
    metrics["checkpoint"] = args.model
    facts = run_facts(device)
    write_evaluation(args.out, metrics, frame, facts)
    log.info("%s: test acc %.4f, macro-F1 %.4f, ECE %.4f on %d images (%s)", args.model, metrics["test_acc"],
             metrics["macro_f1"], metrics["ece"], metrics["n_test"], facts["device"])


if __name__ == "__main__":
    run_stage(main)
