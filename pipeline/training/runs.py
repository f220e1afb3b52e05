"""One training stage's work: train a model per seed, log curves with dvclive, write model + metrics.

The teacher, distillation and baseline stages differ only in the loss and the metadata, so they
all go through :func:`train_over_seeds`. metrics.json holds mean and population std over seeds;
model.pt is the first seed's best model. Curves are written to a staging folder and replace the
published ``dvclive/`` (and metrics.json) only when every seed has finished, so a failed or
killed run never leaves curves that disagree with its metrics.

metrics.json holds only what a re-run reproduces bit for bit on CPU: wall times (``epoch_seconds``,
``train_images_per_second``) go to the log and to ``.cache/timings/<run>.json`` (git-ignored), so
``dvc metrics diff`` and ``git status`` after an unchanged re-run show nothing. Speed is measured
by the benchmark stage. Where the run happened (device, threads, torch and Python versions) goes to
``run.json`` beside metrics.json (:mod:`pipeline.core.runfacts`), which ``dvc metrics`` does not read.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from pipeline.core.atomic import write_json
from pipeline.core.devices import resolve_device
from pipeline.core.naming import RunKind
from pipeline.core.runfacts import run_facts, write_run_facts
from pipeline.inputs.contract import InputContract
from pipeline.inputs.device_data import DeviceSplit
from pipeline.dataset.prepared import PreparedData
from pipeline.models import build_model, count_parameters, save_model
from pipeline.training.checkpoint import CHECKPOINT_ROOT, array_digest, checkpoint_path, clear_checkpoints
from pipeline.training.losses import Loss
from pipeline.training.trainer import TrainConfig, TrainResult, fit

log = logging.getLogger(__name__)

# metrics.json's per-seed scalars that are averaged (with a population std where the report needs one).
_MEAN_STD_KEYS = ("val_acc", "val_loss", "test_acc", "test_loss")
_MEAN_KEYS = ("epochs_run",)
# Wall-time scalars of a TrainResult: they differ on every run, so they stay out of metrics.json.
TIMING_KEYS = ("epoch_seconds", "train_images_per_second")
# Seeds in parallel: a process started with this set to one of the run's seeds trains only that seed, to a
# finished checkpoint it keeps, and writes nothing else; the stage's own run (all seeds) then reuses it.
ONE_SEED_ENV = "PIPELINE_ONE_SEED"
TIMINGS_ROOT = Path(".cache/timings")
_CURVES = (("train/loss", "train_loss"), ("train/acc", "train_acc"), ("val/loss", "val_loss"), ("val/acc", "val_acc"),
           ("lr", "lr"))


@dataclass(frozen=True)
class RunSpec:
    """Who is being trained and where its outputs go."""

    kind: RunKind
    name: str  # the run's name in reports: "teacher", a distill run ("E1"), or the baseline student
    model_name: str  # architecture name in params.yaml's models section
    model_spec: dict[str, Any]
    out_dir: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", RunKind(self.kind))  # a plain string is accepted, an unknown kind is not

    @property
    def scratch_key(self) -> str:
        """Folder of this run's resumable checkpoints under .cache/checkpoints (unique per stage item)."""
        return self.kind if self.kind == RunKind.TEACHER else f"{self.kind}_{self.name}"


@dataclass
class Splits:
    train: DeviceSplit
    val: DeviceSplit
    test: DeviceSplit
    digest: str  # identity of the prepared data the splits came from


def load_splits(data: PreparedData, input_size: int, device: torch.device) -> Splits:
    """All three splits moved to the device once (uint8, resized)."""
    parts = {name: data.subset(name) for name in ("train", "val", "test")}
    digest = array_digest(*(arr for pair in parts.values() for arr in pair))
    return Splits(*(DeviceSplit.from_arrays(x, y, input_size, device) for x, y in parts.values()), digest=digest)


class CurveLogger:
    """dvclive curves, x = epoch as ``step``, written to a staging folder and published at the end.

    The first seed logs ``train/loss``, ``train/acc``, each loss term (``train/ce``, ``train/kl``...),
    ``val/loss``, ``val/acc``, ``lr``; further seeds log the same names under ``seed<k>/``.
    dvcyaml=False and save_dvc_exp=False: inside a DVC stage dvclive must not touch dvc.yaml, git
    or experiments.
    """

    def __init__(self, target: Path, staging: Path):
        from dvclive import Live  # imported here: slow to import, and only stages need it

        self.target, self.staging = target, staging
        shutil.rmtree(staging, ignore_errors=True)
        self.live = Live(dir=str(staging), dvcyaml=False, save_dvc_exp=False, report=None)

    def for_seed(self, seed: int, first: bool) -> Callable[[dict[str, float]], None]:
        prefix = "" if first else f"seed{seed}/"

        def log_epoch(record: dict[str, float]) -> None:
            self.live.step = int(record["epoch"])
            terms = [(f"train/{k[len('train_'):]}", k) for k in record
                     if k.startswith("train_") and k not in ("train_loss", "train_acc")]
            for name, key in (*_CURVES[:2], *terms, *_CURVES[2:]):
                self.live.log_metric(prefix + name, float(record[key]))
            self.live.make_summary()

        return log_epoch

    def publish(self) -> None:
        """Swap the finished curves in for the published ones."""
        self.live.end()
        old = self.target.with_name(self.target.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.target.exists():
            self.target.rename(old)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(self.staging), str(self.target))
        shutil.rmtree(old, ignore_errors=True)


