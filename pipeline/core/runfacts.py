"""Run facts: where a result was produced (device, threads, torch and Python versions), kept out of the metrics.

Every file DVC reads as a metric (dvc.yaml ``metrics:``) holds only what the run measured. The machine
it ran on goes to a run-facts file beside it: ``run.json`` next to each ``metrics.json`` (a training
run, an evaluation), and ``<benchmark folder>_run.json`` beside the benchmark folder (one entry per
architecture). dvc.yaml declares them as plain ``cache: false`` outputs, so git tracks them and the
report reads them, but ``dvc metrics diff`` between two machines shows numbers only.

Outputs committed before this split (e.g. the run folders under ``reports/examples/``) still carry
``device`` / ``torch_version`` inside their metrics: :func:`device_of` and :func:`torch_of` fall back
to those keys, so they render as they did.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from pipeline.core.atomic import write_json

RUN_FACTS_NAME = "run.json"  # beside each metrics.json
# Keys that say where a result came from; none of them may appear in a file `dvc metrics` reads.
MACHINE_KEYS = ("device", "threads", "torch", "torch_version", "python", "python_version", "onnxruntime")


def run_facts(device: Any) -> dict[str, Any]:
    """The facts of a run on ``device`` in this process: device (as :func:`device_name` prints it), torch's
    thread count, torch and Python versions."""
    import torch

    from pipeline.core.devices import device_name

    return {"device": device_name(device), "threads": torch.get_num_threads(), "torch": torch.__version__,
            "python": platform.python_version()}


def write_run_facts(folder: str | os.PathLike, facts: dict[str, Any]) -> Path:
    """``folder/run.json``, written atomically; returns its path."""
    path = Path(folder) / RUN_FACTS_NAME
    write_json(path, facts)
    return path


def read_facts(path: str | os.PathLike) -> dict[str, Any]:
    """A run-facts file, or {} when there is none (outputs from before the split); invalid JSON names the file."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    return data if isinstance(data, dict) else {}


def read_run_facts(folder: str | os.PathLike) -> dict[str, Any]:
    """``folder/run.json`` (the facts of the metrics.json beside it), or {}."""
    return read_facts(Path(folder) / RUN_FACTS_NAME)


def benchmark_facts_path(benchmark_dir: str | os.PathLike) -> Path:
    """Where the benchmark stage keeps its run facts: beside the folder (everything inside it is a DVC metric)."""
    folder = Path(benchmark_dir)
    return folder.with_name(folder.name + "_run.json")


def device_of(metrics: dict | None, facts: dict | None) -> str | None:
    """The device a result was produced on: its run facts, else (outputs from before the split) its metrics."""
    return (facts or {}).get("device") or (metrics or {}).get("device") or None


def torch_of(metrics: dict | None, facts: dict | None) -> str | None:
    """The torch version a result was produced with, the same way."""
    return (facts or {}).get("torch") or (metrics or {}).get("torch_version") or None


def machine_keys_in(data: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every machine key anywhere in ``data`` (a metrics file must have none)."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}{key}"
            if key in MACHINE_KEYS:
                found.append(path)
            found += machine_keys_in(value, path + ".")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += machine_keys_in(value, f"{prefix}{i}.")
    return found
