"""The rule types of the params schema: each :class:`Spec` checks one value (or mapping) and names the key
when it is wrong; an optional key's ``default`` is written here, in the schema, and nowhere else.
The schema itself (which key has which rule) is :data:`pipeline.core.params.SCHEMA`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping


class ParamsError(ValueError):
    """A params.yaml value or key is wrong; the message names the dotted key."""


class Spec:
    """One value's rule; ``check`` returns the (normalised) value or raises ParamsError naming ``key``."""

    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def check(self, value: Any, key: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


def _fail(key: str, spec: Spec, value: Any) -> ParamsError:
    return ParamsError(f"params.yaml: {key} must be {spec.describe()}, got {value!r}")


@dataclass
class Int(Spec):
    min: int | None = None
    max: int | None = None
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        bounds = [f">= {self.min}" if self.min is not None else "", f"<= {self.max}" if self.max is not None else ""]
        return "an integer " + " and ".join(b for b in bounds if b) if any(bounds) else "an integer"

    def check(self, value, key):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(key, self, value)
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise _fail(key, self, value)
        return value


@dataclass
class Float(Spec):
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f"{'>' if self.min_exclusive else '>='} {self.min}")
        if self.max is not None:
            parts.append(f"{'<' if self.max_exclusive else '<='} {self.max}")
        return "a number" + (" " + " and ".join(parts) if parts else "")

    def check(self, value, key):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _fail(key, self, value)
        low_bad = self.min is not None and (value <= self.min if self.min_exclusive else value < self.min)
        high_bad = self.max is not None and (value >= self.max if self.max_exclusive else value > self.max)
        if low_bad or high_bad:
            raise _fail(key, self, value)
        return float(value)


@dataclass
class Bool(Spec):
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return "true or false"

    def check(self, value, key):
        if not isinstance(value, bool):
            raise _fail(key, self, value)
        return value


@dataclass
class Choice(Spec):
    values: tuple[str, ...] = ()
    pattern: str | None = None  # also accepted: strings matching this regex (e.g. cuda:1)
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return "one of " + ", ".join(self.values) + (f" (or {self.pattern})" if self.pattern else "")

    def check(self, value, key):
        ok = isinstance(value, str) and (value in self.values or bool(self.pattern and re.fullmatch(self.pattern, value)))
        if not ok:
            raise _fail(key, self, value)
        return value


@dataclass
class Matching(Spec):
    """A string that fully matches the class's ``PATTERN``; subclasses say which kind of string it is."""

    PATTERN: ClassVar[str] = r".+"
    DESCRIPTION: ClassVar[str] = "a string"
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return self.DESCRIPTION

    def check(self, value, key):
        if not isinstance(value, str) or not re.fullmatch(self.PATTERN, value):
            raise _fail(key, self, value)
        return value


class Name(Matching):
    """An identifier-like string (a model or run name)."""

    PATTERN = r"[A-Za-z0-9_.\-]+"
    DESCRIPTION = "a name of letters, digits, '_', '-' or '.'"


class PathSpec(Matching):
    """A relative or absolute path (not blank); whether it exists is the consuming stage's check."""

    PATTERN = r"(?s).*\S.*"
    DESCRIPTION = "a path (a non-empty string)"


@dataclass
class ListOf(Spec):
    item: Spec = field(default_factory=Name)
    min_len: int = 0
    unique: bool = True
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return f"a list of {self.item.describe()}" + (f" with at least {self.min_len} entr{'y' if self.min_len == 1 else 'ies'}"
                                                        if self.min_len else "")

    def check(self, value, key):
        if not isinstance(value, list) or len(value) < self.min_len:
            raise _fail(key, self, value)
        out = [self.item.check(v, f"{key}[{i}]") for i, v in enumerate(value)]
        if self.unique and len({repr(v) for v in out}) != len(out):
            raise ParamsError(f"params.yaml: {key} lists an entry twice: {value!r}")
        return out


@dataclass
class Section(Spec):
    """A mapping with a fixed set of keys; unknown keys are errors, missing required keys too."""

    keys: Mapping[str, Spec] = field(default_factory=dict)
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return "a mapping with keys " + ", ".join(self.keys)

    def check(self, value, key, require: bool = True):
        """The checked mapping, an absent optional key filled with its spec's ``default`` (when it has one).

        ``require=False`` checks a partial mapping (a caller's subset): only present keys, no missing-key error.
        """
        if not isinstance(value, dict):
            raise _fail(key or "params.yaml", self, value)
        where = f"section '{key}'" if key else "the top level"
        unknown = [k for k in value if k not in self.keys]
        if unknown:
            raise ParamsError(f"params.yaml: unknown key {unknown[0]!r} in {where}; allowed: {', '.join(self.keys)}")
        missing = [k for k, spec in self.keys.items() if k not in value and not spec.optional]
        if missing and require:
            raise ParamsError(f"params.yaml: {where} is missing key {missing[0]!r}; allowed: {', '.join(self.keys)}")
        out = {}
        for k, spec in self.keys.items():
            if k in value:
                out[k] = spec.check(value[k], f"{key}.{k}" if key else k)
            elif spec.default is not None:
                out[k] = spec.check(spec.default, f"{key}.{k}" if key else k)
        return out

    def defaults(self) -> dict[str, Any]:
        """The keys that have a default, with it (the one place defaults are written)."""
        return {k: spec.default for k, spec in self.keys.items() if spec.default is not None}


@dataclass
class MapOf(Spec):
    """A mapping of user-chosen names (models, runs) to values of one spec."""

    NAMES: ClassVar[str] = "names"  # what its keys are, in words
    value: Spec = field(default_factory=Section)
    min_len: int = 1
    names: Spec = field(default_factory=Name)  # each key's check
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return f"a mapping of {self.NAMES} to {self.value.describe()}"

    def check(self, value, key):
        if not isinstance(value, dict) or len(value) < self.min_len:
            raise _fail(key, self, value)
        return {self.names.check(k, f"{key} (name {k!r})"): self.value.check(v, f"{key}.{k}") for k, v in value.items()}


@dataclass
class Open(Spec):
    """A mapping checked by another registry (model and loss specs): here only that it has a ``name_key``;
    ``registry`` (``"loss"``, ``"model"``) names the registry that :func:`pipeline.params.load.check_params`
    runs it through."""

    name_key: str = "name"
    default_name: str | None = None
    registry: str | None = None
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return f"a mapping with a {self.name_key!r} key"

    def check(self, value, key):
        if not isinstance(value, dict):
            raise _fail(key, self, value)
        if self.name_key not in value:
            if self.default_name is None:
                raise ParamsError(f"params.yaml: {key} needs a {self.name_key!r} key")
            value = {self.name_key: self.default_name, **value}
        Name().check(value[self.name_key], f"{key}.{self.name_key}")
        return dict(value)


class StageName(Matching):
    """A DVC stage, a foreach group or one of its items (``distill``, ``distill@E1``), or ``default``."""

    PATTERN = r"[A-Za-z0-9_.\-]+(@[A-Za-z0-9_.\-]+)?"
    DESCRIPTION = "a stage name (letters, digits, '_', '-', '.'; an item as group@key)"


@dataclass
class TableOf(MapOf):
    """A mapping of stage names to values of one spec (``orchestration.timeout_s``)."""

    NAMES: ClassVar[str] = "stage names"
    value: Spec = field(default_factory=Name)
    min_len: int = 0
    names: Spec = field(default_factory=StageName)
