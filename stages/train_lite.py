"""DVC stage train_lite: EmoXNetLite distilled from the ensemble (``lite``) or its plain-CE baseline (``lite_baseline``).

    python -m stages.train_lite lite --data data/prepared/dataset.npz --class-weights data/prepared/class_weights.json \
        --soft-targets models/emoxnet/ensemble/soft_targets.npy --out models/emoxnet/lite
    python -m stages.train_lite lite_baseline --data ... --class-weights ... --out models/emoxnet/lite_baseline
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.naming import LITE_KINDS
from pipeline.core.stage import run_stage, stage_parser
from pipeline.dataset.prepared import load_prepared
from pipeline.emoxnet.training import train_lite
from pipeline.params.load import load_params
from pipeline.training.soft_targets import load_soft_targets


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("kind", choices=[str(k) for k in LITE_KINDS])
    parser.add_argument("--data", required=True, help="prepared dataset (.npz)")
    parser.add_argument("--class-weights", required=True, help="class_weights.json")
    parser.add_argument("--soft-targets", help="the ensemble's soft-target table (.npy); needed by `lite`")
    parser.add_argument("--out", required=True, type=Path, help="run folder: model.pt, metrics.json, dvclive/")
    args = parser.parse_args(argv)
    params = load_params()
    data = load_prepared(args.data)
    table = None
    if args.soft_targets:
        table = load_soft_targets(args.soft_targets, len(data.subset("train")[1]), data.num_classes)
    train_lite(params, args.kind, data, args.class_weights, args.out, soft_targets=table)


if __name__ == "__main__":
    run_stage(main)
