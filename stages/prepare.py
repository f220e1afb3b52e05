"""DVC stage prepare: decode the source once, as validated, into compact uint8 arrays.

    python -m stages.prepare --raw data/raw --out data/prepared/dataset.npz
"""

from __future__ import annotations

import logging
import time

from pipeline.core.stage import run_stage, stage_parser
from pipeline.dataset.prepared import save_prepared
from pipeline.params.load import load_params
from pipeline.sources.loading import load_source

log = logging.getLogger("prepare")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--raw", required=True, help="folder of raw data files")
    parser.add_argument("--out", required=True, help="prepared dataset (.npz)")
    args = parser.parse_args(argv)
    data_params = load_params()["data"]
    start = time.perf_counter()
    data = load_source(data_params, args.raw).data
    save_prepared(args.out, data)
    log.info("wrote %s: %s (%d classes) in %.1f s", args.out, {s: sum(c.values()) for s, c in data.counts().items()},
             data.num_classes, time.perf_counter() - start)


if __name__ == "__main__":
    run_stage(main)
