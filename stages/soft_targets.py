"""DVC stage soft_targets: teacher logits for every train image and its mirror, computed once for all students.

    python -m stages.soft_targets --data data/prepared/dataset.npz --teacher models/teacher/model.pt \
        --out models/teacher/soft_targets.npy
"""

from __future__ import annotations

import logging

from pipeline.core.devices import resolve_device
from pipeline.core.stage import run_stage, stage_parser
from pipeline.dataset.prepared import load_prepared
from pipeline.inputs.device_data import DeviceSplit
from pipeline.params.load import load_params
from pipeline.training.soft_targets import compute_soft_targets, load_teacher, save_soft_targets

log = logging.getLogger("soft_targets")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--data", required=True, help="prepared dataset (.npz)")
    parser.add_argument("--teacher", required=True, help="the teacher's model.pt")
    parser.add_argument("--out", required=True, help="soft-target table (.npy)")
    args = parser.parse_args(argv)
    train_params = load_params()["train"]
    device = resolve_device(train_params["device"])
    input_size = train_params["input_size"]
    teacher, _ = load_teacher(args.teacher, input_size, device)
    images, labels = load_prepared(args.data).subset("train")
    train = DeviceSplit.from_arrays(images, labels, input_size, device)
    table = compute_soft_targets(teacher, train, batch_size=train_params["eval_batch_size"])
    save_soft_targets(args.out, table)
    log.info("soft targets %s for %d train images -> %s", table.shape, len(table), args.out)


if __name__ == "__main__":
    run_stage(main)
