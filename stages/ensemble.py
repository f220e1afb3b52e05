"""DVC stage ensemble: EmoXNet - combine the members, score it and them on test, write its soft targets.

    python -m stages.ensemble --data data/prepared/dataset.npz --members models/emoxnet/members \
        --teacher models/teacher/model.pt --teacher-soft-targets models/teacher/soft_targets.npy \
        --soft-targets models/emoxnet/ensemble/soft_targets.npy --eval reports/emoxnet/eval

Members are params emoxnet.members (``<members>/<name>/model.pt``) plus, with emoxnet.teacher_member,
the ResEmoteNet teacher, whose train logits are reused from its soft-target table. Writes
``<eval>/ensemble/`` (metrics.json, confusion.csv/.png) and ``<eval>/members/<name>/`` the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.core.devices import resolve_device
from pipeline.core.params import emoxnet_section
from pipeline.core.stage import run_stage, stage_parser
from pipeline.dataset.prepared import load_prepared
from pipeline.ensemble.build import build_ensemble
from pipeline.ensemble.members import member_outputs
from pipeline.evaluation.test_set import write_evaluation
from pipeline.params.load import load_params
from pipeline.training.soft_targets import save_soft_targets

log = logging.getLogger("ensemble")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--data", required=True, help="prepared dataset (.npz)")
    parser.add_argument("--members", required=True, type=Path, help="folder of trained members (<name>/model.pt)")
    parser.add_argument("--teacher", required=True, help="the ResEmoteNet teacher's model.pt")
    parser.add_argument("--teacher-soft-targets", required=True, help="the teacher's soft-target table (.npy)")
    parser.add_argument("--soft-targets", required=True, help="the ensemble's soft-target table to write (.npy)")
    parser.add_argument("--eval", required=True, type=Path, help="folder for ensemble/ and members/ evaluations")
    args = parser.parse_args(argv)
    params = load_params()
    section = emoxnet_section(params)
    device = resolve_device(params["train"]["device"])
    batch = params["train"]["eval_batch_size"]
    data = load_prepared(args.data)
    members = []
    if section["teacher_member"]:
        reuse = args.teacher_soft_targets
        members.append(member_outputs("teacher", args.teacher, data, device, batch, train_table=reuse))
    for name in section["members"]:
        members.append(member_outputs(name, args.members / name / "model.pt", data, device, batch))
    result = build_ensemble(members, data, section["ensemble"]["rule"])
    for name, (metrics, frame) in result.member_metrics.items():
        write_evaluation(args.eval / "members" / name, metrics, frame)
    save_soft_targets(args.soft_targets, result.soft_targets)
    write_evaluation(args.eval / "ensemble", result.metrics, result.confusion)
    m = result.metrics
    log.info("EmoXNet (%s of %s): test acc %.4f, best member %s %.4f (gain %+.4f); soft targets %s -> %s",
             m["rule"], ", ".join(m["members"]), m["test_acc"], m["best_member"],
             m["members"][m["best_member"]]["test_acc"], m["gain_over_best_member"], result.soft_targets.shape,
             args.soft_targets)


if __name__ == "__main__":
    run_stage(main)
