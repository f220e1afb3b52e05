"""DVC stage export: every trained model to ONNX (metadata + parity check) with a model card beside it.

    python -m stages.export --models models --out models/export

Runs are found by the ``kind``/``run`` their metrics.json carries (teacher, each distill run,
``baseline_<student>``, ``emoxnet_lite`` and ``emoxnet_lite_baseline``); writes <out>/<run>.onnx and
<run>.md, plus <out>/index.json (parity, hashes).

Every output is a function of the checkpoints alone, so an unchanged re-run writes the same bytes and
DVC's hashes in dvc.lock do not move: each model is stamped with its checkpoint's md5 (the hash
dvc.lock records for model.pt; `git log -S <md5> dvc.lock` finds the commit that produced it), not
with the checkout's commit, which a commit of the outputs themselves would change (and mark
``+dirty`` mid-run). Export times go to the log only.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pipeline.core.atomic import write_json
from pipeline.core.naming import EXPORTED_KINDS, run_key
from pipeline.core.stage import run_stage, stage_parser
from pipeline.core.stale import remove_stale
from pipeline.export import ExportMeta, export_bundle
from pipeline.export.onnx_export import file_digest
from pipeline.inputs.contract import InputContract
from pipeline.models import count_parameters, load_model
from pipeline.params.load import load_params

log = logging.getLogger("export")

_TIMING_KEYS = ("export_seconds", "total_seconds")  # logged, kept out of index.json (they differ every run)
_METRIC_KEYS = ("kind", "run", "model", "params", "T", "alpha", "seeds", "val_acc", "test_acc", "test_acc_std",
                "test_loss")


def trained_runs(models_dir: Path) -> dict[str, tuple[Path, dict]]:
    """Export name -> (checkpoint, training metrics) for every run folder under ``models_dir``."""
    found = {}
    for metrics_file in sorted(models_dir.glob("**/metrics.json")):
        metrics = json.loads(metrics_file.read_text())
        checkpoint = metrics_file.with_name("model.pt")
        if metrics.get("kind") in EXPORTED_KINDS and "run" in metrics and checkpoint.exists():
            found[run_key(metrics["kind"], metrics["run"])] = (checkpoint, metrics)
    order = {kind: i for i, kind in enumerate(EXPORTED_KINDS)}  # teacher, distill runs, baselines, EmoXNetLite
    return dict(sorted(found.items(), key=lambda item: order[item[1][1]["kind"]]))


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--models", required=True, type=Path, help="folder of training runs")
    parser.add_argument("--out", required=True, type=Path, help="output folder for .onnx, .md and index.json")
    args = parser.parse_args(argv)
    params = load_params()
    index = {}
    runs = trained_runs(args.models)
    if not runs:
        raise FileNotFoundError(f"no trained run (model.pt + metrics.json) under {args.models}")
    for name, (checkpoint, metrics) in runs.items():
        model, meta = load_model(checkpoint)
        extra = {k: metrics.get(k) for k in _METRIC_KEYS if k in metrics}
        extra.update({"name": name, "model": meta.get("name", extra.get("model")), "params": count_parameters(model),
                      "data_source": meta.get("dataset", metrics.get("dataset", "unknown")),
                      "checkpoint": str(checkpoint), "checkpoint_md5": file_digest(checkpoint, "md5")})
        export_meta = ExportMeta.from_contract(InputContract.from_meta(meta, where=str(checkpoint)), extra)
        index[name] = export_bundle(model, name, args.out, export_meta, atol=params["benchmark"]["onnx_atol"])
        seconds = {key: index[name].pop(key) for key in _TIMING_KEYS if key in index[name]}
        log.info("%s: exported in %.2f s (%.1f MiB), parity %.1e%s", name, seconds.get("export_seconds", float("nan")),
                 index[name]["size_mib"], index[name]["parity_max_abs_diff"],
                 "  [trained on SYNTHETIC data]" if export_meta.synthetic else "")
    write_json(args.out / "index.json", {"models": index})
    # A run no longer trained (e.g. removed from distill.runs) is not offered to analyze.
    for stale in remove_stale(args.out, ["*.onnx", "*.md"], index):
        log.info("removed %s (no trained run %r any more)", stale, stale.stem)


if __name__ == "__main__":
    run_stage(main)
