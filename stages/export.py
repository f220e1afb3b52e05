"""DVC stage `export`: every trained model to ONNX (metadata + parity check) with a model card.

Usage: python -m stages.export [out_dir]     (default models/export)
Writes <out_dir>/<run>.onnx and <run>.md for the teacher, each distill run (E1..) and each
baseline student (baseline_<student>), plus <out_dir>/index.json (times, parity, hashes).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from stages.common import TEACHER, load_params, run_stage

log = logging.getLogger("export")

_METRIC_KEYS = ("kind", "run", "model", "params", "T", "alpha", "seeds", "val_acc", "test_acc", "test_acc_std",
                "test_loss")


def trained_models(params: dict) -> dict[str, Path]:
    """Export name -> checkpoint, in params.yaml's order (teacher, distill runs, baselines)."""
    out = {"teacher": Path(TEACHER)}
    out.update({run: Path("models/distill") / run / "model.pt" for run in params["distill"]["runs"]})
    out.update({f"baseline_{s}": Path("models/baseline") / s / "model.pt" for s in params["baseline"]["students"]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", nargs="?", default="models/export")
    args = parser.parse_args()

    from pipeline.atomic import write_json
    from pipeline.constants import CLASS_NAMES, IMAGENET_MEAN, IMAGENET_STD
    from pipeline.export import ExportMeta, export_bundle, git_commit
    from pipeline.models import count_parameters, load_model

    params = load_params()
    atol = float(params.get("benchmark", {}).get("onnx_atol", 1e-3))
    commit = git_commit()
    index = {}
    for name, checkpoint in trained_models(params).items():
        model, meta = load_model(checkpoint)
        metrics_file = checkpoint.with_name("metrics.json")
        metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
        extra = {k: metrics.get(k) for k in _METRIC_KEYS if k in metrics}
        extra.update({"name": name, "model": meta.get("name", extra.get("model")), "params": count_parameters(model),
                      "data_source": meta.get("dataset", metrics.get("dataset", "unknown")),
                      "checkpoint": str(checkpoint), "git_commit": commit})
        export_meta = ExportMeta(class_names=CLASS_NAMES, input_size=int(meta["input_size"]), mean=IMAGENET_MEAN,
                                 std=IMAGENET_STD, channels=3, image_mode="grayscale", extra=extra)
        index[name] = export_bundle(model, name, args.out_dir, export_meta, atol=atol)
        log.info("%s: exported in %.2f s (%.1f MiB), parity %.1e%s", name, index[name]["export_seconds"],
                 index[name]["size_mib"], index[name]["parity_max_abs_diff"],
                 "  [trained on SYNTHETIC data]" if export_meta.synthetic else "")
    write_json(Path(args.out_dir) / "index.json", {"git_commit": commit, "models": index})


if __name__ == "__main__":
    run_stage(main)
