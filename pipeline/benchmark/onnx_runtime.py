"""ONNX Runtime latency of an architecture, through the project's one ONNX export and parity check
(``pipeline.export``: same exporter, opset and metadata as the shipped files)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch

from pipeline.benchmark.speed import latency_stats, time_calls
from pipeline.core.constants import IMAGENET_MEAN, IMAGENET_STD
from pipeline.export import ExportMeta, check_parity, export_onnx


def onnx_latency(model: torch.nn.Module, input_size: int, num_classes: int, runs: int, warmup: int,
                 atol: float) -> dict[str, Any]:
    """Export to ONNX, check it against PyTorch (raises beyond ``atol``), time onnxruntime (CPU) batch-1 latency."""
    import onnxruntime as ort

    cpu_model = model.to("cpu").eval()
    meta = ExportMeta(class_names=tuple(f"class_{i}" for i in range(num_classes)), input_size=input_size,
                      mean=IMAGENET_MEAN, std=IMAGENET_STD, extra={"data_source": "untrained (benchmark)"})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_s = export_onnx(cpu_model, path, meta)
        max_abs_diff = check_parity(cpu_model, path, meta, atol=atol)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        file_mib = path.stat().st_size / 2**20
        feed = {meta.input_name: torch.randn(1, meta.channels, input_size, input_size,
                                             generator=torch.Generator().manual_seed(0)).numpy()}
        stats = latency_stats(time_calls(lambda: session.run(None, feed), runs, warmup))
    return {
        "input_size": input_size,
        "file_size_mib": file_mib,
        "export_seconds": export_s,
        "latency_ms_b1": stats["latency_ms_b1"],
        "latency_ms_b1_p90": stats["latency_ms_b1_p90"],
        "max_abs_diff_vs_torch": max_abs_diff,
        "tolerance": atol,
        "parity_ok": True,
    }  # onnxruntime's version and provider: the benchmark stage's run facts (pipeline.core.runfacts)


def onnx_runtime_words() -> str:
    """The runtime the ONNX latency is timed with, for the run facts (e.g. "1.22.0 CPUExecutionProvider")."""
    import onnxruntime as ort

    return f"{ort.__version__} CPUExecutionProvider"
