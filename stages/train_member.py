"""DVC stage train_member: one EmoXNet ensemble member (params emoxnet.members.<name>), one model per seed.

    python -m stages.train_member vgg13 --data data/prepared/dataset.npz \
        --class-weights data/prepared/class_weights.json --out models/emoxnet/members/vgg13
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.stage import run_stage, stage_parser
from pipeline.dataset.prepared import load_prepared
from pipeline.emoxnet.training import train_member
from pipeline.params.load import load_params


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("member", help="a name in params.yaml emoxnet.members")
    parser.add_argument("--data", required=True, help="prepared dataset (.npz)")
    parser.add_argument("--class-weights", required=True, help="class_weights.json")
    parser.add_argument("--out", required=True, type=Path, help="run folder: model.pt, metrics.json, dvclive/")
    args = parser.parse_args(argv)
    params = load_params()
    train_member(params, args.member, load_prepared(args.data), args.class_weights, args.out)


if __name__ == "__main__":
    run_stage(main)
