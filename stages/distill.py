"""DVC stage distill: one student distilled from the teacher's precomputed soft targets (one paper run).

    python -m stages.distill E1 --data data/prepared/dataset.npz --class-weights data/prepared/class_weights.json \
        --soft-targets models/teacher/soft_targets.npy --teacher models/teacher/model.pt --out models/distill/E1

The run's loss is params distill.runs.<run>.loss (kd: ce_weight*CE + alpha*T^2*KL); with kd the teacher
itself is never loaded, with kd_online it is run on every augmented batch instead of the table.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.naming import RunKind
from pipeline.core.stage import run_stage, stage_parser
from pipeline.dataset.prepared import load_prepared
from pipeline.params.load import load_params
from pipeline.training.losses import build_loss
from pipeline.training.runs import RunSpec, check_run_setup, class_weights_for, train_over_seeds
from pipeline.training.soft_targets import load_soft_targets, load_teacher


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("run", help="a run name in params.yaml distill.runs")
    parser.add_argument("--data", required=True, help="prepared dataset (.npz)")
    parser.add_argument("--class-weights", required=True, help="class_weights.json")
    parser.add_argument("--soft-targets", required=True, help="teacher soft targets (.npy)")
    parser.add_argument("--teacher", help="the teacher's model.pt (read by a loss that runs the teacher: kd_online)")
    parser.add_argument("--out", required=True, type=Path, help="run folder: model.pt, metrics.json, dvclive/")
    args = parser.parse_args(argv)
    params = load_params()
    runs = params["distill"]["runs"]
    if args.run not in runs:
        raise ValueError(f"params.yaml: unknown distill run {args.run!r}; known: {', '.join(runs)}")
    student = runs[args.run]["student"]
    loss = build_loss(runs[args.run]["loss"], where=f"distill.runs.{args.run}.loss")
    data = load_prepared(args.data)
    check_run_setup(params, student, data.num_classes)
    table = (load_soft_targets(args.soft_targets, len(data.subset("train")[1]), data.num_classes)
             if loss.needs_soft_targets else None)
    if loss.needs_teacher and args.teacher is None:
        raise ValueError("this run's loss runs the teacher on every batch: pass --teacher models/teacher/model.pt")
    teacher = load_teacher(args.teacher, params["train"]["input_size"])[0] if loss.needs_teacher else None
    spec = RunSpec(kind=RunKind.DISTILL, name=args.run, model_name=student, model_spec=params["models"][student],
                   out_dir=args.out)
    train_over_seeds(spec, data, params["train"], params["student"]["epochs"], params["seeds"], loss,
                     class_weights_for(params, args.class_weights, data.class_names), soft_targets=table,
                     teacher=teacher)


if __name__ == "__main__":
    run_stage(main)
