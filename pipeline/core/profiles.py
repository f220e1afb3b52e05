"""Apply a versioned params profile (profiles/*.yaml) on top of params.yaml, keeping its comments.

    uv run python -m pipeline.core.profiles profiles/paper.yaml   # then: uv run dvc exp run

A profile holds only the keys it changes; mappings are merged key by key, except those marked
``replace: true`` at their top (e.g. a run list), which replace the base mapping whole.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from pipeline.core.atomic import write_text
from pipeline.core.params import ParamsError, check_params

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
    yaml = YAML()
    yaml.preserve_quotes = True
    base = yaml.load(params.read_text())
    overrides = YAML(typ="safe").load(profile.read_text()) or {}
    merge(base, overrides)
    out = io.StringIO()
    yaml.dump(base, out)
    try:
        check_params(YAML(typ="safe").load(out.getvalue()))
    except ParamsError as exc:
        raise ParamsError(f"{profile}: {exc} (params.yaml left unchanged)") from None
    write_text(params, out.getvalue())
    return sorted(_dotted_keys(overrides))


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
