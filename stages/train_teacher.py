"""DVC stage train_teacher: train the teacher (params teacher.model, teacher.loss), one model per seed.

    python -m stages.train_teacher --data data/prepared/dataset.npz --class-weights data/prepared/class_weights.json \
        --out models/teacher
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.naming import RunKind
from pipeline.core.params import load_params
from pipeline.core.stage import run_stage, stage_parser
from pipeline.dataset.prepared import load_prepared
from pipeline.training.losses import build_loss
from pipeline.training.runs import RunSpec, check_run_setup, class_weights_for, train_over_seeds


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--data", required=True, help="prepared dataset (.npz)")
    parser.add_argument("--class-weights", required=True, help="class_weights.json")
    parser.add_argument("--out", required=True, type=Path, help="run folder: model.pt, metrics.json, dvclive/")
    args = parser.parse_args(argv)
    params = load_params()
    name = params["teacher"]["model"]
    loss = build_loss(params["teacher"]["loss"], where="teacher.loss")
    data = load_prepared(args.data)
    check_run_setup(params, name, data.num_classes)
    spec = RunSpec(kind=RunKind.TEACHER, name="teacher", model_name=name, model_spec=params["models"][name], out_dir=args.out)
    train_over_seeds(spec, data, params["train"], params["teacher"]["epochs"], params["seeds"], loss,
                     class_weights_for(params, args.class_weights, data.class_names))


if __name__ == "__main__":
    run_stage(main)
