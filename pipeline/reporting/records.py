"""One list of row records per table, rendered both ways: the CSV frame and the Markdown section(s).

A record is a dict: its plain keys are the CSV columns (in order), keys starting with ``_`` carry
what only the Markdown needs (the paper's :class:`~pipeline.reporting.paper.Ref` objects, a label).
A :class:`Column` says how one Markdown column reads a record; a record with ``_markdown_only`` (a
heading row) is shown in the Markdown and left out of the CSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import pandas as pd

from pipeline.reporting import cells, paper
from pipeline.reporting.model import Section

Record = dict[str, Any]


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[Record], str]
    right: bool = True


def nan(value: Any) -> float:
    """A CSV number: NaN for an absent value."""
    return float("nan") if value is None else float(value)


def diff(ours: Any, ref: paper.Ref) -> float:
    """ours - paper, NaN when either is absent."""
    return float("nan") if cells.missing(ours) or not ref.found else float(ours) - float(ref.value)


def frame(records: Iterable[Record]) -> pd.DataFrame:
    """The CSV: every record that is not Markdown-only, its plain keys as columns."""
    return pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")}
                         for r in records if not r.get("_markdown_only")])


def section(title: str | None, records: Sequence[Record], columns: Sequence[Column],
            right: Sequence[bool] | None = None) -> Section:
    """A Markdown section: one row per record (a heading record's ``_cells`` as they are)."""
    rows = [list(r["_cells"]) if r.get("_markdown_only") else [c.cell(r) for c in columns] for r in records]
    return Section(title, [c.header for c in columns], rows,
                   list(right) if right is not None else [c.right for c in columns])


def heading(text: str, width: int) -> Record:
    """A bold Markdown-only row (e.g. a dataset block of Table IV)."""
    return {"_markdown_only": True, "_cells": [text] + [""] * (width - 1)}
