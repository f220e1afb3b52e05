"""Efficiency of one architecture (the paper's Table V): size, FLOPs, inference memory, latency, throughput.

Every number is tied to the device it was measured on. Latency and throughput are timed on
random inputs after warm-up (weights are untrained: speed does not depend on them). Inference
memory is measured where it is honest: CUDA's allocator peak on a GPU; on a CPU the peak
resident-set increase of one batch-1 forward in a fresh subprocess, so nothing else the parent
process allocated (other models, data) is counted.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode
from tqdm import tqdm

from pipeline.core.devices import device_name
from pipeline.models import build_model, count_parameters, normalise_spec, save_model

PAPER_INPUT_SIZE = 64  # the paper's input resolution: Table V numbers are compared at this size
# Table V compares architectures with the paper's 7-class head (the head is < 0.01 % of any model's cost).
HEAD_CLASSES = 7
_REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class BenchmarkSettings:
    """params.yaml's ``benchmark`` section (see there for why each default is what it is)."""

    latency_runs: int = 50
    warmup_runs: int = 5
    throughput_batch: int = 32
    throughput_runs: int = 2
    onnx: bool = False
    onnx_atol: float = 1e-3
    input_sizes: tuple[int, ...] = (PAPER_INPUT_SIZE,)
    primary_input_size: int = PAPER_INPUT_SIZE

    @classmethod
    def from_params(cls, section: dict, train_input_size: int | None = None) -> "BenchmarkSettings":
        """Build from the params section; the training input size is always measured too."""
        known = set(cls.__dataclass_fields__)
        unknown = set(section) - known
        if unknown:
            raise ValueError(f"params.yaml benchmark: unknown keys {sorted(unknown)} (known: {sorted(known)})")
        values = dict(section)
        sizes = [int(s) for s in values.pop("input_sizes", [PAPER_INPUT_SIZE])]
        if train_input_size is not None:
            sizes.append(int(train_input_size))
        primary = int(values.pop("primary_input_size", PAPER_INPUT_SIZE))
        sizes.append(primary)
        return cls(input_sizes=tuple(sorted(set(sizes))), primary_input_size=primary, **values)


def size_mib_fp32(params: int) -> float:
    """Float32 weight bytes in MiB (the paper's model-size convention)."""
    return params * 4 / 2**20


def state_dict_file_mib(model: torch.nn.Module) -> float:
    """Size of the checkpoint save_model writes (weights + spec), in MiB."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.pt"
        save_model(path, model)
        return path.stat().st_size / 2**20


def flops_per_image(model: torch.nn.Module, input_size: int) -> int:
    """FLOPs of one forward pass on one image, counted by torch.utils.flop_counter (a multiply-add = 2)."""
    device = next(model.parameters()).device
    x = torch.zeros(1, 3, input_size, input_size, device=device)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    return int(counter.get_total_flops())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def time_forward(model: torch.nn.Module, batch: torch.Tensor, runs: int, warmup: int) -> list[float]:
    """Wall-clock seconds of each of ``runs`` forwards, after ``warmup`` untimed ones."""
    device = batch.device
    for _ in range(warmup):
        model(batch)
    _sync(device)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        model(batch)
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


def latency_stats(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1e3
    return {"latency_ms_b1": float(statistics.median(ms)), "latency_ms_b1_p90": float(np.percentile(ms, 90))}


# Run in a fresh interpreter: build, reset the kernel's peak-RSS mark, one forward, report.
_MEMORY_SCRIPT = r"""
import gc, json, resource, sys
import torch
from pipeline.models import build_model

spec, size, threads, classes = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)

def status_kib(key):
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None

model = build_model(spec, classes).eval()
x = torch.zeros(1, 3, size, size)
gc.collect()
reset = False
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset VmHWM (peak RSS) to the current RSS
    reset = True
except OSError:
    pass
before = status_kib("VmRSS")
if before is None:
    import psutil
    before = psutil.Process().memory_info().rss // 1024
with torch.no_grad():
    model(x)
peak = status_kib("VmHWM") if reset else None
method = "VmHWM after clear_refs"
if peak is None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux; lifetime peak
    method = "ru_maxrss (lifetime peak; may understate)"
print(json.dumps({"before_kib": before, "peak_kib": peak, "method": method}))
"""


def cpu_peak_memory_mib(spec: dict, input_size: int, threads: int | None = None) -> dict[str, Any]:
    """Peak RSS increase of one batch-1 forward in a fresh subprocess, above the built model's RSS."""
    threads = threads or torch.get_num_threads()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, json.dumps(spec), str(input_size), str(threads),
                           str(HEAD_CLASSES)],
                          capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"memory subprocess failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "peak_inference_memory_mib": max(0, result["peak_kib"] - result["before_kib"]) / 1024,
        "process_peak_rss_mib": result["peak_kib"] / 1024,
        "memory_method": (f"CPU: peak RSS increase of one batch-1 forward in a fresh subprocess, "
                          f"above the RSS with the model built ({result['method']})"),
    }


