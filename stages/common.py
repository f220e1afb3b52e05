"""What every stage entry shares: reading params.yaml and reporting errors clearly."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, Callable

import yaml

import pipeline  # noqa: F401  (sets the no-network environment first)

PARAMS_FILE = Path("params.yaml")

# Paths several stages share (dvc.yaml declares the same ones as deps/outs).
RAW_DIR = "data/raw"
DATASET = "data/prepared/dataset.npz"
CLASS_WEIGHTS = "data/prepared/class_weights.json"
TEACHER = "models/teacher/model.pt"
SOFT_TARGETS = "models/teacher/soft_targets.npy"


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run stages from the repository root")
    with open(path) as fh:
        return yaml.safe_load(fh)


def class_weights_for(train_params: dict[str, Any]) -> list[float] | None:
    """The train split's class weights, or None when params ``train.class_weighted`` is off."""
    from pipeline.runs import read_class_weights

    return read_class_weights(CLASS_WEIGHTS, train_params.get("class_weighted", True))


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
