"""Our models' layout and size, read off the models themselves: channels per layer (Table II) and the
parameter count (Tables I, II, VI) when no benchmark report has it."""

from __future__ import annotations

from pipeline.reporting import paper
from pipeline.reporting.model import ReportInputs


def model_layout(spec: dict) -> dict | None:
    """Channels per layer and the parameter count, read off our model built on the meta device (no memory)."""
    import torch

    from pipeline.models import build_model, count_parameters

    try:
        with torch.device("meta"):
            model = build_model(spec, len(paper.CLASS_NAMES))
    except (ValueError, TypeError):
        return None
    if not all(hasattr(model, a) for a in ("conv1", "conv2", "conv3", "se", "res_block1")):
        return {"params": count_parameters(model)}
    return {"cnn": tuple(getattr(model, f"conv{i}").out_channels for i in (1, 2, 3)),
            "se": model.se.fc[0].in_features,
            "rb": tuple(getattr(model, f"res_block{i}").conv1.in_channels for i in (1, 2, 3)),
            "params": count_parameters(model)}


def our_params(inputs: ReportInputs, name: str) -> int | None:
    """A model's parameter count: its benchmark report's, else counted on the model built from params."""
    bench = inputs.benchmarks.get(name) or {}
    if bench.get("params") is not None:
        return int(bench["params"])
    return (model_layout(inputs.models[name]) or {}).get("params") if name in inputs.models else None
