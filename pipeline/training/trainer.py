"""The one training loop every model uses: teacher, distilled students and baselines.

Data stay on the device as uint8 (see pipeline.inputs.device_data); each step gathers a batch by index
from a seeded permutation, mirrors a seeded random half of it, normalises it on the device and
calls a pluggable loss (pipeline.training.losses) that returns its total and its terms. SGD + ReduceLROnPlateau on val loss,
best weights by val accuracy, optional early stopping. After every epoch the whole state (model,
optimizer, scheduler, counters, history, every RNG) is checkpointed atomically, so a killed run
resumes and finishes with the same result as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from pipeline.inputs.device_data import DeviceSplit, predict_logits, random_affine, to_model_input
from pipeline.training.config import SCHEDULES, TrainConfig  # noqa: F401  (TrainConfig: importers use this name)
from pipeline.training.checkpoint import capture_rng, fingerprint, load_checkpoint, restore_rng, save_checkpoint
from pipeline.training.losses import Loss

log = logging.getLogger(__name__)

# Offset between the seed of torch's global RNG (weights init, dropout) and of the data generator
# (permutation, flips), so the two streams are not the same sequence.
DATA_SEED_OFFSET = 7919

@dataclass
class TrainResult:
    """One seed's outcome: the best model (by val accuracy) and its metrics."""

    model: nn.Module
    seed: int
    best_epoch: int
    epochs_run: int
    val_acc: float
    val_loss: float
    test_acc: float | None
    test_loss: float | None
    epoch_seconds: float  # mean wall time of the training part of an epoch
    train_images_per_second: float
    history: list[dict[str, float]] = field(default_factory=list)

    def scalars(self) -> dict[str, Any]:
        """The JSON-able numbers (everything but the model and the per-epoch history)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("model", "history")}


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """Contiguous [start, end) slices of a permutation covering all n samples.

    Nothing is dropped: a last batch of a single sample (which BatchNorm cannot train on) is
    merged into the batch before it; any other partial last batch is kept as is.
    """
    if n < 2:
        raise ValueError(f"cannot train on {n} sample(s): BatchNorm needs batches of at least 2")
    starts = list(range(0, n, batch_size))
    if n - starts[-1] == 1 and len(starts) > 1:
        starts.pop()
    return [(s, starts[i + 1] if i + 1 < len(starts) else n) for i, s in enumerate(starts)]


def _set_deterministic(mode: bool, warn_only: bool, compiling: bool) -> None:
    """torch.use_deterministic_algorithms, minus its import of torch._inductor when nothing is compiled.

    The public function also sets ``torch._inductor.config.deterministic`` and so imports the
    compiler stack (~2 s per stage on 2 cores); that setting only matters for torch.compile.
    """
    set_flag = getattr(torch._C, "_set_deterministic_algorithms", None)
    if compiling or set_flag is None:
        torch.use_deterministic_algorithms(mode, warn_only=warn_only)
    else:
        set_flag(mode, warn_only=warn_only)


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool, compiling: bool = False):
    """Temporarily ask torch for deterministic kernels (warn-only where none exists, e.g. some CUDA ops)."""
    previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    previous_benchmark = torch.backends.cudnn.benchmark
    if enabled:
        _set_deterministic(True, True, compiling)
        torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        _set_deterministic(previous[0], previous[1], compiling)
        torch.backends.cudnn.benchmark = previous_benchmark


def autocast_context(device: torch.device, bf16: bool):
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


@torch.no_grad()
def split_loss_accuracy(model: nn.Module, split: DeviceSplit, batch_size: int = 256, bf16: bool = False) -> tuple[float, float]:
    """(plain unweighted CE loss, accuracy) of a split, in eval mode, no augmentation."""
    with autocast_context(split.images.device, bf16):
        logits = predict_logits(model, split, batch_size=batch_size).float()
    loss = F.cross_entropy(logits, split.labels).item()
    acc = (logits.argmax(1) == split.labels).float().mean().item()
    return loss, acc


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: Loss, split: DeviceSplit,
               idx: torch.Tensor, flip: torch.Tensor, bf16: bool = False,
               affine: torch.Tensor | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """One SGD step on the batch ``split[idx]`` (mirrored where ``flip``); returns detached (loss terms, logits).

    Everything stays on the device: gather uint8 by index, flip, warp (``affine``), normalise, forward,
    loss, backward.
    """
    inputs = to_model_input(split.images[idx], flip, affine)
    labels = split.labels[idx]
    with autocast_context(split.images.device, bf16):
        logits = model(inputs)
        terms = loss_fn(logits, labels, idx, flip, inputs=inputs) if loss_fn.needs_teacher else \
            loss_fn(logits, labels, idx, flip)
    optimizer.zero_grad(set_to_none=True)
    terms["loss"].backward()
    optimizer.step()
    return {name: value.detach().float() for name, value in terms.items()}, logits.detach()


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def config_fingerprint(config: TrainConfig, device: torch.device, identity: dict[str, Any] | None) -> str:
    """Identity of a run for resuming: config, device type and what the caller says the data/loss are."""
    return fingerprint(config=asdict(config), device=device.type, identity=identity or {})


@dataclass
class TrainState:
    """Everything one run carries from epoch to epoch (and what a checkpoint stores)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau
    generator: torch.Generator
    epoch: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_acc: float = -1.0
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    stale_epochs: int = 0
    stopped_early: bool = False
    train_size: int = 0

    def end_epoch(self, record: dict[str, float], patience: int) -> None:
        """Book-keep one finished epoch: history, best weights by val accuracy, early stopping."""
        self.history.append(record)
        if record["val_acc"] > self.best_acc:
            self.best_acc, self.best_epoch, self.best_state, self.stale_epochs = (
                record["val_acc"], self.epoch + 1, _cpu_state(self.model), 0)
        else:
            self.stale_epochs += 1
        self.stopped_early = 0 < patience <= self.stale_epochs
        self.epoch += 1

    def checkpoint(self, fp: str) -> dict[str, Any]:
        return {
            "fingerprint": fp, "complete": False, "epoch": self.epoch, "history": self.history,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(), "best_acc": self.best_acc, "best_epoch": self.best_epoch,
            "stale_epochs": self.stale_epochs, "best_is_current": self.best_epoch == self.epoch,
            "best_state": None if self.best_epoch == self.epoch else self.best_state,
            "stopped_early": self.stopped_early, "rng": capture_rng(self.generator),
        }

    def restore(self, saved: dict[str, Any]) -> None:
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        self.epoch, self.history = int(saved["epoch"]), list(saved["history"])
        self.best_acc, self.best_epoch = float(saved["best_acc"]), int(saved["best_epoch"])
        self.stale_epochs, self.stopped_early = int(saved["stale_epochs"]), bool(saved.get("stopped_early"))
        self.best_state = _cpu_state(self.model) if saved["best_is_current"] else saved["best_state"]
        restore_rng(saved["rng"], self.generator)


