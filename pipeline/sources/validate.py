"""The validate stage's work: check the raw files, then the data as it will be trained on.

Raw checks (schema, labels, pixels, images) are each source's own; then the same view that
``prepare`` saves (after voting, the val split and duplicate removal) must have every split
non-empty and every class in every split, since class weights, validation accuracy and per-class
test metrics all need them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.constants import SPLIT_CODE, SPLITS
from pipeline.sources.common import LoadedDataset
from pipeline.sources.duplicates import cross_split_duplicates
from pipeline.sources.expectations import gx_module, raise_if_failed, run_expectations
from pipeline.sources.loading import load_source
from pipeline.sources.registry import get_source

LINE_NUMBERING = "file line numbers of the source's main file (a CSV's header is line 1)"


def check_as_trained(loaded: LoadedDataset) -> list[dict]:
    """Every split present and holding every class, on the data exactly as prepare will save it."""
    E = gx_module().expectations
    data = loaded.data
    names = np.array(data.class_names, dtype=object)[data.labels]
    frame = pd.DataFrame({f"{split}_class": np.where(data.split == SPLIT_CODE[split], names, None) for split in SPLITS},
                         index=pd.Index(loaded.lines, name="line"))
    expectations = [E.ExpectColumnDistinctValuesToContainSet(column=f"{split}_class", value_set=list(data.class_names))
                    for split in SPLITS]
    where = f"{loaded.files[0]} (as trained: after voting, val split and duplicate removal)"
    return run_expectations(frame, expectations, where, "as_trained")


def validate(data_params: dict[str, Any], raw_dir: str | os.PathLike, max_duplicate_examples: int = 200) -> dict:
    """Run every check; return the validation report, or raise ValidationFailed naming what failed."""
    source = get_source(data_params["source"])
    files = source.files(Path(raw_dir))
    results = source.check(files, data_params)
    raise_if_failed(results)
    loaded = load_source(data_params, raw_dir)
    results += check_as_trained(loaded)
    raise_if_failed(results)
    counts = loaded.data.counts()
    return {
        "source": source.name,
        "paper_dataset": source.paper_dataset,
        "real_data": source.real,
        "files": [str(f) for f in files],
        "line_numbering": LINE_NUMBERING,
        "success": True,
        "n_images": int(len(loaded.data.labels)),
        "class_names": list(loaded.data.class_names),
        "expectations": results,
        "class_counts": {split: {**counts[split], "total": int(sum(counts[split].values()))} for split in SPLITS},
        "duplicates": cross_split_duplicates(loaded.data, loaded.lines, max_duplicate_examples),
        **loaded.extra,
    }
