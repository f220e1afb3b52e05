"""Stage validate: Great Expectations checks on the raw source; writes the validation report and class counts.

On any failed expectation the stage exits 1 naming it, and leaves earlier reports untouched.
"""

from __future__ import annotations

import logging
import time

from pipeline.atomic import write_json
from pipeline.validation import validate_source
from stages.common import RAW_DIR, load_params, run_stage, source_options

REPORT = "reports/validation.json"
CLASS_COUNTS = "reports/class_counts.json"
log = logging.getLogger("validate")


def main() -> None:
    data = load_params()["data"]
    start = time.perf_counter()
    report = validate_source(data["source"], RAW_DIR, **source_options(data))
    write_json(CLASS_COUNTS, report["class_counts"])
    write_json(REPORT, report)
    dup = report["duplicates"]
    log.info("%s: %d expectations passed, %d images, %d cross-split duplicate groups (%.1f s)", data["source"],
             len(report["expectations"]), report["n_images"], dup["cross_split_groups"], time.perf_counter() - start)


if __name__ == "__main__":
    run_stage(main)