@torch.no_grad()
def cuda_peak_memory_mib(model: torch.nn.Module, input_size: int, device: torch.device) -> dict[str, Any]:
    """CUDA allocator peak of one batch-1 forward above the resident weights."""
    x = torch.zeros(1, 3, input_size, input_size, device=device)
    model(x)  # first call: cuDNN workspaces and lazy init out of the way
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    model(x)
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device)
    return {
        "peak_inference_memory_mib": (peak - base) / 2**20,
        "process_peak_rss_mib": None,
        "peak_total_cuda_memory_mib": peak / 2**20,
        "memory_method": "CUDA: torch.cuda.max_memory_allocated of a batch-1 forward minus the allocated weights",
    }


def onnx_check(model: torch.nn.Module, input_size: int, settings: BenchmarkSettings) -> dict[str, Any]:
    """Export to ONNX, time onnxruntime (CPU) batch-1 latency, and check its output against PyTorch's."""
    import onnxruntime as ort

    cpu_model = model.to("cpu").eval()
    x = torch.randn(1, 3, input_size, input_size, generator=torch.Generator().manual_seed(0))
    check = torch.randn(4, 3, input_size, input_size, generator=torch.Generator().manual_seed(1))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        started = time.perf_counter()
        # The TorchScript exporter: ~1 s per model here against ~8 s for the torch.export one
        # (measured, torch 2.13, 2 CPU cores); both give the same outputs to 1e-8.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the exporter's own deprecation notices
            torch.onnx.export(cpu_model, (x,), str(path), dynamo=False, input_names=["input"],
                              output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        export_s = time.perf_counter() - started
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        file_mib = path.stat().st_size / 2**20
        onnx_out = session.run(None, {"input": check.numpy()})[0]
        with torch.no_grad():
            torch_out = cpu_model(check).numpy()
        max_abs_diff = float(np.abs(onnx_out - torch_out).max())
        if not max_abs_diff <= settings.onnx_atol:
            raise RuntimeError(f"ONNX output differs from PyTorch by {max_abs_diff:.3g} > tolerance {settings.onnx_atol}")
        feed = {"input": x.numpy()}
        for _ in range(settings.warmup_runs):
            session.run(None, feed)
        times = []
        for _ in range(settings.latency_runs):
            started = time.perf_counter()
            session.run(None, feed)
            times.append(time.perf_counter() - started)
    stats = latency_stats(times)
    return {
        "input_size": input_size,
        "file_size_mib": file_mib,
        "export_seconds": export_s,
        "latency_ms_b1": stats["latency_ms_b1"],
        "latency_ms_b1_p90": stats["latency_ms_b1_p90"],
        "max_abs_diff_vs_torch": max_abs_diff,
        "tolerance": settings.onnx_atol,
        "parity_ok": True,
        "device": f"onnxruntime {ort.__version__} CPUExecutionProvider, "
                  f"{device_name('cpu').removeprefix('cpu: ')}",
    }


def measure_at_size(model: torch.nn.Module, spec: dict, input_size: int, device: torch.device,
                    settings: BenchmarkSettings, with_memory: bool = True) -> dict[str, Any]:
    """FLOPs, batch-1 latency, throughput and (``with_memory``) peak inference memory at one input size."""
    one = torch.randn(1, 3, input_size, input_size, device=device)
    result: dict[str, Any] = {"input_size": input_size, "flops_per_image": flops_per_image(model, input_size)}
    if with_memory and device.type == "cuda":
        result.update(cuda_peak_memory_mib(model, input_size, device))
    elif with_memory:
        result.update(cpu_peak_memory_mib(spec, input_size))
    result.update(latency_stats(time_forward(model, one, settings.latency_runs, settings.warmup_runs)))
    batch = torch.randn(settings.throughput_batch, 3, input_size, input_size, device=device)
    seconds = time_forward(model, batch, settings.throughput_runs, warmup=1)
    result["throughput_img_s"] = settings.throughput_batch / statistics.median(seconds)
    result["throughput_batch"] = settings.throughput_batch
    return result


def benchmark_model(name: str, spec: dict, device: torch.device | str,
                    settings: BenchmarkSettings = BenchmarkSettings(), seed: int = 0) -> dict[str, Any]:
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
        "device": device_name(device),
        "torch_version": torch.__version__,
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
        report["onnx"] = onnx_check(model, settings.primary_input_size, settings)
    return report
