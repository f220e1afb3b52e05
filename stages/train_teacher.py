"""DVC stage train_teacher: train the teacher (params teacher.model, teacher.loss), one model per seed, or, with
params teacher.ensemble, assemble it from trained EmoXNet members (nothing is trained).

    python -m stages.train_teacher --data data/prepared/dataset.npz --class-weights data/prepared/class_weights.json \
        --members models/emoxnet/members --out models/teacher
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pipeline.core.atomic import write_json
from pipeline.core.devices import resolve_device
from pipeline.core.naming import RunKind
from pipeline.core.runfacts import run_facts, write_run_facts
from pipeline.core.stage import run_stage, stage_parser
from pipeline.dataset.prepared import PreparedData, load_prepared
from pipeline.ensemble.teacher import assemble_ensemble, ensemble_teacher_metrics
from pipeline.inputs.contract import InputContract
from pipeline.models import save_model
from pipeline.params.load import load_params
from pipeline.training.losses import build_loss
from pipeline.training.runs import RunSpec, check_run_setup, class_weights_for, train_over_seeds

CURVES = Path("dvclive/plots/metrics")
SUMMARY = Path("dvclive/metrics.json")  # dvclive's last-epoch summary, a declared output of every training run


def assemble(params: dict, data: PreparedData, members: Path, out: Path) -> None:
    """The ensemble teacher: model.pt, metrics.json, run.json, each member's curves under
    dvclive/plots/metrics/members/ and their dvclive summaries in dvclive/metrics.json (it trains nothing itself)."""
    ensemble = params["teacher"]["ensemble"]
    device = resolve_device(params["train"]["device"])
    size, batch = params["train"]["input_size"], params["train"]["eval_batch_size"]
    checkpoints = {name: members / name / "model.pt" for name in ensemble["members"]}
    model, rows = assemble_ensemble(checkpoints, ensemble["rule"], data, device, batch)
    metrics = ensemble_teacher_metrics(model, rows, ensemble["rule"], data, size, device, batch)
    contract = InputContract.for_images(data.images, data.class_names, size)
    save_model(out / "model.pt", model, name="ensemble", kind=RunKind.TEACHER, run="teacher", dataset=data.source,
               members=list(ensemble["members"]), **contract.to_meta())
    curves = out / CURVES
    shutil.rmtree(curves, ignore_errors=True)
    for name in ensemble["members"]:
        if (members / name / CURVES).exists():
            shutil.copytree(members / name / CURVES, curves / "members" / name)
    curves.mkdir(parents=True, exist_ok=True)
    summaries = {name: json.loads((members / name / SUMMARY).read_text())
                 for name in ensemble["members"] if (members / name / SUMMARY).exists()}
    write_json(out / SUMMARY, {"members": summaries})
    write_json(out / "metrics.json", metrics)
    write_run_facts(out, run_facts(device))


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--data", required=True, help="prepared dataset (.npz)")
    parser.add_argument("--class-weights", required=True, help="class_weights.json")
    parser.add_argument("--members", type=Path, default=Path("models/emoxnet/members"),
                        help="folder of trained EmoXNet members (<name>/model.pt), read with teacher.ensemble")
    parser.add_argument("--out", required=True, type=Path, help="run folder: model.pt, metrics.json, dvclive/")
    args = parser.parse_args(argv)
    params = load_params()
    data = load_prepared(args.data)
    if "ensemble" in params["teacher"]:
        assemble(params, data, args.members, args.out)
        return
    name = params["teacher"]["model"]
    loss = build_loss(params["teacher"]["loss"], where="teacher.loss")
    check_run_setup(params, name, data.num_classes)
    spec = RunSpec(kind=RunKind.TEACHER, name="teacher", model_name=name, model_spec=params["models"][name], out_dir=args.out)
    train_over_seeds(spec, data, params["train"], params["teacher"]["epochs"], params["seeds"], loss,
                     class_weights_for(params, args.class_weights, data.class_names))


if __name__ == "__main__":
    run_stage(main)
