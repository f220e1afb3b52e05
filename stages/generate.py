"""DVC stage generate: draw the synthetic FER-like dataset (FER2013's CSV schema).

    python -m stages.generate --out data/raw/synthetic.csv.gz
"""

from __future__ import annotations

import logging
import time

from pipeline.core.stage import run_stage, stage_parser
from pipeline.params.load import load_params
from pipeline.sources.synthetic import generate, write_fer2013_csv

log = logging.getLogger("generate")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--out", required=True, help="CSV to write (.csv or .csv.gz)")
    args = parser.parse_args(argv)
    params = load_params()["synthetic"]
    sizes = {split: params[split] for split in ("train", "val", "test")}
    start = time.perf_counter()
    write_fer2013_csv(args.out, generate(sizes, params["seed"]))
    log.info("wrote %s: %s images in %.1f s", args.out, sizes, time.perf_counter() - start)


if __name__ == "__main__":
    run_stage(main)
