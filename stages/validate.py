"""DVC stage validate: Great Expectations checks on the raw source and on the data as it will be trained on.

    python -m stages.validate --raw data/raw --report reports/validation.json --class-counts reports/class_counts.json

On any failed expectation the stage exits 1 naming it, the file and the lines, and leaves
earlier reports untouched.
"""

from __future__ import annotations

import logging
import time

from pipeline.core.atomic import write_json
from pipeline.core.stage import run_stage, stage_parser
from pipeline.params.load import load_params
from pipeline.sources.validate import validate

log = logging.getLogger("validate")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--raw", required=True, help="folder of raw data files")
    parser.add_argument("--report", required=True, help="validation report (.json)")
    parser.add_argument("--class-counts", required=True, help="class counts per split (.json, a DVC metric)")
    args = parser.parse_args(argv)
    data_params = load_params()["data"]
    start = time.perf_counter()
    report = validate(data_params, args.raw)
    write_json(args.class_counts, report["class_counts"])
    write_json(args.report, report)
    log.info("%s: %d expectations passed, %d images, %d cross-split duplicate groups (%.1f s)", report["source"],
             len(report["expectations"]), report["n_images"], report["duplicates"]["cross_split_groups"],
             time.perf_counter() - start)


if __name__ == "__main__":
    run_stage(main)
