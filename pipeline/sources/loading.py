"""The data as it will be trained on: the source read, then train copies of test images dropped if asked.

``validate`` and ``prepare`` both go through :func:`load_source`, so what is checked is what
is trained on.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from pipeline.sources.common import LoadedDataset
from pipeline.sources.duplicates import train_duplicates_of_test
from pipeline.sources.registry import get_source

log = logging.getLogger(__name__)


def load_source(data_params: dict[str, Any], raw_dir: str | os.PathLike) -> LoadedDataset:
    """params.yaml's ``data`` section applied to ``raw_dir``: read, split, optionally de-duplicated."""
    source = get_source(data_params["source"])
    loaded = source.read(source.files(Path(raw_dir)), data_params)
    if data_params["drop_train_duplicates_of_test"]:
        drop = train_duplicates_of_test(loaded.data)
        log.info("dropping %d train images pixel-identical to a test image (lines %s%s)", int(drop.sum()),
                 loaded.lines[drop][:20].tolist(), " ..." if drop.sum() > 20 else "")
        loaded = loaded.select(~drop)
        loaded.extra["dropped_train_duplicates_of_test"] = int(drop.sum())
    return loaded