def aggregate(results: Sequence[TrainResult]) -> dict[str, Any]:
    """Mean and population std over seeds, plus the per-seed scalars."""
    out: dict[str, Any] = {}
    for key in _MEAN_STD_KEYS:
        values = [getattr(r, key) for r in results]
        if any(v is None for v in values):
            out[key], out[f"{key}_std"] = None, None
            continue
        out[key] = statistics.fmean(values)
        out[f"{key}_std"] = statistics.pstdev(values) if len(values) > 1 else 0.0
    for key in _MEAN_KEYS:
        out[key] = statistics.fmean(getattr(r, key) for r in results)
    out["per_seed"] = [{k: v for k, v in r.scalars().items() if k not in TIMING_KEYS} for r in results]
    return out


def write_timings(spec: RunSpec, results: Sequence[TrainResult], root: Path = TIMINGS_ROOT) -> dict[str, Any]:
    """Log each seed's wall times and keep them in ``root/<run>.json`` (git-ignored, never diffed)."""
    timings = {"kind": spec.kind, "run": spec.name,
               "per_seed": [{"seed": r.seed, **{k: getattr(r, k) for k in TIMING_KEYS}} for r in results]}
    for r in results:
        log.info("%s %s seed %d: %.2f s per epoch, %.1f train images/s", spec.kind, spec.name, r.seed,
                 r.epoch_seconds, r.train_images_per_second)
    write_json(root / f"{spec.scratch_key}.json", timings)
    return timings


def train_over_seeds(spec: RunSpec, data: PreparedData, train_params: dict[str, Any], epochs: int,
                     seeds: Sequence[int], loss: Loss, class_weights: Sequence[float] | None,
                     soft_targets=None, teacher: torch.nn.Module | None = None) -> dict[str, Any]:
    """Train ``spec``'s model once per seed with ``loss``; write model.pt, metrics.json, run.json, dvclive/; return
    the metrics."""
    if not seeds:
        raise ValueError("params.yaml: `seeds` is empty; list at least one seed")
    base = TrainConfig.from_params(train_params, epochs, seeds[0])
    device = resolve_device(base.device)
    splits = load_splits(data, base.input_size, device)
    loss.bind(class_weights=class_weights, soft_targets=soft_targets, device=device, teacher=teacher)
    identity = {"data": splits.digest, "model": spec.model_spec, "loss": loss.identity()}

    def make_model():
        return build_model(spec.model_spec, data.num_classes, where=f"models.{spec.model_name}")

    one_seed = os.environ.get(ONE_SEED_ENV)
    if one_seed is not None:
        if not one_seed.isdigit() or int(one_seed) not in seeds:
            raise ValueError(f"{ONE_SEED_ENV}={one_seed!r} is not one of this run's seeds {list(seeds)}")
        config = TrainConfig.from_params(train_params, epochs, int(one_seed))
        fit(make_model, splits.train, splits.val, config, loss, test=splits.test, run=f"{spec.kind}:{spec.name}",
            checkpoint=checkpoint_path(spec.scratch_key, int(one_seed)), identity=identity)
        log.info("%s %s: seed %s trained and kept in %s; run the stage without %s to write its outputs", spec.kind,
                 spec.name, one_seed, checkpoint_path(spec.scratch_key, int(one_seed)), ONE_SEED_ENV)
        return {}
    curves = CurveLogger(spec.out_dir / "dvclive", CHECKPOINT_ROOT / spec.scratch_key / "dvclive")
    results = []
    for i, seed in enumerate(seeds):
        config = TrainConfig.from_params(train_params, epochs, seed)
        results.append(fit(make_model, splits.train, splits.val, config, loss, test=splits.test,
                           run=f"{spec.kind}:{spec.name}", checkpoint=checkpoint_path(spec.scratch_key, seed),
                           identity=identity, on_epoch=curves.for_seed(seed, first=i == 0)))

    first = results[0].model
    contract = InputContract.for_images(data.images, data.class_names, base.input_size)  # how to feed the model
    save_model(spec.out_dir / "model.pt", first, name=spec.model_name, kind=spec.kind, run=spec.name,
               dataset=data.source, seed=int(seeds[0]), **contract.to_meta())
    metrics = {"kind": spec.kind, "run": spec.name, "model": spec.model_name, "dataset": data.source,
               "params": count_parameters(first), "T": loss.options().get("T"), "alpha": loss.options().get("alpha"),
               "loss": {"name": loss.name, **loss.options()},
               "seeds": [int(s) for s in seeds], **aggregate(results)}
    curves.publish()
    write_run_facts(spec.out_dir, run_facts(device))  # device, threads, versions: beside the metrics, not in them
    write_json(spec.out_dir / "metrics.json", metrics)
    write_timings(spec, results)
    clear_checkpoints(spec.scratch_key)
    log.info("%s %s: val acc %.4f, test acc %.4f over %d seed(s)", spec.kind, spec.name, metrics["val_acc"],
             metrics["test_acc"], len(seeds))
    return metrics


def class_weights_for(params: dict[str, Any], path: str | Path, class_names: Sequence[str]) -> list[float] | None:
    """The train split's class weights, or None when params ``train.class_weighted`` is off."""
    from pipeline.dataset.class_weights import load_class_weights

    return load_class_weights(path, class_names) if params["train"]["class_weighted"] else None


def check_run_setup(params: dict[str, Any], model_name: str, num_classes: int) -> None:
    """Model spec and input size checked before any training starts (errors name the params key)."""
    from pipeline.models import check_input_size

    check_input_size(params["models"][model_name], num_classes, params["train"]["input_size"],
                     where=f"models.{model_name}")
