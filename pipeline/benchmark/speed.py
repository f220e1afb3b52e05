"""Speed of a network, measured one way for every table: FLOPs per image and batch-1 latency after warm-up.

The benchmark stage (Table V), the EmoXNet report and the ONNX Runtime latency all time their calls
with :func:`time_calls`, so "ms per image" means the same everywhere on one device.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class Speed:
    params: int
    flops: int  # per image at the measured input size
    latency_ms: float  # median batch-1 latency


def sync(device: torch.device) -> None:
    """Wait for the device's queued work, so a timer around a call measures the call (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_calls(call: Callable[[], Any], runs: int, warmup: int, sync: Callable[[], None] = lambda: None) -> list[float]:
    """Wall-clock seconds of each of ``runs`` calls, after ``warmup`` untimed ones; ``sync`` waits for the device."""
    for _ in range(warmup):
        call()
    sync()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        sync()
        times.append(time.perf_counter() - start)
    return times


@torch.no_grad()
def time_forward(model: torch.nn.Module, batch: torch.Tensor, runs: int, warmup: int) -> list[float]:
    """Wall-clock seconds of each of ``runs`` forwards, after ``warmup`` untimed ones."""
    return time_calls(lambda: model(batch), runs, warmup, sync=lambda: sync(batch.device))


def latency_stats(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1e3
    return {"latency_ms_b1": float(statistics.median(ms)), "latency_ms_b1_p90": float(np.percentile(ms, 90))}


def flops_per_image(model: torch.nn.Module, input_size: int, channels: int = 3) -> int:
    """FLOPs of one forward pass on one image, counted by torch.utils.flop_counter (a multiply-add = 2)."""
    device = next(model.parameters()).device
    x = torch.zeros(1, channels, input_size, input_size, device=device)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    return int(counter.get_total_flops())


def speed_at_size(model: torch.nn.Module, input_size: int, runs: int, warmup: int, channels: int = 3) -> dict[str, Any]:
    """FLOPs per image and batch-1 latency (median, p90) of an eval-mode ``model`` at ``input_size``."""
    device = next(model.parameters()).device
    one = torch.randn(1, channels, input_size, input_size, device=device)
    return {"flops_per_image": flops_per_image(model, input_size, channels),
            **latency_stats(time_forward(model, one, runs, warmup))}


def benchmarked_speed(checkpoint: str | os.PathLike, input_size: int, report: dict[str, Any] | None) -> Speed:
    """Params and FLOPs of a saved model (fed as its checkpoint's contract says), counted; its batch-1
    latency from the benchmark stage's ``report`` of the architecture, so a report built from it never
    times anything and re-runs to the same bytes."""
    from pipeline.inputs.contract import InputContract
    from pipeline.models import count_parameters, load_model

    if report is None or report.get("input_size") != input_size:
        raise FileNotFoundError(f"no benchmark of {checkpoint}'s architecture at {input_size}x{input_size}: "
                                "run `dvc repro benchmark` (params emoxnet.models, benchmark.primary_input_size)")
    model, meta = load_model(checkpoint, map_location="cpu")
    channels = InputContract.from_meta(meta, where=str(checkpoint)).channels
    return Speed(count_parameters(model), flops_per_image(model.eval(), input_size, channels),
                 float(report["latency_ms_b1"]))