def new_state(make_model: Callable[[], nn.Module], config: TrainConfig, device: torch.device,
              steps_per_epoch: int = 1) -> TrainState:
    """Seeded model, SGD, the LR schedule and the data generator (in this order: the RNG streams depend on it)."""
    torch.manual_seed(config.seed)
    model = make_model().to(device)
    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed + DATA_SEED_OFFSET)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    return TrainState(model, optimizer, make_scheduler(optimizer, config, steps_per_epoch), generator)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
    """The LR schedule ``config.schedule`` names (see :data:`SCHEDULES`)."""
    lr_sched = torch.optim.lr_scheduler
    if config.schedule == "onecycle":
        return lr_sched.OneCycleLR(optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch)
    if config.schedule == "cosine":
        return lr_sched.CosineAnnealingLR(optimizer, T_max=config.epochs)
    return lr_sched.ReduceLROnPlateau(optimizer, mode="min", factor=config.plateau_factor,
                                      patience=config.plateau_patience)


def train_epoch(state: TrainState, train: DeviceSplit, loss_fn: Loss, config: TrainConfig, run: str,
                on_step: Callable[[int, int], None] | None = None) -> dict[str, float]:
    """One pass over a seeded permutation with seeded flips; returns mean loss terms, accuracy and seconds."""
    model, device, n = state.model, train.images.device, len(train)
    model.train()
    bounds = batch_bounds(n, config.batch_size)
    perm = torch.randperm(n, generator=state.generator, device=device)
    flips = torch.rand(n, generator=state.generator, device=device) < 0.5
    affines = (random_affine(n, config.aug_shift, config.aug_rotate, config.aug_scale, state.generator, device)
               if config.augments else None)
    per_step_schedule = config.schedule == "onecycle"
    nonfinite = torch.zeros(len(bounds), dtype=torch.bool, device=device)
    sums: dict[str, torch.Tensor] = {}
    correct = torch.zeros((), dtype=torch.int64, device=device)
    # On CPU checking every step is free; on GPU sync only now and then (flags stay on device).
    check_every = 1 if device.type == "cpu" else 50
    run_label = f"{run} (seed {config.seed})"
    bar = tqdm(total=len(bounds), desc=f"{run} s{config.seed} epoch {state.epoch + 1}/{config.epochs}", unit="step",
               leave=False, mininterval=1.0 if sys.stderr.isatty() else 15.0)  # logs: fewer redraws
    started = time.perf_counter()
    for step, (lo, hi) in enumerate(bounds):
        if on_step is not None:
            on_step(state.epoch, step)
        idx, flip = perm[lo:hi], flips[lo:hi]
        affine = affines[lo:hi] if affines is not None else None
        terms, logits = train_step(model, state.optimizer, loss_fn, train, idx, flip, config.bf16, affine)
        if per_step_schedule and state.scheduler.last_epoch + 1 < state.scheduler.total_steps:
            state.scheduler.step()  # not past the run's last step (OneCycleLR would wrap around)
        nonfinite[step] = ~torch.isfinite(terms["loss"])
        for name, value in terms.items():
            sums[name] = sums.get(name, torch.zeros((), device=device)) + value * (hi - lo)
        correct += (logits.argmax(1) == train.labels[idx]).sum()
        if (step + 1) % check_every == 0 or step + 1 == len(bounds):
            # A bad step has already updated the weights; they are discarded with the error
            # (the last checkpoint is from the end of the previous epoch).
            _raise_if_nonfinite(nonfinite, run_label, state.epoch)
            bar.set_postfix(loss=f"{sums['loss'].item() / hi:.4f}", acc=f"{correct.item() / hi:.3f}", refresh=False)
        bar.update()
    record = {"train_loss": sums["loss"].item() / n, "train_acc": correct.item() / n}
    record.update({f"train_{name}": value.item() / n for name, value in sums.items() if name != "loss"})
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    record["seconds"] = time.perf_counter() - started
    bar.close()
    return record


