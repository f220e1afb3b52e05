"""What every stage entry shares: reading params.yaml and reporting errors clearly."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, Callable

import yaml

import pipeline  # noqa: F401  (sets the no-network environment first)

PARAMS_FILE = Path("params.yaml")


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run stages from the repository root")
    with open(path) as fh:
        return yaml.safe_load(fh)


def source_options(data_params: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of pipeline.readers.read_source / validate_source from params.yaml's ``data``."""
    return {"rafdb_val_fraction": float(data_params["rafdb_val_fraction"]),
            "rafdb_val_seed": int(data_params["rafdb_val_seed"])}


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's main(); a known failure exits 1 with a one-line message instead of a traceback."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        main()
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        sys.exit(1)
