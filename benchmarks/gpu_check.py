"""The GPU check: what a lent GPU does at the paper's settings, measured in one short run (issue 18, item 4).

The device machine gets the repository, not ../shared or data/, and a call carries at most 64 MiB: a
seeded subset of real FER2013 travels in the git-ignored .gpu/ folder. Here, once, after `dvc repro
prepare` on FER2013 (profile fer2013-converged or paper):

    uv run python benchmarks/gpu_check.py subset data/prepared/dataset.npz .gpu/fer2013-subset.npz

There (device tool: `run`, carry [".gpu"], timeout_s 600): `bash benchmarks/gpu_check.sh`.

1. Train steps of the teacher and each student at the paper's settings (64x64, batch 16, SGD lr 1e-3,
   momentum 0.9, wd 1e-4, class-weighted CE, flip) through the trainer's own step: fp32 with
   deterministic kernels, fp32 without (cuDNN autotune), bf16 autocast, torch.compile. ms/step,
   images/s, peak memory; whether two deterministic runs give the same bits.
2. Paper-profile teacher epochs (profiles/paper.yaml through the project's trainer, `fit`) on the
   subset until the time budget ends: seconds per epoch, val accuracy, and the 80 epochs on the full
   train split extrapolated from them.

The JSON is rewritten after every measurement, so a run cut short still returns what it measured.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from pipeline.benchmark.speed import sync
from pipeline.core.atomic import write_json
from pipeline.core.constants import SPLIT_CODE
from pipeline.core.devices import device_name, resolve_device
from pipeline.params.load import check_params
from pipeline.params.profiles import merge
from pipeline.dataset.class_weights import balanced_class_weights
from pipeline.dataset.prepared import PreparedData, load_prepared, save_prepared
from pipeline.inputs.device_data import DeviceSplit
from pipeline.models import build_model, count_parameters
from pipeline.training.config import TrainConfig
from pipeline.training.losses import CrossEntropy
from pipeline.training.trainer import deterministic_algorithms, fit, train_step

FULL_TRAIN_IMAGES = 28_709  # FER2013's Training split: the extrapolation's denominator
VARIANTS = {  # name: (bf16, compile, deterministic)
    "fp32_deterministic": (False, False, True),
    "fp32": (False, False, False),
    "bf16": (True, False, False),
    "compile": (False, True, False),
}


def paper_params(repo: Path) -> dict:
    """params.yaml with profiles/paper.yaml merged in and checked: the architectures and the paper's train settings."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    return check_params(merge(params, yaml.safe_load((repo / "profiles" / "paper.yaml").read_text())))


def make_subset(source: Path, dest: Path, n_train: int, n_val: int, seed: int = 0) -> dict:
    """A seeded draw of the prepared data's train and val splits, as a prepared dataset (uint8, lossless)."""
    data = load_prepared(source)
    rng = np.random.default_rng(seed)
    picks = [rng.permutation(np.flatnonzero(data.split == SPLIT_CODE[name]))[:n]
             for name, n in (("train", n_train), ("val", n_val))]
    keep = np.sort(np.concatenate(picks))
    save_prepared(dest, PreparedData(data.images[keep], data.labels[keep], data.split[keep], data.source,
                                     data.class_names))
    return {"train": len(picks[0]), "val": len(picks[1]), "bytes": dest.stat().st_size, "source": data.source}


