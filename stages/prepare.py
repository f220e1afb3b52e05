"""Stage prepare: decode the raw source once into data/prepared/dataset.npz (optionally without train copies of test images)."""

from __future__ import annotations

import logging
import time

from pipeline.duplicates import train_duplicates_of_test
from pipeline.prepared import PreparedData, save_prepared
from pipeline.readers import read_source
from stages.common import DATASET, RAW_DIR, load_params, run_stage, source_options

log = logging.getLogger("prepare")


def main() -> None:
    data_params = load_params()["data"]
    start = time.perf_counter()
    loaded = read_source(data_params["source"], RAW_DIR, **source_options(data_params))
    data = loaded.data
    log.info("read %s: %d images in %.1f s", data.source, len(data.labels), time.perf_counter() - start)
    if data_params["drop_train_duplicates_of_test"]:
        drop = train_duplicates_of_test(data)
        keep = ~drop
        data = PreparedData(data.images[keep], data.labels[keep], data.split[keep], data.source)
        log.info("dropped %d train images pixel-identical to a test image (rows %s%s)", int(drop.sum()),
                 loaded.rows[drop][:20].tolist(), " ..." if drop.sum() > 20 else "")
    save_prepared(DATASET, data)
    log.info("wrote %s: %s", DATASET, {s: sum(c.values()) for s, c in data.counts().items()})


if __name__ == "__main__":
    run_stage(main)
