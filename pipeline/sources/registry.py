"""The data-source registry: every module of ``pipeline.sources`` that defines ``SOURCE`` is one source.

A new source is one new file here holding its reader and its checks together, plus its name as
``data.source`` in params.yaml; nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

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


def get_source(name: str) -> Source:
    """The source called ``name``; a ValueError naming params.yaml data.source and the known names otherwise."""
    known = sources()
    if name not in known:
        raise ValueError(f"params.yaml: data.source {name!r} is not a known source; known: {', '.join(sorted(known))}")
    return known[name]
