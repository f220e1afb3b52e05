"""Stage generate: draw the synthetic FER-like dataset into data/raw/synthetic.csv.gz (FER2013 schema)."""

from __future__ import annotations

import logging
import time

from pipeline.synthetic import generate, write_fer2013_csv
from stages.common import load_params, run_stage

OUTPUT = "data/raw/synthetic.csv.gz"
log = logging.getLogger("generate")


def main() -> None:
    params = load_params()["synthetic"]
    sizes = {split: int(params[split]) for split in ("train", "val", "test")}
    if any(n < 1 for n in sizes.values()):
        raise ValueError(f"params.yaml synthetic: every split needs at least one image, got {sizes}")
    start = time.perf_counter()
    splits = generate(sizes, int(params["seed"]))
    write_fer2013_csv(OUTPUT, splits)
    log.info("wrote %s: %s images in %.1f s", OUTPUT, sizes, time.perf_counter() - start)


if __name__ == "__main__":
    run_stage(main)