def train_steps(name: str, spec: dict, variant: str, train: DeviceSplit, weights: list[float], config: TrainConfig,
                steps: int, warmup: int) -> dict:
    """Time ``steps`` trainer steps (after ``warmup``) of one model in one variant; losses returned for the bit check."""
    bf16, compile_model, deterministic = VARIANTS[variant]
    device = train.images.device
    torch.backends.cudnn.benchmark = not deterministic
    torch.manual_seed(0)
    model = build_model(spec, len(weights)).to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    loss_fn = CrossEntropy().bind(class_weights=weights, device=device)
    generator = torch.Generator(device=device).manual_seed(0)
    batches = [(torch.randint(0, len(train), (config.batch_size,), generator=generator, device=device),
                torch.rand(config.batch_size, generator=generator, device=device) < 0.5) for _ in range(warmup + steps)]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    losses = []
    with deterministic_algorithms(deterministic, compiling=compile_model):
        if compile_model:
            model.compile()
        started = time.perf_counter()
        for i, (idx, flip) in enumerate(batches):
            if i == warmup:
                sync(device)
                warm_s, started = time.perf_counter() - started, time.perf_counter()
            terms, _ = train_step(model, optimizer, loss_fn, train, idx, flip, bf16)
            losses.append(terms["loss"])
        sync(device)
    elapsed = time.perf_counter() - started
    losses = torch.stack(losses).cpu()
    if not torch.isfinite(losses).all():
        raise RuntimeError(f"{name} {variant}: non-finite loss")
    row = {"model": name, "variant": variant, "params": count_parameters(model), "steps": steps,
           "warmup_s": round(warm_s, 3), "ms_per_step": round(1000 * elapsed / steps, 3),
           "images_per_second": round(config.batch_size * steps / elapsed, 1)}
    if device.type == "cuda":
        row["peak_memory_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return row | {"losses": losses}


class BudgetSpent(Exception):
    """Raised from fit's epoch hook when the next epoch would not end inside the budget."""


def teacher_epochs(spec: dict, train: DeviceSplit, val: DeviceSplit, weights: list[float], config: TrainConfig,
                   deadline: float, max_epochs: int, out: list[dict]) -> None:
    """Paper-profile epochs through the project's trainer until ``deadline`` (time.monotonic) or ``max_epochs``."""
    def on_epoch(record: dict) -> None:
        out.append({key: record[key] for key in ("epoch", "seconds", "train_acc", "val_acc", "lr")})
        if len(out) >= max_epochs or time.monotonic() + record["seconds"] * 1.2 > deadline:
            raise BudgetSpent

    try:
        fit(lambda: build_model(spec, len(weights)), train, val, config,
            CrossEntropy().bind(class_weights=weights, device=train.images.device), run="teacher", on_epoch=on_epoch)
    except BudgetSpent:
        pass


def run_check(args: argparse.Namespace) -> dict:
    started = time.monotonic()
    deadline = started + args.budget_s
    device = resolve_device(args.device)
    params = paper_params(args.repo)
    data = load_prepared(args.data)
    splits = {name: data.subset(name) for name in ("train", "val")}
    weights = [balanced_class_weights(splits["train"][1], data.class_names)[c] for c in data.class_names]
    config = TrainConfig.from_params({**params["train"], "device": str(device)}, epochs=params["teacher"]["epochs"],
                                     seed=0)
    max_epochs = min(args.max_epochs or config.epochs, config.epochs)
    train, val = (DeviceSplit.from_arrays(*splits[s], config.input_size, device) for s in ("train", "val"))
    report = {"device": device_name(device), "torch": torch.__version__, "cuda": torch.version.cuda,
              "python": platform.python_version(), "data": {"file": str(args.data), "train": len(train),
              "val": len(val), "source": data.source}, "paper_settings": {
              k: getattr(config, k) for k in ("input_size", "batch_size", "lr", "momentum", "weight_decay")},
              "steps": [], "bitwise_repeatable": {}, "teacher_epochs": [], "skipped": []}

    def save() -> None:
        report["seconds"] = round(time.monotonic() - started, 1)
        write_json(args.out, report)

    step_deadline = started + args.budget_s * args.steps_share
    for name in args.models:
        for variant in args.variants:
            if time.monotonic() > step_deadline:
                report["skipped"].append(f"{name} {variant}: step budget spent")
                continue
            row = train_steps(name, params["models"][name], variant, train, weights, config, args.steps, args.warmup)
            losses = row.pop("losses")
            if variant == "fp32_deterministic":  # a second run of the same steps: the same bits?
                again = train_steps(name, params["models"][name], variant, train, weights, config,
                                    min(5, len(losses)), 0)["losses"]  # the same first batches, no warm-up
                report["bitwise_repeatable"][name] = bool(torch.equal(losses[:len(again)], again))
            report["steps"].append(row)
            print(json.dumps(row), flush=True)
            save()
    if args.epoch_model:
        torch.backends.cudnn.benchmark = False  # the trainer's own setting (deterministic), not the last variant's
        teacher_epochs(params["models"][args.epoch_model], train, val, weights, config, deadline, max_epochs,
                       report["teacher_epochs"])
        done = report["teacher_epochs"]
        if done:
            per_epoch = float(np.median([e["seconds"] for e in done])) * FULL_TRAIN_IMAGES / len(train)
            report["paper_80_epochs_full_train_s_estimate"] = round(per_epoch * config.epochs, 1)
            report["teacher_epochs_model"] = args.epoch_model
    save()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("subset", help="write the seeded real-data subset that travels to the device")
    make.add_argument("source", type=Path, help="a prepared dataset (data/prepared/dataset.npz)")
    make.add_argument("dest", type=Path)
    make.add_argument("--train", type=int, default=11_000, help="train images (11,000 keep a call under 64 MiB)")
    make.add_argument("--val", type=int, default=1_500)
    check = sub.add_parser("run", help="measure (on the device machine)")
    check.add_argument("--data", type=Path, default=Path(".gpu/fer2013-subset.npz"))
    check.add_argument("--out", type=Path, default=Path("gpu_check.json"))
    check.add_argument("--repo", type=Path, default=Path("."))
    check.add_argument("--device", default="auto")
    check.add_argument("--budget-s", type=float, default=450, help="whole run (the device allows 600 s a call)")
    check.add_argument("--steps-share", type=float, default=0.55, help="share of the budget for the step timings")
    check.add_argument("--steps", type=int, default=200)
    check.add_argument("--warmup", type=int, default=20)
    check.add_argument("--models", nargs="+", default=["teacher", "student_a", "student_b", "student_c"])
    check.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    check.add_argument("--epoch-model", default="teacher", help="model of part 2 ('' skips it)")
    check.add_argument("--max-epochs", type=int, default=0, help="cap on part 2's epochs (0: the budget decides)")
    args = parser.parse_args()
    if args.command == "subset":
        print(json.dumps(make_subset(args.source, args.dest, args.train, args.val)))
    else:
        report = run_check(args)
        print(f"{report['device']}: {len(report['steps'])} step timings, {len(report['teacher_epochs'])} epochs, "
              f"{report['seconds']} s -> {args.out}")


if __name__ == "__main__":
    main()
