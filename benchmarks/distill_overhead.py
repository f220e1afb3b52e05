"""Distillation overhead: epoch time with the distillation loss vs plain CE, for one student.

    uv run python benchmarks/distill_overhead.py                 # student_b, 2000 images, 32x32, batch 32
    uv run python benchmarks/distill_overhead.py --student student_c --repeats 3
    uv run python benchmarks/distill_overhead.py --student student_c --input-size 48 --batch 128 --augment \
        --teacher models/teacher/model.pt --threads 1   # + kd_online: the teacher run on every augmented batch

Every run goes through the real trainer (pipeline.training.fit) on the same device-resident data;
the distillation loss only gathers precomputed teacher logits, so the goal is a ratio <= 1.15.
``--teacher`` adds ``kd_online``, which runs that teacher on each batch: its ratio is the price of
teaching the augmented view. Epochs alternate between the losses to spread machine noise; medians are compared.
"""

from __future__ import annotations

import argparse
import logging
import statistics
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import yaml

from pipeline.core.devices import device_name, resolve_device
from pipeline.inputs.device_data import DeviceSplit
from pipeline.models import build_model, load_model
from pipeline.params.load import load_params
from pipeline.training.losses import CrossEntropy, KnowledgeDistillation, OnlineKnowledgeDistillation
from pipeline.training.trainer import TrainConfig, fit

NUM_CLASSES = 7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", default="student_b")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--input-size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed run (first run also warms up)")
    parser.add_argument("--repeats", type=int, default=2, help="alternating plain/distill runs each")
    parser.add_argument("--T", type=float, default=3.0)
    parser.add_argument("--alpha", type=float, default=0.2)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--teacher", type=Path, default=None, help="a teacher model.pt: also time kd_online with it")
    parser.add_argument("--augment", action="store_true", help="the release recipe's random affine (shift 0.1, "
                        "rotate 10, scale 0.1) in every run")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (1 gives steadier numbers on a busy machine)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)

    spec = yaml.safe_load(args.params.read_text())["models"][args.student]
    device = resolve_device(args.device)
    rng = np.random.default_rng(0)
    train = DeviceSplit.from_arrays(rng.integers(0, 256, (args.images, 48, 48), dtype=np.uint8),
                                    rng.integers(0, NUM_CLASSES, args.images), args.input_size, device)
    val = DeviceSplit.from_arrays(rng.integers(0, 256, (64, 48, 48), dtype=np.uint8),
                                  rng.integers(0, NUM_CLASSES, 64), args.input_size, device)
    teacher_logits = torch.randn(args.images, 2, NUM_CLASSES, generator=torch.Generator().manual_seed(0)).numpy()
    losses = {"plain": CrossEntropy().bind(device=device),
              "distill": KnowledgeDistillation(args.T, args.alpha).bind(soft_targets=teacher_logits, device=device)}
    if args.teacher:
        teacher, _ = load_model(args.teacher, map_location=device)
        losses["online"] = OnlineKnowledgeDistillation(args.T, args.alpha).bind(teacher=teacher, device=device)
    affine = dict(aug_shift=0.1, aug_rotate=10.0, aug_scale=0.1) if args.augment else {}
    settings = {"batch_size": args.batch, "input_size": args.input_size, "device": str(device), **affine}
    config = TrainConfig.from_params({**load_params().train, **settings}, epochs=args.epochs, seed=0)  # the rest: params
    print(f"device: {device_name(device)} | {args.student} | {args.images} images {args.input_size}x{args.input_size} "
          f"| batch {args.batch}")

    fit(lambda: build_model(spec, NUM_CLASSES), train, val, replace(config, epochs=1), losses["plain"])  # warm-up
    seconds: dict[str, list[float]] = {kind: [] for kind in losses}
    for repeat in range(args.repeats):
        for kind in list(losses) if repeat % 2 == 0 else list(losses)[::-1]:
            result = fit(lambda: build_model(spec, NUM_CLASSES), train, val, config, losses[kind])
            seconds[kind] += [r["seconds"] for r in result.history]
            print(f"  {kind:<8} epochs: " + ", ".join(f"{s:.2f}s" for s in seconds[kind][-args.epochs:]))
    plain, distill = statistics.median(seconds["plain"]), statistics.median(seconds["distill"])
    print(f"median epoch: plain {plain:.3f}s, distill {distill:.3f}s -> ratio {distill / plain:.3f} (goal <= 1.15)")
    if "online" in seconds:
        online = statistics.median(seconds["online"])
        print(f"median epoch: kd_online {online:.3f}s -> ratio {online / plain:.3f} to plain, {online / distill:.3f} "
              "to kd (the teacher run on every augmented batch)")


if __name__ == "__main__":
    main()
