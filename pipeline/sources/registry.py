"""The data-source registry: every module of ``pipeline.sources`` that defines ``SOURCE`` is one source.

A new source is one new file here holding all that is particular to it: reader, checks, class names,
params options (``data.<name>_*`` keys, or a section of its own), folder-name aliases and the paper
dataset it is; then ``data.source: <name>`` in params.yaml. The params check, evaluate-folder's alias
table and the report read those from here, so nothing else changes (tests/sources/test_new_source.py).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pipeline.core.constants import SPLITS
from pipeline.core.specs import Section, Spec
from pipeline.sources.common import LoadedDataset


@dataclass(frozen=True)
class Source:
    """How to find, check and read one data source."""

    name: str
    description: str
    class_names: tuple[str, ...]
    files: Callable[[Path], list[Path]]  # raw_dir -> its files, main file first; FileNotFoundError if absent
    check: Callable[[list[Path], dict[str, Any]], list[dict]]  # Great Expectations results on the raw files
    read: Callable[[list[Path], dict[str, Any]], LoadedDataset]  # (files, params.yaml data) -> images and labels
    paper_dataset: str  # the paper dataset it is, or stands in for (reports compare against its values)
    real: bool  # False for generated data: the report then says the numbers are not comparable
    # Its keys of params.yaml's `data` section, named `<name>_...` so no two sources clash, with their rules
    # and (optional keys) defaults; read from the `options` that `read` and `check` get.
    options: Mapping[str, Spec] = field(default_factory=dict)
    section: Section | None = None  # a top-level params.yaml section of its own, named after it (synthetic's sizes)
    aliases: Mapping[str, str] = field(default_factory=dict)  # folder names -> its class names (evaluate-folder)
    # The paper's split columns (Table III) -> our splits they hold (RAF-DB's Training = our train + val slice).
    paper_splits: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: {s: (s,) for s in SPLITS})

    def __post_init__(self) -> None:
        wrong = [k for k in self.options if not k.startswith(f"{self.name}_")]
        if wrong:
            raise ValueError(f"source {self.name!r}: option {wrong[0]!r} must be named {self.name}_<option>")
        strays = {a: c for a, c in self.aliases.items() if c not in self.class_names}
        if strays:
            raise ValueError(f"source {self.name!r}: aliases name classes it does not have: {strays}")


def _discover() -> dict[str, Source]:
    import pipeline.sources as package

    found: dict[str, Source] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        source = getattr(module, "SOURCE", None)
        if isinstance(source, Source):
            found[source.name] = source
    return found


_SOURCES: dict[str, Source] | None = None


def sources() -> dict[str, Source]:
    global _SOURCES
    if _SOURCES is None:
        _SOURCES = _discover()
    return _SOURCES


def data_options() -> dict[str, Spec]:
    """Every source's ``data`` keys with their rules, for the params schema (pipeline/params/load.py)."""
    return {key: spec for source in sources().values() for key, spec in source.options.items()}


def source_sections() -> dict[str, Section]:
    """The top-level params sections that sources own, by their names."""
    return {source.name: source.section for source in sources().values() if source.section is not None}


def get_source(name: str) -> Source:
    """The source called ``name``; a ValueError naming params.yaml data.source and the known names otherwise."""
    known = sources()
    if name not in known:
        raise ValueError(f"params.yaml: data.source {name!r} is not a known source; known: {', '.join(sorted(known))}")
    return known[name]
