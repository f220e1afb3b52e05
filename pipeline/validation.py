"""Great Expectations checks on the raw table of each source, and the validation report.

Each check is a GX 1.x expectation run on a pandas dataframe of the raw file (ephemeral
context, nothing written to disk). Facts pandas cannot state as a column value directly
(pixel count, numeric tokens, decodable image) are derived columns computed vectorised first.
Row numbers are the dataframe index: 1-based data rows of the file (CSV: file line = row + 1;
RAF-DB label file: row = line).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.constants import CLASS_NAMES, SPLITS
from pipeline.duplicates import cross_split_duplicates
from pipeline import readers

log = logging.getLogger(__name__)

_LISTED = 20  # failing rows / values quoted per expectation
ROW_NUMBERING_CSV = "1-based data rows, header excluded (file line = row + 1)"
ROW_NUMBERING_RAFDB = "1-based lines of the label file"


class ValidationFailed(ValueError):
    """Raised when an expectation fails; the message names each failed expectation, file and rows."""

    def __init__(self, message: str, results: list[dict]):
        super().__init__(message)
        self.results = results


def _gx():
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # GX resets it on import
    return gx


_context = None
_assets = 0


def _gx_context():
    """One ephemeral GX context per process (in memory; nothing written to a project dir)."""
    global _context
    if _context is None:
        gx = _gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _context = gx.get_context(mode="ephemeral")
        _context.variables.progress_bars = ProgressBarsConfig(globally=False)  # one line per stage, not per metric
    return _context


def run_expectations(table: pd.DataFrame, expectations: list, file: str | os.PathLike, name: str) -> list[dict]:
    """Validate one dataframe against a list of GX expectations; one JSON-able record per expectation."""
    global _assets
    gx = _gx()
    _assets += 1
    asset = _gx_context().data_sources.add_pandas(f"raw_{name}_{_assets}").add_dataframe_asset(name)
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": table})
    suite = gx.ExpectationSuite(name=f"{name}_suite")
    for expectation in expectations:
        suite.add_expectation(expectation)
    outcome = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    records = []
    for result in outcome.results:
        config = result.expectation_config
        kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id",)}
        detail = dict(result.result or {})
        raised = (result.exception_info or {}).get("raised_exception") if isinstance(result.exception_info, dict) else None
        record = {
            "file": str(file),
            "expectation": config.type,
            "kwargs": _jsonable(kwargs),
            "success": bool(result.success),
        }
        if "unexpected_count" in detail:
            record["unexpected_count"] = int(detail["unexpected_count"])
            record["unexpected_rows"] = [_row_number(i) for i in (detail.get("unexpected_index_list") or [])[:_LISTED]]
            record["unexpected_values"] = _jsonable((detail.get("unexpected_list") or [])[:_LISTED])
        for key in ("observed_value", "details", "missing_count", "partial_missing_list"):
            if key in detail:
                record[key] = _jsonable(detail[key])
        if raised:
            record["error"] = str((result.exception_info or {}).get("exception_message"))
        records.append(record)
    return records


def _row_number(index_entry) -> int:
    """GX lists an index value, or {column: value, index name: value} when the index is named ('row')."""
    if isinstance(index_entry, dict):
        index_entry = index_entry["row"]
    return int(index_entry)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, str) and len(value) > 80:
        return value[:80] + "..."
    return value


def _describe(record: dict) -> str:
    args = ", ".join(f"{k}={v}" for k, v in record["kwargs"].items())
    text = f"{record['expectation']}({args}) failed on {record['file']}"
    if record.get("unexpected_count"):
        text += (f": {record['unexpected_count']} row(s), e.g. rows {record['unexpected_rows'][:5]}"
                 f" with values {record['unexpected_values'][:5]}")
    elif "observed_value" in record:
        text += f": observed {record['observed_value']}"
    if record.get("partial_missing_list"):
        text += f", missing {record['partial_missing_list']}"
    if record.get("error"):
        text += f": {record['error']}"
    return text


def _raise_if_failed(results: list[dict], numbering: str) -> None:
    failed = [r for r in results if not r["success"]]
    if failed:
        lines = "\n  ".join(_describe(r) for r in failed)
        raise ValidationFailed(f"data validation failed ({len(failed)} expectation(s); rows are {numbering}):\n  {lines}",
                               results)


# ---------------------------------------------------------------- per-source suites

def _schema_expectations(columns: tuple[str, ...]) -> list:
    gx = _gx()
    return [gx.expectations.ExpectTableColumnsToMatchOrderedList(column_list=list(columns)),
            gx.expectations.ExpectTableRowCountToBeBetween(min_value=1)]


def check_fer_table(table: pd.DataFrame, path: str | os.PathLike) -> list[dict]:
    """FER2013-schema checks: columns, labels, Usage and splits, pixel count and range, classes in train."""
    gx = _gx()
    E = gx.expectations
    results = run_expectations(table, _schema_expectations(readers.FER_COLUMNS), path, "fer_schema")
    _raise_if_failed(results, ROW_NUMBERING_CSV)
    scan = readers.scan_pixels(table["pixels"].to_numpy())
    n_pixels = readers.FER_SIZE * readers.FER_SIZE
    known = ~scan.non_numeric & (scan.n_tokens > 0)
    derived = pd.DataFrame({
        "emotion": table["emotion"],
        "Usage": table["Usage"],
        "pixels_missing": table["pixels"].isna(),
        "n_pixels": scan.n_tokens,
        "pixels_non_numeric": scan.non_numeric,
        "pixel_min": np.where(known, scan.min_value, np.nan),
        "pixel_max": np.where(known, scan.max_value, np.nan),
        "train_emotion": table["emotion"].where(table["Usage"] == "Training"),
    }, index=table.index)
    labels = [str(i) for i in range(len(CLASS_NAMES))]
    usages = list(readers.FER_USAGE_TO_SPLIT)
    expectations = [
        E.ExpectColumnValuesToNotBeNull(column="emotion"),
        E.ExpectColumnValuesToNotBeNull(column="Usage"),
        E.ExpectColumnValuesToBeInSet(column="pixels_missing", value_set=[False]),
        E.ExpectColumnValuesToBeInSet(column="emotion", value_set=labels),
        E.ExpectColumnValuesToBeInSet(column="Usage", value_set=usages),
        E.ExpectColumnDistinctValuesToContainSet(column="Usage", value_set=usages),
        E.ExpectColumnValuesToBeInSet(column="pixels_non_numeric", value_set=[False]),
        E.ExpectColumnValuesToBeBetween(column="n_pixels", min_value=n_pixels, max_value=n_pixels),
        E.ExpectColumnValuesToBeBetween(column="pixel_min", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="pixel_max", max_value=255),
        E.ExpectColumnDistinctValuesToContainSet(column="train_emotion", value_set=labels),
    ]
    return results + run_expectations(derived, expectations, path, "fer_rows")


def check_ferplus_table(plus: pd.DataFrame, fer: pd.DataFrame, path: str | os.PathLike) -> list[dict]:
    """FER+ vote file checks: columns, one row per FER2013 row with the same Usage, integer votes."""
    gx = _gx()
    E = gx.expectations
    results = run_expectations(plus, _schema_expectations(readers.FERPLUS_COLUMNS), path, "ferplus_schema")
    _raise_if_failed(results, ROW_NUMBERING_CSV)
    votes = plus[list(readers.FERPLUS_COLUMNS[2:])]
    numeric = votes.apply(pd.to_numeric, errors="coerce")
    integral = numeric.notna() & (numeric >= 0) & (numeric == numeric.round())
    fer_usage = fer["Usage"].reindex(plus.index)
    derived = pd.DataFrame({
        "Usage": plus["Usage"],
        "votes_are_counts": integral.all(axis=1),
        "usage_matches_fer2013": plus["Usage"] == fer_usage,
    }, index=plus.index)
    expectations = [
        E.ExpectTableRowCountToEqual(value=len(fer)),
        E.ExpectColumnValuesToBeInSet(column="Usage", value_set=list(readers.FER_USAGE_TO_SPLIT)),
        E.ExpectColumnValuesToBeInSet(column="votes_are_counts", value_set=[True]),
        E.ExpectColumnValuesToBeInSet(column="usage_matches_fer2013", value_set=[True]),
    ]
    return results + run_expectations(derived, expectations, path, "ferplus_rows")


def check_rafdb(root: str | os.PathLike) -> list[dict]:
    """RAF-DB label file and images: line format, labels 1..7, both splits, every class in train,
    every listed image present, decodable and 100x100 RGB."""
    from tqdm import tqdm

    gx = _gx()
    E = gx.expectations
    label_path = Path(root) / readers.RAFDB_LABEL_FILE
    table = readers.read_rafdb_label_file(label_path)
    statuses = [readers.inspect_image(readers.rafdb_image_path(root, name))[1] if isinstance(name, str) else "missing"
                for name in tqdm(table["name"], desc="RAF-DB images", mininterval=2.0)]
    labels = [str(k) for k in readers.RAFDB_TO_CLASS]
    derived = table.assign(
        split=table["name"].str.split("_").str[0],
        image_status=statuses,
    )
    derived["train_label"] = derived["label"].where(derived["split"] == "train")
    expectations = [
        E.ExpectTableRowCountToBeBetween(min_value=1),
        E.ExpectColumnValuesToBeBetween(column="n_fields", min_value=2, max_value=2),
        E.ExpectColumnValuesToMatchRegex(column="name", regex=r"^(?:train|test)_\d+\.jpg$"),
        E.ExpectColumnValuesToBeInSet(column="label", value_set=labels),
        E.ExpectColumnDistinctValuesToContainSet(column="split", value_set=list(readers.RAFDB_PREFIX_TO_SPLIT)),
        E.ExpectColumnDistinctValuesToContainSet(column="train_label", value_set=labels),
        E.ExpectColumnValuesToBeInSet(column="image_status", value_set=["ok"]),
    ]
    return run_expectations(derived, expectations, label_path, "rafdb")


# ---------------------------------------------------------------- the whole validation

def validate_source(source: str, raw_dir: str | os.PathLike = "data/raw", rafdb_val_fraction: float = 0.1,
                    rafdb_val_seed: int = 0, max_duplicate_examples: int = 200) -> dict:
    """Run the source's expectations; on success return the validation report, else raise ValidationFailed."""
    files = readers.source_files(source, raw_dir)
    if source in ("synthetic", "fer2013", "ferplus"):
        fer = readers.read_csv_table(files[0])
        results = check_fer_table(fer, files[0])
        if source == "ferplus":
            plus = readers.read_csv_table(files[1])
            results += check_ferplus_table(plus, fer, files[1])
        _raise_if_failed(results, ROW_NUMBERING_CSV)
        if source == "ferplus":
            loaded = readers.read_ferplus(files[0], files[1], tables=(fer, plus))
        else:
            loaded = readers.read_fer2013(files[0], source=source, table=fer)
        numbering = ROW_NUMBERING_CSV
    else:
        root = Path(raw_dir) / readers.RAFDB_DIR
        results = check_rafdb(root)
        _raise_if_failed(results, ROW_NUMBERING_RAFDB)
        loaded = readers.read_rafdb(root, rafdb_val_fraction, rafdb_val_seed)
        numbering = ROW_NUMBERING_RAFDB

    counts = class_counts(loaded)
    report = {
        "source": source,
        "files": [str(f) for f in files],
        "row_numbering": numbering,
        "success": True,
        "n_images": int(len(loaded.data.labels)),
        "expectations": results,
        "class_counts": counts,
        "duplicates": cross_split_duplicates(loaded.data, loaded.rows, max_duplicate_examples),
    }
    if source == "ferplus":
        report["dropped"] = {**loaded.dropped, "total": int(sum(loaded.dropped.values()))}
    if source == "rafdb":
        report["val_split"] = {"from": "train", "fraction": rafdb_val_fraction, "seed": rafdb_val_seed,
                               "method": "per class, a seeded random round(fraction * count) of its train rows"}
    return report


def class_counts(loaded: readers.LoadedDataset) -> dict[str, dict[str, int]]:
    """{split: {class: n, ..., 'total': n}} (the paper's Table III)."""
    counts = loaded.data.counts()
    return {split: {**counts[split], "total": int(sum(counts[split].values()))} for split in SPLITS}
