"""CPU latency of ONNX files as ``analyze`` runs them (ONNX Runtime, CPUExecutionProvider): batch-1 latency
and batch-32 throughput per intra-op thread count, files measured interleaved so that a change in the
machine's load hits each file alike. Used by the release build (its card) and benchmarks/int8_latency.py.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_ms(path: str | os.PathLike, threads: int, batch: int = 1, runs: int = 300, warmup: int = 30) -> float:
    """Median wall time (ms) of one ``session.run`` on a (batch, C, S, S) input, after ``warmup`` runs."""
    from pipeline.export.metadata import read_meta

    meta = read_meta(path)
    session = _session(Path(path), threads)
    x = np.random.default_rng(0).standard_normal((batch, meta.channels, meta.input_size, meta.input_size))
    feed = {meta.input_name: x.astype(np.float32)}
    for _ in range(warmup):
        session.run(None, feed)
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter()
        session.run(None, feed)
        times[i] = time.perf_counter() - start
    return float(np.median(times) * 1e3)


def machine() -> dict[str, Any]:
    """What the numbers depend on: CPU, its int8 instructions, cores, ONNX Runtime, the load while measuring."""
    import onnxruntime as ort

    cpu, flags = None, set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and cpu is None:
                cpu = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:  # not Linux: the platform's own words
        pass
    cpu = cpu or platform.processor() or platform.machine()
    return {"cpu": cpu, "cores": os.cpu_count(), "onnxruntime": ort.__version__,
            "int8_instructions": [f for f in ("avx2", "avx512_vnni", "avx_vnni", "amx_int8") if f in flags],
            "load_average": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None}


def compare(paths: dict[str, str | os.PathLike], threads: Sequence[int] = (1, 2), repeats: int = 5,
            runs: int = 300, batch_runs: int = 40, batch: int = 32) -> dict[str, Any]:
    """Per file and thread count: batch-1 latency (ms) and batch-``batch`` throughput (images/s), each the
    median over ``repeats`` interleaved rounds (every file, every thread count, fresh sessions) of the
    median of ``runs`` (batch 1) or ``batch_runs`` (batch ``batch``) timed runs."""
    before = machine()
    one: dict[tuple[str, int], list[float]] = {}
    many: dict[tuple[str, int], list[float]] = {}
    for _ in range(repeats):
        for t in threads:
            for name, path in paths.items():
                one.setdefault((name, t), []).append(run_ms(path, t, 1, runs))
                if batch > 1:
                    many.setdefault((name, t), []).append(run_ms(path, t, batch, batch_runs, warmup=3))
    after = machine()["load_average"]
    files = {}
    for name in paths:
        files[name] = {}
        for t in threads:
            row = {"batch1_ms": round(float(np.median(one[(name, t)])), 4),
                   "batch1_ms_rounds": [round(v, 4) for v in one[(name, t)]]}
            if batch > 1:
                ms = float(np.median(many[(name, t)]))
                row.update({f"batch{batch}_ms": round(ms, 3), f"batch{batch}_images_per_s": round(batch * 1e3 / ms, 1)})
            files[name][f"threads_{t}"] = row
    return {"machine": {**before, "load_average_after": after}, "threads": list(threads), "repeats": repeats,
            "runs": runs, "batch": batch, "batch_runs": batch_runs, "files": files}


def describe(latency: dict[str, Any], names: Sequence[str]) -> str:
    """One line per file: batch-1 ms per thread count and batch throughput."""
    lines = []
    batch = latency.get("batch", 32)
    for name in names:
        per = latency["files"][name]
        ms = " / ".join(f"{per[f'threads_{t}']['batch1_ms']:.3f} ms ({t} thread{'s' if t > 1 else ''})"
                        for t in latency["threads"])
        thr = " / ".join(f"{per[f'threads_{t}'][f'batch{batch}_images_per_s']:,.0f}"
                         for t in latency["threads"] if f"batch{batch}_images_per_s" in per[f"threads_{t}"])
        lines.append(f"{name}: batch 1 {ms}" + (f"; batch {batch} {thr} images/s" if thr else ""))
    return "\n".join(lines)
