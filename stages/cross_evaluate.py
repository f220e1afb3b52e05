"""DVC stage cross_evaluate@<name>: every exported model (and the release model) scored on one labelled
image folder from params ``cross_eval`` (class-named subfolders; pipeline/crosseval/aliases.py).

    python -m stages.cross_evaluate ckplus --folder data/cross/ckplus --models models/export release \
        --out reports/cross_eval/ckplus

Writes <out>/models/<model>.json and .png (metrics, confusion matrix) and <out>/summary.json.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.core.atomic import write_json
from pipeline.core.stage import run_stage, stage_parser
from pipeline.crosseval.run import evaluate_models

log = logging.getLogger("cross_evaluate")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("name", help="the folder's name in params cross_eval")
    parser.add_argument("--folder", required=True, type=Path, help="folder of class-named subfolders of face images")
    parser.add_argument("--models", required=True, nargs="+", type=Path, help="folders of exported .onnx models")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    args = parser.parse_args(argv)
    summary = evaluate_models(args.name, args.folder, args.models, args.out)
    write_json(args.out / "summary.json", summary)
    for model, row in summary["models"].items():
        log.info("%s on %s: %.2f%% (%d images)", model, args.name, 100 * row["accuracy"], row["n_images"])


if __name__ == "__main__":
    run_stage(main)