def fit(
    make_model: Callable[[], nn.Module],
    train: DeviceSplit,
    val: DeviceSplit,
    config: TrainConfig,
    loss_fn: Loss,
    *,
    test: DeviceSplit | None = None,
    run: str = "run",
    checkpoint: str | Path | None = None,
    identity: dict[str, Any] | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Train one model (one seed) and return its best-by-val-accuracy weights and metrics.

    ``make_model`` is called after seeding so initial weights depend on ``config.seed`` only.
    ``checkpoint``: scratch path for resume state (None = no resume). ``identity``: JSON-able
    description of the data and loss (digests, ``loss.identity()``), part of the checkpoint
    fingerprint. ``on_epoch(record)`` runs once per epoch, also for epochs replayed from a
    checkpoint, so loggers see the full history. ``on_step(epoch, step)`` runs before every step
    (tests use it to simulate a crash). Raises RuntimeError on a non-finite loss, naming epoch and step.
    """
    device = train.images.device
    if val.images.device != device or (test is not None and test.images.device != device):
        raise ValueError("train, val and test splits must live on the same device")
    run_label = f"{run} (seed {config.seed})"
    fp = config_fingerprint(config, device, identity)

    with deterministic_algorithms(config.deterministic, compiling=config.compile):
        state = new_state(make_model, config, device, len(batch_bounds(len(train), config.batch_size)))
        state.train_size = len(train)
        saved = load_checkpoint(checkpoint, fp, run=run_label) if checkpoint else None
        if saved is not None and saved.get("complete"):
            log.info("%s: already finished, reusing checkpoint %s", run_label, checkpoint)
            state.model.load_state_dict(saved["best_state"])
            state.model.eval()
            for record in saved["history"] if on_epoch else ():
                on_epoch(record)
            return TrainResult(model=state.model, history=list(saved["history"]), **saved["result"])
        if saved is not None:
            state.restore(saved)
            log.info("%s: resuming after epoch %d from %s", run_label, state.epoch, checkpoint)
            for record in state.history if on_epoch else ():
                on_epoch(record)
        if config.compile:
            state.model.compile()

        while state.epoch < config.epochs and not state.stopped_early:
            record = {"epoch": state.epoch + 1, **train_epoch(state, train, loss_fn, config, run, on_step)}
            record["val_loss"], record["val_acc"] = split_loss_accuracy(state.model, val, config.eval_batch_size, config.bf16)
            record["lr"] = state.optimizer.param_groups[0]["lr"]
            if config.schedule == "plateau":
                state.scheduler.step(record["val_loss"])
            elif config.schedule == "cosine":
                state.scheduler.step()
            log.info("%s epoch %d/%d: train loss %.4f acc %.3f | val loss %.4f acc %.3f | lr %.2g | %.1fs", run_label,
                     record["epoch"], config.epochs, record["train_loss"], record["train_acc"], record["val_loss"],
                     record["val_acc"], record["lr"], record["seconds"])
            if on_epoch is not None:
                on_epoch(record)
            state.end_epoch(record, config.early_stopping_patience)
            if checkpoint:
                save_checkpoint(checkpoint, state.checkpoint(fp))
        if state.stopped_early:
            log.info("%s: early stop after epoch %d (no val-accuracy gain for %d epochs)", run_label, state.epoch,
                     state.stale_epochs)
        return finish(state, val, test, config, checkpoint, fp)


def finish(state: TrainState, val: DeviceSplit, test: DeviceSplit | None, config: TrainConfig,
           checkpoint: str | Path | None, fp: str) -> TrainResult:
    """Reload the best weights, measure val/test once more, mark the checkpoint complete."""
    model, history = state.model, state.history
    model.load_state_dict(state.best_state)
    model.eval()
    val_loss, val_acc = split_loss_accuracy(model, val, config.eval_batch_size, config.bf16)
    test_loss, test_acc = (split_loss_accuracy(model, test, config.eval_batch_size, config.bf16)
                           if test is not None else (None, None))
    epoch_seconds = sum(r["seconds"] for r in history) / len(history)
    result = {"seed": config.seed, "best_epoch": state.best_epoch, "epochs_run": len(history), "val_acc": val_acc,
              "val_loss": val_loss, "test_acc": test_acc, "test_loss": test_loss, "epoch_seconds": epoch_seconds,
              "train_images_per_second": state.train_size / epoch_seconds if epoch_seconds > 0 else math.inf}
    if checkpoint:
        save_checkpoint(checkpoint, {"fingerprint": fp, "complete": True, "history": history,
                                     "best_state": state.best_state, "result": result})
    return TrainResult(model=model, history=history, **result)


def _raise_if_nonfinite(flags: torch.Tensor, run_label: str, epoch: int) -> None:
    if bool(flags.any()):
        step = int(flags.nonzero()[0, 0])
        raise RuntimeError(f"{run_label}: non-finite training loss (NaN/inf) at epoch {epoch + 1}, step {step + 1}; "
                           "lower the learning rate or check the data")
