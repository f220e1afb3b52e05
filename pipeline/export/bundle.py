"""Export one trained model as a bundle: ``<name>.onnx`` (with metadata), ``<name>.md`` (model card),
after a parity check; returns the numbers the export stage records."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from torch import nn

from pipeline.core.atomic import write_text
from pipeline.export.metadata import ExportMeta
from pipeline.export.model_card import model_card
from pipeline.export.onnx_export import export_onnx, file_sha256
from pipeline.export.parity import check_parity


def export_bundle(model: nn.Module, name: str, out_dir: str | os.PathLike, meta: ExportMeta,
                  atol: float = 1e-3) -> dict[str, Any]:
    """Write ``out_dir/<name>.onnx`` and ``out_dir/<name>.md``; raises if the parity check fails."""
    started = time.perf_counter()
    onnx_path = Path(out_dir) / f"{name}.onnx"
    export_s = export_onnx(model, onnx_path, meta)
    diff = check_parity(model, onnx_path, meta, atol=atol)
    sha = file_sha256(onnx_path)
    write_text(onnx_path.with_suffix(".md"), model_card(name, meta, onnx_path.name, sha, diff))
    return {"file": onnx_path.name, "sha256": sha, "size_mib": onnx_path.stat().st_size / 2**20,
            "export_seconds": export_s, "total_seconds": time.perf_counter() - started,
            "parity_max_abs_diff": diff, "parity_atol": atol, "data_source": meta.data_source,
            "trained_on_synthetic_data": meta.synthetic, "test_acc": meta.extra.get("test_acc")}
