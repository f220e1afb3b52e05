"""DVC stage train_student: a baseline student trained without a teacher (params baseline.loss, plain CE).

    python -m stages.train_student student_a --data data/prepared/dataset.npz \
        --class-weights data/prepared/class_weights.json --out models/baseline/student_a
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.naming import RunKind
from pipeline.core.stage import run_stage, stage_parser
from pipeline.dataset.prepared import load_prepared
from pipeline.params.load import load_params
from pipeline.training.losses import build_loss
from pipeline.training.runs import RunSpec, check_run_setup, class_weights_for, train_over_seeds


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("student", help="a name in params.yaml baseline.students")
    parser.add_argument("--data", required=True, help="prepared dataset (.npz)")
    parser.add_argument("--class-weights", required=True, help="class_weights.json")
    parser.add_argument("--out", required=True, type=Path, help="run folder: model.pt, metrics.json, dvclive/")
    args = parser.parse_args(argv)
    params = load_params()
    loss = build_loss(params["baseline"]["loss"], where="baseline.loss")
    data = load_prepared(args.data)
    check_run_setup(params, args.student, data.num_classes)
    spec = RunSpec(kind=RunKind.BASELINE, name=args.student, model_name=args.student,
                   model_spec=params["models"][args.student], out_dir=args.out)
    train_over_seeds(spec, data, params["train"], params["student"]["epochs"], params["seeds"], loss,
                     class_weights_for(params, args.class_weights, data.class_names))


if __name__ == "__main__":
    run_stage(main)
