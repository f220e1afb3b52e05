"""Apply a versioned params profile (profiles/*.yaml) on top of params.yaml, keeping its comments.

    uv run python -m pipeline.params.profiles profiles/paper.yaml   # then: uv run dvc exp run

A profile holds only the keys it changes; mappings are merged key by key, except those marked
``replace: true`` at their top (e.g. a run list), which replace the base mapping whole.

params.yaml is edited as text, only where the profile sets something: a changed value is rewritten
in place (its comment kept in its column), a replaced block takes the profile's own lines, a new key
is added at the end of its mapping, and every other line stays byte-identical, so
``git diff params.yaml`` / ``dvc params diff`` show exactly the profile. A value the profile sets to
what params.yaml already holds leaves its line untouched.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML

from pipeline.core.atomic import write_text
from pipeline.core.specs import ParamsError
from pipeline.params.load import check_params

REPLACE_MARKER = "replace"


def merge(base: dict, overrides: dict) -> dict:
    """Deep-merge ``overrides`` into ``base`` in place and return it."""
    for key, value in overrides.items():
        if isinstance(value, dict) and value.get(REPLACE_MARKER) is True:
            base[key] = {k: v for k, v in value.items() if k != REPLACE_MARKER}
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def apply_profile(profile: Path, params: Path) -> list[str]:
    """Merge ``profile`` into ``params`` (atomically); returns the dotted keys it set.

    The merged result is checked by the strict params policy first: a profile with a misspelt
    key leaves params.yaml untouched.
    """
    base_text = Path(params).read_text()
    profile_text = Path(profile).read_text()
    overrides = pyyaml.safe_load(profile_text) or {}
    merged = merge(pyyaml.safe_load(base_text), overrides)
    try:
        check_params(merged)
    except ParamsError as exc:
        raise ParamsError(f"{profile}: {exc} (params.yaml left unchanged)") from None
    text = edit_text(base_text, profile_text)
    if pyyaml.safe_load(text) != merged:  # the text edit must mean exactly the merge
        raise ParamsError(f"{profile}: could not apply it as a text edit of {params} (params.yaml left unchanged)")
    if text != base_text:
        write_text(params, text)
    return sorted(_dotted_keys(overrides))


def edit_text(base_text: str, profile_text: str) -> str:
    """``base_text`` with the profile's keys set, every line the profile does not set left byte-identical."""
    rt = YAML()
    base, prof = rt.load(base_text), rt.load(profile_text)
    if not prof:
        return base_text
    lines = base_text.splitlines(keepends=True)
    newline_added = bool(lines) and not lines[-1].endswith("\n")
    if newline_added:
        lines[-1] += "\n"
    prof_lines = [line if line.endswith("\n") else line + "\n" for line in profile_text.splitlines(keepends=True)]
    edits: list[tuple[int, int, list[str]]] = []  # (first line, end line exclusive, replacement lines)
    _Edit(lines, prof_lines, edits).map(base, prof, len(lines), len(prof_lines))
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        lines[start:end] = new
    out = "".join(lines)
    return out[:-1] if newline_added and out.endswith("\n") else out


