"""The one strict params check: the schema, then every model and loss spec through its own registry.

Each stage calls :func:`load_params` before doing any work, so the first stage of ``dvc repro`` (and
the Prefect coordinator's plan, and a profile before it is applied) refuses
``distill.runs.E1.loss.alpha: -1`` before the teacher trains. The registries need torch, so every stage
that loads params lists ``pipeline/models`` and ``pipeline/training`` in dvc.yaml, and ``pipeline/sources``,
whose modules declare their own keys (tests/test_dependencies.py).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.params import PARAMS_FILE, check_schema, registry_specs, with_sources
from pipeline.core.specs import ParamsError, Section
from pipeline.core.typed import Record, trace_to_env_folder, typed
from pipeline.sources.registry import data_options, source_sections


@cache
def schema() -> Section:
    """params.yaml's whole schema: pipeline/core's, with each data source's own keys (its module declares them)."""
    return with_sources(data_options(), source_sections())


def _registry_checks(params: dict[str, Any]) -> None:
    """Every loss spec through the loss registry (name, keys, ranges: ``alpha >= 0``...), every model spec
    through the model registry (family, keys, option ranges); the architectures' size limits need the data's class count
    and are checked by the training stages (``check_input_size``)."""
    from pipeline.models import normalise_spec  # here, not at the top: they import torch, a check may not be run
    from pipeline.training.losses import build_loss

    for registry, key, value in registry_specs(schema(), params):
        try:
            if registry == "loss":
                build_loss(value, where=key)
            elif registry == "model":
                normalise_spec(value, where=f"params.yaml: {key}")
            else:
                raise ParamsError(f"params.yaml: {key}: no registry {registry!r} to check it")
        except ParamsError:
            raise
        except ValueError as exc:
            raise ParamsError(str(exc)) from None


def check_params(raw: Any) -> dict[str, Any]:
    """The whole params tree checked (:func:`pipeline.core.params.check_schema`, then the registries); returns
    it normalised (floats as float)."""
    params = check_schema(raw, schema())
    _registry_checks(params)
    return params


def load_params(path: str | Path = PARAMS_FILE) -> Record:
    """Read and check params.yaml; raise ParamsError/FileNotFoundError naming what is wrong. Returns the typed,
    frozen tree (pipeline.core.typed): checked here once, read by attribute or key downstream."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run stages from the repository root")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    trace_to_env_folder()  # what this stage reads from here on, when a test asks (PIPELINE_PARAMS_TRACE)
    return typed(schema(), check_params(raw))
