"""Inference memory, measured where it is honest: CUDA's allocator peak on a GPU; on a CPU the peak
resident-set increase of one batch-1 forward in a fresh subprocess, so nothing else the parent
process allocated (other models, data) is counted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

_REPO_ROOT = Path(__file__).resolve().parents[2]

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


def cpu_peak_memory_mib(spec: dict, input_size: int, classes: int, threads: int | None = None) -> dict[str, Any]:
    """Peak RSS increase of one batch-1 forward in a fresh subprocess, above the built model's RSS."""
    threads = threads or torch.get_num_threads()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, json.dumps(spec), str(input_size), str(threads),
                           str(classes)],
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
