"""Which device to run on, and a readable name for it reported beside every number."""

from __future__ import annotations

import logging
import os
import platform
import sys

import torch

log = logging.getLogger(__name__)

# train.portable_kernels: CPU kernels held to the AVX2 level (ATen's vectorised kernels, oneDNN's convolutions,
# MKL's BLAS), so that two x86-64 CPUs with AVX2 (an AVX-512 Xeon, an AVX2 EPYC) compute the same bits.
PORTABLE_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2"}
# The thread count is part of the bits too (a reduction split over 2 threads sums in another order than over 1 or
# 16), so portable kernels also run a fixed number of intra-op threads, whatever the machine's core count.
PORTABLE_THREADS = 2
_REEXEC_MARK = "PIPELINE_PORTABLE_KERNELS_REEXEC"


def pin_portable_kernels() -> None:
    """Hold this process's CPU kernels to AVX2 and its intra-op threads to :data:`PORTABLE_THREADS` (README,
    "Reviewing a change"; params train.portable_kernels).

    The libraries read these variables when they first dispatch a kernel, so setting them before any
    computation is enough; if a kernel already ran at a higher level, the process restarts itself with
    them set from the start (once).
    """
    if platform.machine().lower() not in ("x86_64", "amd64"):
        log.warning("train.portable_kernels: not an x86-64 CPU (%s); kernels left as they are", platform.machine())
        return
    os.environ.update(PORTABLE_KERNELS)
    if torch.backends.cpu.get_cpu_capability() in ("AVX2", "DEFAULT"):
        torch.set_num_threads(PORTABLE_THREADS)
        return
    if os.environ.get(_REEXEC_MARK):
        raise RuntimeError("train.portable_kernels: the CPU kernels stay above AVX2 even with "
                           f"{', '.join(f'{k}={v}' for k, v in PORTABLE_KERNELS.items())} set from the start")
    os.environ[_REEXEC_MARK] = "1"
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else CPU; 'cuda' without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"params.yaml train.device is {name!r} but no CUDA device is available; use auto or cpu")
    return torch.device(name)


def device_name(device: torch.device | str) -> str:
    """A human-readable device string reported with every number."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {cpu_model()} ({torch.get_num_threads()} threads)"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
