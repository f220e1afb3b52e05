"""One training stage's work: train a model per seed, log curves with dvclive, write model + metrics.

The teacher, distillation and baseline stages differ only in the loss and the metadata, so they
all go through :func:`train_over_seeds`. metrics.json holds mean and population std over seeds;
model.pt is the first seed's best model.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from pipeline.atomic import write_json
from pipeline.class_weights import load_class_weights
from pipeline.checkpoint import array_digest, checkpoint_path, clear_checkpoints
from pipeline.device_data import DeviceSplit, device_name, resolve_device
from pipeline.losses import LossFn
from pipeline.models import build_model, count_parameters, save_model
from pipeline.prepared import PreparedData
from pipeline.training import TrainConfig, TrainResult, fit

log = logging.getLogger(__name__)

# metrics.json's per-seed scalars that are averaged (with a population std where the report needs one).
_MEAN_STD_KEYS = ("val_acc", "val_loss", "test_acc", "test_loss")
_MEAN_KEYS = ("epochs_run", "epoch_seconds", "train_images_per_second")


@dataclass(frozen=True)
class RunSpec:
    """Who is being trained and where its outputs go."""

    kind: str  # "teacher" | "distill" | "baseline"
    run: str  # "teacher", a distill run id ("E1"), or the baseline student's name
    model_name: str  # architecture name in params.yaml's models section
    model_spec: dict[str, Any]
    out_dir: Path
    T: float | None = None
    alpha: float | None = None

    @property
    def run_id(self) -> str:
        """Scratch-checkpoint folder name, unique per stage."""
        return self.kind if self.kind == "teacher" else f"{self.kind}_{self.run}"


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
    """dvclive curves in ``<out_dir>/dvclive``; x = epoch as ``step``.

    The first seed logs ``train/loss``, ``train/acc``, ``val/loss``, ``val/acc``, ``lr``; further seeds
    log the same names under ``seed<k>/``. dvcyaml=False and save_dvc_exp=False: inside a DVC stage
    dvclive must not touch dvc.yaml, git or experiments.
    """

    def __init__(self, directory: Path):
        from dvclive import Live  # imported here: slow to import, and only stages need it

        self.live = Live(dir=str(directory), dvcyaml=False, save_dvc_exp=False, report=None)

    def for_seed(self, seed: int, first: bool) -> Callable[[dict[str, float]], None]:
        prefix = "" if first else f"seed{seed}/"

        def log_epoch(record: dict[str, float]) -> None:
            self.live.step = int(record["epoch"])
            for name, key in (("train/loss", "train_loss"), ("train/acc", "train_acc"), ("val/loss", "val_loss"),
                              ("val/acc", "val_acc"), ("lr", "lr")):
                self.live.log_metric(prefix + name, float(record[key]))
            self.live.make_summary()

        return log_epoch

    def close(self) -> None:
        self.live.end()


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
    out["per_seed"] = [r.scalars() for r in results]
    return out


def train_over_seeds(
    spec: RunSpec,
    data: PreparedData,
    train_params: dict[str, Any],
    epochs: int,
    seeds: Sequence[int],
    make_loss: Callable[[Splits], LossFn],
    loss_identity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``spec``'s model once per seed; write model.pt, metrics.json, dvclive/; return the metrics."""
    if not seeds:
        raise ValueError("params.yaml: `seeds` is empty; list at least one seed")
    base = TrainConfig.from_params(train_params, epochs, seeds[0])
    device = resolve_device(base.device)
    splits = load_splits(data, base.input_size, device)
    loss_fn = make_loss(splits)
    identity = {"data": splits.digest, "model": spec.model_spec, "loss": loss_identity or {}}

    curves = CurveLogger(spec.out_dir / "dvclive")
    results = []
    for i, seed in enumerate(seeds):
        config = TrainConfig.from_params(train_params, epochs, seed)
        result = fit(lambda: build_model(spec.model_spec), splits.train, splits.val, config, loss_fn,
                     test=splits.test, run=f"{spec.kind}:{spec.run}", checkpoint=checkpoint_path(spec.run_id, seed),
                     identity=identity, on_epoch=curves.for_seed(seed, first=i == 0))
        results.append(result)
    curves.close()

    first = results[0].model
    save_model(spec.out_dir / "model.pt", first, name=spec.model_name, input_size=base.input_size, kind=spec.kind,
               run=spec.run, dataset=data.source, seed=int(seeds[0]))
    metrics = {"kind": spec.kind, "run": spec.run, "model": spec.model_name, "dataset": data.source,
               "params": count_parameters(first), "T": spec.T, "alpha": spec.alpha, "seeds": [int(s) for s in seeds],
               **aggregate(results), "device": device_name(device)}
    write_json(spec.out_dir / "metrics.json", metrics)
    clear_checkpoints(spec.run_id)
    log.info("%s %s: val acc %.4f, test acc %.4f over %d seed(s)", spec.kind, spec.run, metrics["val_acc"],
             metrics["test_acc"], len(seeds))
    return metrics


def read_class_weights(path: str | Path, enabled: bool = True) -> list[float] | None:
    """Per-class loss weights in CLASS_NAMES order, or None when ``train.class_weighted`` is off."""
    return load_class_weights(path) if enabled else None
