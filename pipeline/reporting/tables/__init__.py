"""The paper's tables, each one module of this package that declares itself: ``@paper_table(name, title,
order)`` on its builder (a pure function of :class:`ReportInputs`, no file access). The report stage, the
run-folder snapshot, the verdict page's index and the Prefect artifacts all read :func:`paper_tables`, so a
new table is one new module here (``table<N>_<what>.py``) and nothing else (its inputs permitting: what a table
reads is :class:`ReportInputs`, collected by :mod:`pipeline.reporting.collect`).

Each builder returns one :class:`Table`: the CSV frame and the Markdown sections a reader sees
(``ours | paper | Δ`` per quantity; :mod:`pipeline.reporting.records`), plus the notes line that holds
what does not vary from row to row.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

from pipeline.reporting.model import ReportInputs, Table


@dataclass(frozen=True)
class PaperTable:
    name: str                         # file stem of its .md and .csv, e.g. table4_accuracy
    title: str                        # the paper's table, as titled here
    order: int                        # where it comes among the tables (the paper's numbering)
    build: Callable[[ReportInputs], Table]
    artifact: str | None = None       # Prefect artifact key the flow publishes it under (None: not published)
    artifact_title: str | None = None


_TABLES: dict[str, PaperTable] = {}
_discovered = False


def paper_table(name: str, title: str, order: int, artifact: str | None = None, artifact_title: str | None = None):
    """Decorator: register ``build(inputs) -> Table`` as the paper table ``name``."""

    def wrap(build: Callable[[ReportInputs], Table]) -> Callable[[ReportInputs], Table]:
        if name in _TABLES and _TABLES[name].build is not build:
            raise ValueError(f"paper table {name!r} is declared twice")
        _TABLES[name] = PaperTable(name, title, order, build, artifact, artifact_title or title)
        return build

    return wrap


def paper_tables() -> dict[str, PaperTable]:
    """Every declared table by file stem, in order (the table modules imported once, on first use)."""
    global _discovered
    if not _discovered:
        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")
        _discovered = True
    return dict(sorted(_TABLES.items(), key=lambda item: item[1].order))


def build_tables(inputs: ReportInputs) -> dict[str, Table]:
    """All report tables by file stem (table1_model_sizes ... table6_literature)."""
    return {name: table.build(inputs) for name, table in paper_tables().items()}