def _is_blank_or_comment(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


def _span(mapping, key, end: int, lines: list[str]) -> tuple[int, int]:
    """[key line, end) of ``key``'s entry in a block mapping: up to the next key, trailing comments excluded."""
    keys = list(mapping.keys())
    i = keys.index(key)
    stop = mapping.lc.key(keys[i + 1])[0] if i + 1 < len(keys) else end
    start = mapping.lc.key(key)[0]
    while stop > start + 1 and _is_blank_or_comment(lines[stop - 1]):
        stop -= 1
    return start, stop


def _value_end(line: str, start: int) -> int:
    """Index just past a one-line YAML value starting at ``start`` (flow collection, quoted or plain scalar)."""
    if line[start] in "[{":
        depth, quote = 0, None
        for i in range(start, len(line)):
            c = line[i]
            if quote:
                quote = None if c == quote else quote
            elif c in "'\"":
                quote = c
            elif c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return i + 1
        raise ValueError(f"unterminated flow value: {line!r}")
    if line[start] in "'\"":
        return line.index(line[start], start + 1) + 1
    body = line.rstrip("\n")
    cut = body.find(" #", start)
    return len((body if cut < 0 else body[:cut]).rstrip())


def _with_value(line: str, start: int, end: int, token: str) -> str:
    """``line`` with [start, end) replaced by ``token``, a trailing comment kept in its column when it fits."""
    rest = line[end:]
    stripped = rest.lstrip(" ")
    if stripped.startswith("#"):
        pad = max(1, len(rest) - len(stripped) + (end - start) - len(token))
        rest = " " * pad + stripped
    return line[:start] + token + rest


def _plain(value: Any) -> Any:
    """Builtin dicts/lists/scalars (ruamel's round-trip types dropped)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def _flow(value: Any) -> str:
    """A value as one line of flow YAML (``[0, 1]``, ``{name: kd, T: 3}``, ``0.25``)."""
    text = pyyaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**9)
    return text.removesuffix("\n...\n").strip()


def _without_marker(value: Any) -> Any:
    return {k: v for k, v in value.items() if k != REPLACE_MARKER} if isinstance(value, dict) else value


class _Edit:
    """Collects the line edits that set a profile's keys in params.yaml's text."""

    def __init__(self, lines: list[str], prof_lines: list[str], edits: list):
        self.lines, self.prof_lines, self.edits = lines, prof_lines, edits

    def map(self, base, prof, end: int, prof_end: int) -> None:
        """Set ``prof``'s keys in the block mapping ``base`` (its entries end before line ``end``)."""
        for key, value in prof.items():
            replace = isinstance(value, dict) and value.get(REPLACE_MARKER) is True
            prof_span = _span(prof, key, prof_end, self.prof_lines)
            if key not in base:
                self.insert(base, key, value, replace, prof, end, prof_span)
                continue
            current = base[key]
            if isinstance(value, dict) and not replace and isinstance(current, dict) and not current.fa.flow_style():
                self.map(current, value, _span(base, key, end, self.lines)[1], prof_span[1])
                continue
            if replace:
                new_value = _plain(_without_marker(value))
            elif isinstance(value, dict) and isinstance(current, dict):
                new_value = merge(_plain(current), _plain(value))
            else:
                new_value = _plain(value)
            if _plain(current) == new_value:
                continue  # already so: the line stays as it is
            literal = None if isinstance(value, dict) and not replace else self.literal(prof, key)
            self.replace(base, key, new_value, replace, prof, end, prof_span, literal)

    def literal(self, prof, key) -> str | None:
        """The profile's own text of a one-line value (``0.20`` stays ``0.20``), when it has one."""
        key_line, _, value_line, value_col = prof.lc.data[key]
        if value_line != key_line:
            return None
        line = self.prof_lines[value_line]
        token = line[value_col:_value_end(line, value_col)]
        return token if pyyaml.safe_load(token) == _plain(_without_marker(prof[key])) else None

    def block(self, prof, key, prof_span: tuple[int, int], indent: int) -> list[str]:
        """The profile's lines of a ``replace: true`` block, without the marker, re-indented to ``indent``."""
        value = prof[key]
        start, end = prof_span
        marker = value.lc.key(REPLACE_MARKER)[0]
        body = [self.prof_lines[i] for i in range(start + 1, end) if i != marker]
        shift = indent - min(value.lc.key(k)[1] for k in value if k != REPLACE_MARKER)
        out = []
        for line in body:
            lead = len(line) - len(line.lstrip(" "))
            out.append(line if not line.strip() else " " * max(0, lead + shift) + line[lead:])
        return out

    def replace(self, base, key, new_value, replace: bool, prof, end: int, prof_span, literal) -> None:
        start, stop = _span(base, key, end, self.lines)
        key_line, key_col, value_line, value_col = base.lc.data[key]
        line = self.lines[key_line]
        colon = line.index(":", key_col)
        inline = value_line == key_line and stop == start + 1
        if replace and prof.lc.data[key][2] != prof.lc.data[key][0]:  # a block in the profile: its own lines
            current = base[key]
            if isinstance(current, dict) and not current.fa.flow_style() and len(current):
                indent = min(current.lc.key(k)[1] for k in current)
            else:
                indent = key_col + 2
            head = _with_value(line, colon + 1, _value_end(line, value_col), "") if inline else line
            self.edits.append((start, stop, [head] + self.block(prof, key, prof_span, indent)))
            return
        token = literal or _flow(new_value)
        if inline:
            self.edits.append((start, stop, [_with_value(line, value_col, _value_end(line, value_col), token)]))
        else:  # a block value becomes one line
            self.edits.append((start, stop, [_with_value(line, colon + 1, colon + 1, " " + token)]))

    def insert(self, base, key, value, replace: bool, prof, end: int, prof_span) -> None:
        """A key params.yaml does not have yet: added at the end of its (block) mapping."""
        keys = list(base.keys())
        indent = base.lc.key(keys[0])[1] if keys else 0
        at = _span(base, keys[-1], end, self.lines)[1] if keys else end
        if replace and prof.lc.data[key][2] != prof.lc.data[key][0]:
            new = [f"{' ' * indent}{key}:\n"] + self.block(prof, key, prof_span, indent + 2)
        else:
            token = self.literal(prof, key) or _flow(_plain(_without_marker(value)))
            new = [f"{' ' * indent}{key}: {token}\n"]
        self.edits.append((at, at, new))


def _dotted_keys(tree: Any, prefix: str = "") -> list[str]:
    if not isinstance(tree, dict) or tree.get(REPLACE_MARKER) is True:
        return [prefix.rstrip(".")]
    return [k for key, value in tree.items() for k in _dotted_keys(value, f"{prefix}{key}.")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path, help="profile YAML, e.g. profiles/paper.yaml")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file to update")
    args = parser.parse_args(argv)
    for key in apply_profile(args.profile, args.params):
        print(f"set {key}")


if __name__ == "__main__":
    main()
