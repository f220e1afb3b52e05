"""DVC stage: teacher logits for every train image and its mirror, computed once for all students."""

from __future__ import annotations

import logging

from pipeline.device_data import DeviceSplit, resolve_device
from pipeline.models import load_model
from pipeline.prepared import load_prepared
from pipeline.soft_targets import compute_soft_targets, save_soft_targets
from stages.common import DATASET, SOFT_TARGETS, TEACHER, load_params, run_stage


log = logging.getLogger("stages.soft_targets")


def main() -> None:
    params = load_params()["train"]
    device = resolve_device(params["device"])
    teacher, meta = load_model(TEACHER, map_location=device)
    input_size = int(params["input_size"])
    if meta.get("input_size") not in (None, input_size):
        raise ValueError(f"{TEACHER} was trained at input size {meta['input_size']}, params.yaml train.input_size is "
                         f"{input_size}: retrain the teacher (dvc repro train_teacher)")
    images, labels = load_prepared(DATASET).subset("train")
    train = DeviceSplit.from_arrays(images, labels, input_size, device)
    table = compute_soft_targets(teacher, train, batch_size=int(params["eval_batch_size"]))
    save_soft_targets(SOFT_TARGETS, table)
    log.info("soft targets %s for %d train images -> %s", table.shape, len(table), SOFT_TARGETS)


if __name__ == "__main__":
    run_stage(main)
