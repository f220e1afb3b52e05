"""DVC stage `evaluate`: test-set metrics, confusion.csv and confusion.png of one saved model.

Usage: python -m stages.evaluate <model.pt> <out_dir>
"""

from __future__ import annotations

import argparse
import logging

from stages.common import DATASET, load_params, run_stage

log = logging.getLogger("evaluate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="checkpoint written by pipeline.models.save_model")
    parser.add_argument("out_dir", help="directory for metrics.json, confusion.csv, confusion.png")
    args = parser.parse_args()

    from pipeline.device_data import resolve_device
    from pipeline.evaluation import evaluate_model, write_evaluation
    from pipeline.models import load_model
    from pipeline.prepared import load_prepared

    train = load_params()["train"]
    device = resolve_device(train.get("device", "auto"))
    model, meta = load_model(args.model, map_location=device)
    metrics, frame = evaluate_model(model, meta, load_prepared(DATASET), device,
                                    batch_size=int(train.get("eval_batch_size", 256)))
    metrics["checkpoint"] = args.model
    write_evaluation(args.out_dir, metrics, frame)
    log.info("%s: test acc %.4f, macro-F1 %.4f, ECE %.4f on %d images (%s)", args.model,
             metrics["test_acc"], metrics["macro_f1"], metrics["ece"], metrics["n_test"], metrics["device"])


if __name__ == "__main__":
    run_stage(main)
