"""Checked params as frozen, typed objects built from the schema, so a key's type and default are written once.

:func:`pipeline.params.load.load_params` checks params.yaml against :data:`pipeline.core.params.SCHEMA` and
hands stages this tree: ``params.train.lr`` is a float, ``params.models["student_a"]`` a model spec. Each
section is a frozen dataclass generated from its :class:`Section` spec (its fields are the schema's keys, an
optional key's default the schema's); a mapping of names (models, runs) is a read-only :class:`FrozenMap`,
a list a tuple. Both also read like the dicts they replace (``params["train"]["lr"]``, ``dict(...)``).

While tracing is on (:func:`start_trace`), every value handed out is recorded by its dotted key, so a test
can hold dvc.yaml's ``params:`` lists to what each stage really reads (tests/params/test_declared_params.py).
"""

from __future__ import annotations

import atexit
import json
import os
from collections.abc import Mapping
from dataclasses import field, fields, make_dataclass
from pathlib import Path
from typing import Any, Iterator

from pipeline.core.specs import Bool, Choice, Float, Int, ListOf, MapOf, Matching, Open, Section, Spec

TRACE_ENV = "PIPELINE_PARAMS_TRACE"  # a folder: each DVC stage writes the keys it read to <folder>/<stage>.json
_trace: set[str] | None = None


def start_trace() -> set[str]:
    """Record every dotted key read from now on (into the returned set)."""
    global _trace
    _trace = set()
    return _trace


def stop_trace() -> None:
    global _trace
    _trace = None


def trace_to_env_folder() -> None:
    """With ``PIPELINE_PARAMS_TRACE`` set, record this process's reads and write them at exit, named by the
    DVC stage that runs it (``DVC_STAGE``, set by ``dvc repro``)."""
    folder = os.environ.get(TRACE_ENV)
    if not folder or _trace is not None:
        return
    keys = start_trace()
    path = Path(folder) / f"{os.environ.get('DVC_STAGE', 'no-stage')}.json"
    atexit.register(lambda: path.parent.mkdir(parents=True, exist_ok=True) or path.write_text(json.dumps(sorted(keys))))


def _note(key: str, value: Any) -> Any:
    """Record a leaf value (not a section or a map, which are read through) as read."""
    if _trace is not None and not isinstance(value, (Record, FrozenMap)):
        _trace.add(key)
    return value


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


class Record(Mapping):
    """Base of the generated section dataclasses: attribute or item access; an absent optional key is None as an
    attribute and missing as an item (``"ensemble" in params.teacher``), as in the dict it replaces."""

    _key: str = ""

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if name in type(self).__dataclass_fields__:
            _note(_join(object.__getattribute__(self, "_key"), name), value)
        return value

    def __getitem__(self, name: str) -> Any:
        if name not in type(self).__dataclass_fields__ or object.__getattribute__(self, name) is None:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return (f.name for f in fields(self) if object.__getattribute__(self, f.name) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class FrozenMap(Mapping):
    """A read-only mapping of user-chosen names (``models``, ``distill.runs``); listing its names reads the whole
    mapping's key (a stage that loops over every model depends on all of them)."""

    def __init__(self, items: dict[str, Any], key: str) -> None:
        self._items, self._key = items, key

    def __getitem__(self, name: str) -> Any:
        return _note(_join(self._key, name), self._items[name])

    def __iter__(self) -> Iterator[str]:
        _note(self._key, None)
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


_LEAF_TYPES = {Int: int, Float: float, Bool: bool, Choice: str, Open: dict, ListOf: tuple, MapOf: Mapping}


def _type_of(spec: Spec) -> Any:
    if isinstance(spec, Section):
        return record_class(spec)
    return next((t for cls, t in _LEAF_TYPES.items() if isinstance(spec, cls)), str if isinstance(spec, Matching) else Any)


_classes: dict[tuple[int, str], type] = {}


def _make_record_class(name: str, spec: Section) -> type:
    specs: list[tuple] = []
    for key, sub in spec.keys.items():
        kind = _type_of(sub)
        if sub.optional:  # the schema fills a default in when it has one; an absent optional key is None
            specs.append((key, kind | None if isinstance(kind, type) else kind, field(default=None)))
        else:
            specs.append((key, kind))
    specs.sort(key=lambda s: len(s) == 3)  # fields without a default first, as dataclasses require
    # eq=False: equality is Mapping's, so a section still equals the dict it replaces
    return make_dataclass(name, specs, bases=(Record,), frozen=True, eq=False)


def record_class(spec: Section, name: str = "Params") -> type:
    """The frozen dataclass of one Section spec: its fields are the section's keys, typed by their rules."""
    made = _classes.get((id(spec), name))
    if made is None:
        made = _classes[(id(spec), name)] = _make_record_class(name, spec)
    return made


def typed(spec: Spec, value: Any, key: str = "", name: str = "Params") -> Any:
    """A checked params value (:meth:`Section.check`'s output) as the typed tree described above; ``name`` is
    the class name of a section (``train`` -> ``Train``)."""
    if value is None:
        return None
    if isinstance(spec, Section):
        made = record_class(spec, name)(**{k: typed(sub, value[k], _join(key, k), k.title().replace("_", ""))
                                           for k, sub in spec.keys.items() if k in value})
        object.__setattr__(made, "_key", key)
        return made
    if isinstance(spec, MapOf):
        return FrozenMap({k: typed(spec.value, v, _join(key, k), f"{name}Entry") for k, v in value.items()}, key)
    if isinstance(spec, ListOf):
        return tuple(typed(spec.item, v, f"{key}[{i}]", name) for i, v in enumerate(value))
    return value


def plain(value: Any) -> Any:
    """The typed tree back as plain dicts and lists, without tracing (to write it as params.yaml holds it)."""
    if isinstance(value, Record):
        return {f.name: plain(v) for f in fields(value)
                if (v := object.__getattribute__(value, f.name)) is not None}
    if isinstance(value, FrozenMap):
        return {k: plain(v) for k, v in value._items.items()}
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value
