"""How a number becomes a table cell, and how cells become Markdown that fits 160 columns.

One formatting policy for every table, so "ours", "paper" and "Δ" read the same everywhere:
a paper value the paper does not print says so (:data:`paper.NOT_FOUND`), one it prints as "-"
stays "-", and a quantity we did not produce says "not run".
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from pipeline.reporting.paper import Ref, fmt_ref

NOT_RUN = "not run"
NONE = "-"  # no counterpart (e.g. our size of a model we do not have)
MAX_WIDTH = 160  # a Markdown table must fit a 160-column screen


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def num(value: Any, digits: int = 2, absent: str = NOT_RUN) -> str:
    """A measured number: thousands separators for counts, ``digits`` decimals otherwise."""
    if missing(value):
        return absent
    value = float(value)
    if value.is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    return f"{value:.{digits}f}"


def count(value: Any, absent: str = NOT_RUN) -> str:
    return absent if missing(value) else f"{int(value):,}"


def ref(value: Ref, digits: int = 2) -> str:
    """A paper value as printed: number, "-" where the paper prints "-", or the not-found marker."""
    if value.dash:
        return NONE
    if isinstance(value.value, int):
        return count(value.value)
    return fmt_ref(value, digits if value.digits is None else value.digits)


def delta(value: Any, digits: int = 2) -> str:
    """A signed difference (ours - paper); "-" when either side is absent."""
    if missing(value):
        return NONE
    text = f"{float(value):+.{digits}f}"
    return text.replace("-0.00", "0.00").replace("+0.00", "0.00") if digits == 2 else text


def count_delta(value: Any) -> str:
    if missing(value):
        return NONE
    return "0" if int(value) == 0 else f"{int(value):+,}"


def mean_std(mean: Any, std: Any, digits: int = 2, seeds: int = 1) -> str:
    """"mean ± std" when several seeds ran, else the number."""
    if missing(mean):
        return NOT_RUN
    if seeds > 1 and not missing(std):
        return f"{float(mean):.{digits}f} ± {float(std):.{digits}f}"
    return f"{float(mean):.{digits}f}"


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] | None = None) -> str:
    """A GitHub pipe table, padded to align; ``right`` marks numeric columns (right-aligned)."""
    right = list(right) if right is not None else [i > 0 for i in range(len(header))]
    rows = [[str(c).replace("|", "\\|") for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(header)]

    def line(cells):
        return "| " + " | ".join(str(c).rjust(w) if r else str(c).ljust(w)
                                 for c, w, r in zip(cells, widths, right)) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right)) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def frame_markdown(frame: "pd.DataFrame", absent: str = "n/a") -> str:
    """A DataFrame as a :func:`markdown` table: counts with thousands separators, empty cells as ``absent``,
    numeric columns right-aligned; ends with a newline."""
    import pandas as pd

    def cell(value: Any) -> str:
        if missing(value) or (not isinstance(value, str) and pd.isna(value)):
            return absent
        return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)

    header = [str(c) for c in frame.columns]
    rows = [[cell(v) for v in row] for row in frame.astype(object).itertuples(index=False, name=None)]
    right = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    return markdown(header, rows, right) + "\n"


def widest_table_line(text: str) -> int:
    """The longest table line of a Markdown document (0 if it has no table)."""
    return max((len(line) for line in text.splitlines() if line.startswith("|")), default=0)
