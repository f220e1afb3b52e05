"""The benchmark stage's bookkeeping: measure an architecture only when what it depends on changed.

Speed numbers differ on every measurement, so the benchmark stage is the one place that takes them
(training and export wall times go to logs). DVC re-runs the stage when ``models``, the benchmark
settings or the code change; inside the stage each architecture is re-measured only when its own
identity changed (its spec, the settings, the device, torch and the code it runs), so adding a
model or changing one spec leaves every other report byte-identical and out of ``dvc metrics diff``.
The report's ``identity`` holds spec, settings and code; the machine half (device, torch) is the
architecture's entry in the run-facts file beside the folder (:mod:`pipeline.core.runfacts`), since
every file inside the folder is a DVC metric.

The EmoXNet architectures (params ``emoxnet.models``) get their batch-1 latency here as well, in
``<benchmarks>/emoxnet/<model>.json``; the ``emoxnet_report`` stage reads it instead of timing
models itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch

from pipeline.benchmark.benchmarking import HEAD_CLASSES, BenchmarkSettings
from pipeline.benchmark.speed import flops_per_image, latency_stats, time_forward
from pipeline.models import build_model, count_parameters, normalise_spec

_PACKAGE = Path(__file__).resolve().parents[1]
# The code a measurement runs: the benchmark package and every model family.
_CODE = ("benchmark", "models")


def code_digest() -> str:
    """sha256 over the sources a measurement depends on (a code change re-measures everything)."""
    h = hashlib.sha256()
    for rel in _CODE:
        path = _PACKAGE / rel
        for file in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            h.update(file.relative_to(_PACKAGE).as_posix().encode())
            h.update(file.read_bytes())
    return h.hexdigest()


def identity(spec: dict, settings: BenchmarkSettings | dict, code: str) -> dict[str, Any]:
    """What one architecture's numbers depend on, the machine aside; stored in its report as ``identity``."""
    values = settings.__dict__ if isinstance(settings, BenchmarkSettings) else settings
    return {"spec": dict(spec), "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()},
            "code_sha256": code}


# The run facts that decide whether a measurement still holds: the same device (threads included) and torch.
MACHINE = ("device", "torch")


def still_valid(report: dict[str, Any] | None, wanted: dict[str, Any], facts: dict[str, Any] | None,
                machine: dict[str, Any]) -> bool:
    """True when a previous report was measured with exactly this identity on this machine (so it is kept as is);
    ``facts`` are the run facts recorded with it, ``machine`` this process's."""
    return (isinstance(report, dict) and report.get("identity") == wanted and isinstance(facts, dict)
            and all(facts.get(k) == machine.get(k) for k in MACHINE))


@torch.no_grad()
def latency_report(name: str, spec: dict, device: torch.device, settings: BenchmarkSettings) -> dict[str, Any]:
    """Params, FLOPs per image and batch-1 latency (median, p90) of an untrained ``spec`` at the primary size."""
    spec = normalise_spec(spec, f"emoxnet.models.{name}")
    torch.manual_seed(0)
    model = build_model(spec, HEAD_CLASSES, where=f"emoxnet.models.{name}").eval().to(device)
    size = settings.primary_input_size
    seconds = time_forward(model, torch.randn(1, 3, size, size, device=device), settings.latency_runs,
                           settings.warmup_runs)
    return {"model": name, "params": count_parameters(model), "input_size": size,
            "flops_per_image": flops_per_image(model, size), **latency_stats(seconds)}
