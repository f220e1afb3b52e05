"""Efficiency of one architecture (the paper's Table V): size, FLOPs, inference memory, latency, throughput.

Every number is tied to the device it was measured on (the stage's run facts, :mod:`pipeline.core.runfacts`,
kept beside the reports). Latency and throughput are timed on
random inputs after warm-up (weights are untrained: speed does not depend on them), with the
one speed measurement of :mod:`pipeline.benchmark.speed`; memory as :mod:`pipeline.benchmark.memory`
says; ONNX Runtime latency through the project's one ONNX export (:mod:`pipeline.benchmark.onnx_runtime`).
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from pipeline.benchmark.memory import cpu_peak_memory_mib, cuda_peak_memory_mib
from pipeline.benchmark.speed import speed_at_size, time_forward
from pipeline.models import build_model, count_parameters, normalise_spec, save_model

# Table V compares architectures with the paper's 7-class head (the head is < 0.01 % of any model's cost).
HEAD_CLASSES = 7


@dataclass(frozen=True)
class BenchmarkSettings:
    """params.yaml's ``benchmark`` section (see there for why each value is what it is), with every size to
    measure gathered in ``input_sizes``. No defaults: the values come from the loaded, checked params."""

    latency_runs: int
    warmup_runs: int
    throughput_batch: int
    throughput_runs: int
    onnx: bool
    onnx_atol: float
    input_sizes: tuple[int, ...]
    primary_input_size: int

    @classmethod
    def from_params(cls, section: Mapping[str, Any], train_input_size: int | None = None) -> "BenchmarkSettings":
        """The loaded ``benchmark`` section; the training input size and the primary size are always measured too."""
        sizes = {*section["input_sizes"], section["primary_input_size"],
                 *([train_input_size] if train_input_size is not None else [])}
        return cls(latency_runs=section["latency_runs"], warmup_runs=section["warmup_runs"],
                   throughput_batch=section["throughput_batch"], throughput_runs=section["throughput_runs"],
                   onnx=section["onnx"], onnx_atol=section["onnx_atol"], input_sizes=tuple(sorted(int(s) for s in sizes)),
                   primary_input_size=int(section["primary_input_size"]))


def size_mib_fp32(params: int) -> float:
    """Float32 weight bytes in MiB (the paper's model-size convention)."""
    return params * 4 / 2**20


def state_dict_file_mib(model: torch.nn.Module) -> float:
    """Size of the checkpoint save_model writes (weights + spec), in MiB."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.pt"
        save_model(path, model)
        return path.stat().st_size / 2**20


def measure_at_size(model: torch.nn.Module, spec: dict, input_size: int, device: torch.device,
                    settings: BenchmarkSettings, with_memory: bool = True) -> dict[str, Any]:
    """FLOPs, batch-1 latency, throughput and (``with_memory``) peak inference memory at one input size."""
    speed = speed_at_size(model, input_size, settings.latency_runs, settings.warmup_runs)
    result: dict[str, Any] = {"input_size": input_size, "flops_per_image": speed.pop("flops_per_image")}
    if with_memory and device.type == "cuda":
        result.update(cuda_peak_memory_mib(model, input_size, device))
    elif with_memory:
        result.update(cpu_peak_memory_mib(spec, input_size, HEAD_CLASSES))
    result.update(speed)
    batch = torch.randn(settings.throughput_batch, 3, input_size, input_size, device=device)
    seconds = time_forward(model, batch, settings.throughput_runs, warmup=1)
    result["throughput_img_s"] = settings.throughput_batch / statistics.median(seconds)
    result["throughput_batch"] = settings.throughput_batch
    return result


def benchmark_model(name: str, spec: dict, device: torch.device | str,
                    settings: BenchmarkSettings, seed: int = 0) -> dict[str, Any]:
    """All Table V numbers of one architecture; flat fields are at ``settings.primary_input_size``."""
    device = torch.device(device)
    spec = normalise_spec(spec, f"models.{name}")
    torch.manual_seed(seed)
    model = build_model(spec, HEAD_CLASSES, where=f"models.{name}").eval().to(device)
    params = count_parameters(model)
    report: dict[str, Any] = {
        "model": name,
        "spec": {**spec, "num_classes": HEAD_CLASSES},
        "params": params,
        "size_mib_fp32": size_mib_fp32(params),
        "file_size_mib": state_dict_file_mib(model),
        "settings": {k: v for k, v in settings.__dict__.items()},
    }
    by_size = {}
    for size in tqdm(settings.input_sizes, desc=f"benchmark {name}", unit="size", leave=False):
        # Memory only at the primary size: on a CPU each measurement costs a fresh interpreter.
        by_size[str(size)] = measure_at_size(model, spec, size, device, settings,
                                             with_memory=size == settings.primary_input_size)
    report["by_input_size"] = by_size
    report.update({k: v for k, v in by_size[str(settings.primary_input_size)].items()})
    if settings.onnx:
        from pipeline.benchmark.onnx_runtime import onnx_latency

        report["onnx"] = onnx_latency(model, settings.primary_input_size, HEAD_CLASSES, settings.latency_runs,
                                      settings.warmup_runs, settings.onnx_atol)
    return report
