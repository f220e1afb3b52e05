"""Great Expectations plumbing: run a list of expectations on a dataframe, report failures by file and line.

Each check is a GX 1.x expectation run on a pandas dataframe (ephemeral context, nothing
written to disk). Facts pandas cannot state as a column value directly (pixel count, numeric
tokens, decodable image) are derived columns the source modules compute vectorised first. The
dataframe index is the file line number, so GX's unexpected index list names lines.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd


log = logging.getLogger(__name__)

_LISTED = 20  # failing rows / values quoted per expectation


class ValidationFailed(ValueError):
    """Raised when an expectation fails; the message names each failed expectation, file and rows."""

    def __init__(self, message: str, results: list[dict]):
        super().__init__(message)
        self.results = results


def gx_module():
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
        gx = gx_module()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _context = gx.get_context(mode="ephemeral")
        _context.variables.progress_bars = ProgressBarsConfig(globally=False)  # one line per stage, not per metric
    return _context


def run_expectations(table: pd.DataFrame, expectations: list, file: str | os.PathLike, name: str) -> list[dict]:
    """Validate one dataframe against a list of GX expectations; one JSON-able record per expectation."""
    global _assets
    gx = gx_module()
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
            record["unexpected_lines"] = [_line_number(i) for i in (detail.get("unexpected_index_list") or [])[:_LISTED]]
            record["unexpected_values"] = _jsonable((detail.get("unexpected_list") or [])[:_LISTED])
        for key in ("observed_value", "details", "missing_count", "partial_missing_list"):
            if key in detail:
                record[key] = _jsonable(detail[key])
        if raised:
            record["error"] = str((result.exception_info or {}).get("exception_message"))
        records.append(record)
    return records


def _line_number(index_entry) -> int:
    """GX lists an index value, or {column: value, index name: value} when the index is named ('line')."""
    if isinstance(index_entry, dict):
        index_entry = index_entry["line"]
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
    if isinstance(value, str) and len(value) > 160:
        return value[:160] + "..."
    return value


def _describe(record: dict) -> str:
    args = ", ".join(f"{k}={v}" for k, v in record["kwargs"].items())
    text = f"{record['expectation']}({args}) failed on {record['file']}"
    if record.get("unexpected_count"):
        text += (f": {record['unexpected_count']} line(s), e.g. lines {record['unexpected_lines'][:5]}"
                 f" with values {record['unexpected_values'][:5]}")
    elif "observed_value" in record:
        text += f": observed {record['observed_value']}"
    if record.get("partial_missing_list"):
        text += f", missing {record['partial_missing_list']}"
    if record.get("error"):
        text += f": {record['error']}"
    return text


def raise_if_failed(results: list[dict]) -> None:
    """ValidationFailed naming every failed expectation, its file, lines and values."""
    failed = [r for r in results if not r["success"]]
    if failed:
        lines = "\n  ".join(_describe(r) for r in failed)
        raise ValidationFailed(f"data validation failed ({len(failed)} expectation(s); lines are file line numbers):\n  {lines}",
                               results)


def schema_expectations(columns: tuple[str, ...]) -> list:
    """Exactly these columns, in any order (the readers find them by name), and at least one data line."""
    E = gx_module().expectations
    return [E.ExpectTableColumnsToMatchSet(column_set=list(columns), exact_match=True),
            E.ExpectTableRowCountToBeBetween(min_value=1)]
