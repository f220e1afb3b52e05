"""The one training loop every model uses: teacher, distilled students and baselines.

Data stay on the device as uint8 (see pipeline.device_data); each step gathers a batch by index
from a seeded permutation, mirrors a seeded random half of it, normalises it on the device and
calls a pluggable ``loss_fn(logits, labels, idx, flip)``. SGD + ReduceLROnPlateau on val loss,
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

from pipeline.checkpoint import capture_rng, fingerprint, load_checkpoint, restore_rng, save_checkpoint
from pipeline.device_data import DeviceSplit, predict_logits, to_model_input
from pipeline.losses import LossFn

log = logging.getLogger(__name__)

# Offset between the seed of torch's global RNG (weights init, dropout) and of the data generator
# (permutation, flips), so the two streams are not the same sequence.
DATA_SEED_OFFSET = 7919


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run (one seed); built by stages from params.yaml."""

    epochs: int = 1
    batch_size: int = 32
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    plateau_factor: float = 0.1
    plateau_patience: int = 2
    early_stopping_patience: int = 0  # epochs without val-accuracy improvement before stopping; 0 = off
    seed: int = 0
    device: str = "auto"
    bf16: bool = False  # bf16 autocast for forward + loss
    compile: bool = False  # torch.compile the model (in place; state_dict keys unchanged)
    eval_batch_size: int = 256
    input_size: int = 32
    deterministic: bool = True  # deterministic kernels: bit-identical resume on CPU

    @classmethod
    def from_params(cls, train_params: dict[str, Any], epochs: int, seed: int) -> "TrainConfig":
        """params.yaml's ``train`` section plus the stage's epoch count and seed; unknown keys ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in train_params.items() if k in known}
        return cls(**{**values, "epochs": int(epochs), "seed": int(seed)})

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2:
            raise ValueError(f"need epochs >= 1 and batch_size >= 2 (BatchNorm), got {self.epochs}, {self.batch_size}")


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


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool):
    """Temporarily ask torch for deterministic kernels (warn-only where none exists, e.g. some CUDA ops)."""
    previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    previous_benchmark = torch.backends.cudnn.benchmark
    if enabled:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = previous_benchmark


def autocast_context(device: torch.device, bf16: bool):
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


@torch.no_grad()
def evaluate(model: nn.Module, split: DeviceSplit, batch_size: int = 256, bf16: bool = False) -> tuple[float, float]:
    """(plain unweighted CE loss, accuracy) of a split, in eval mode, no augmentation."""
    with autocast_context(split.images.device, bf16):
        logits = predict_logits(model, split, batch_size=batch_size).float()
    loss = F.cross_entropy(logits, split.labels).item()
    acc = (logits.argmax(1) == split.labels).float().mean().item()
    return loss, acc


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: LossFn, split: DeviceSplit,
               idx: torch.Tensor, flip: torch.Tensor, bf16: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """One SGD step on the batch ``split[idx]`` (mirrored where ``flip``); returns detached (loss, logits).

    Everything stays on the device: gather uint8 by index, flip, normalise, forward, loss, backward.
    """
    inputs = to_model_input(split.images[idx], flip)
    labels = split.labels[idx]
    with autocast_context(split.images.device, bf16):
        logits = model(inputs)
        loss = loss_fn(logits, labels, idx, flip)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach().float(), logits.detach()


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def config_fingerprint(config: TrainConfig, device: torch.device, identity: dict[str, Any] | None) -> str:
    """Identity of a run for resuming: config, device type and what the caller says the data/loss are."""
    return fingerprint(config=asdict(config), device=device.type, identity=identity or {})


def fit(
    make_model: Callable[[], nn.Module],
    train: DeviceSplit,
    val: DeviceSplit,
    config: TrainConfig,
    loss_fn: LossFn,
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
    description of the data and loss (e.g. digests), part of the checkpoint fingerprint.
    ``on_epoch(record)`` is called once per epoch, also for epochs replayed from a checkpoint,
    so loggers see the full history. ``on_step(epoch, step)`` runs before every step (tests
    use it to simulate a crash). Raises RuntimeError on a non-finite loss, naming epoch and step.
    """
    device = train.images.device
    if val.images.device != device or (test is not None and test.images.device != device):
        raise ValueError("train, val and test splits must live on the same device")
    run_label = f"{run} (seed {config.seed})"
    expected_fp = config_fingerprint(config, device, identity)

    with deterministic_algorithms(config.deterministic):
        torch.manual_seed(config.seed)
        model = make_model().to(device)
        generator = torch.Generator(device=device)
        generator.manual_seed(config.seed + DATA_SEED_OFFSET)
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                    weight_decay=config.weight_decay)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=config.plateau_factor,
                                                               patience=config.plateau_patience)
        state = load_checkpoint(checkpoint, expected_fp, run=run_label) if checkpoint else None

        if state is not None and state.get("complete"):
            log.info("%s: already finished, reusing checkpoint %s", run_label, checkpoint)
            model.load_state_dict(state["best_state"])
            model.eval()
            for record in state["history"] if on_epoch else ():
                on_epoch(record)
            return TrainResult(model=model, history=list(state["history"]), **state["result"])

        start_epoch, history = 0, []
        best_acc, best_epoch, best_state, stale_epochs = -1.0, 0, None, 0
        if state is not None:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            start_epoch, history = int(state["epoch"]), list(state["history"])
            best_acc, best_epoch, stale_epochs = float(state["best_acc"]), int(state["best_epoch"]), int(state["stale_epochs"])
            best_state = _cpu_state(model) if state["best_is_current"] else state["best_state"]
            restore_rng(state["rng"], generator)
            log.info("%s: resuming after epoch %d from %s", run_label, start_epoch, checkpoint)
            for record in history if on_epoch else ():
                on_epoch(record)

        if config.compile:
            model.compile()

        n = len(train)
        bounds = batch_bounds(n, config.batch_size)
        stopped_early = bool(state and state.get("stopped_early"))
        epoch = start_epoch
        while epoch < config.epochs and not stopped_early:
            model.train()
            perm = torch.randperm(n, generator=generator, device=device)
            flips = torch.rand(n, generator=generator, device=device) < 0.5
            nonfinite = torch.zeros(len(bounds), dtype=torch.bool, device=device)
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), dtype=torch.int64, device=device)
            # On CPU checking every step is free; on GPU sync only now and then (flags stay on device).
            check_every = 1 if device.type == "cpu" else 50
            bar = tqdm(total=len(bounds), desc=f"{run} s{config.seed} epoch {epoch + 1}/{config.epochs}",
                       unit="step", leave=False,
                       mininterval=1.0 if sys.stderr.isatty() else 15.0)  # logs: fewer redraws
            started = time.perf_counter()
            for step, (lo, hi) in enumerate(bounds):
                if on_step is not None:
                    on_step(epoch, step)
                idx, flip = perm[lo:hi], flips[lo:hi]
                loss_value, logits = train_step(model, optimizer, loss_fn, train, idx, flip, config.bf16)
                labels = train.labels[idx]
                nonfinite[step] = ~torch.isfinite(loss_value)
                loss_sum += loss_value * (hi - lo)
                correct += (logits.argmax(1) == labels).sum()
                if (step + 1) % check_every == 0 or step + 1 == len(bounds):
                    # A bad step has already updated the weights; they are discarded with the error
                    # (the last checkpoint is from the end of the previous epoch).
                    _raise_if_nonfinite(nonfinite, run_label, epoch)
                    bar.set_postfix(loss=f"{loss_sum.item() / hi:.4f}", acc=f"{correct.item() / hi:.3f}", refresh=False)
                bar.update()
            train_loss, train_acc = loss_sum.item() / n, correct.item() / n
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            seconds = time.perf_counter() - started
            bar.close()

            val_loss, val_acc = evaluate(model, val, config.eval_batch_size, config.bf16)
            lr = optimizer.param_groups[0]["lr"]
            scheduler.step(val_loss)
            record = {"epoch": epoch + 1, "train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
                      "val_acc": val_acc, "lr": lr, "seconds": seconds}
            history.append(record)
            log.info("%s epoch %d/%d: train loss %.4f acc %.3f | val loss %.4f acc %.3f | lr %.2g | %.1fs",
                     run_label, epoch + 1, config.epochs, train_loss, train_acc, val_loss, val_acc, lr, seconds)
            if on_epoch is not None:
                on_epoch(record)

            if val_acc > best_acc:
                best_acc, best_epoch, best_state, stale_epochs = val_acc, epoch + 1, _cpu_state(model), 0
            else:
                stale_epochs += 1
            stopped_early = 0 < config.early_stopping_patience <= stale_epochs
            epoch += 1
            if checkpoint:
                save_checkpoint(checkpoint, {
                    "fingerprint": expected_fp, "complete": False, "epoch": epoch, "history": history,
                    "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "best_acc": best_acc, "best_epoch": best_epoch, "stale_epochs": stale_epochs,
                    "best_is_current": best_epoch == epoch, "best_state": None if best_epoch == epoch else best_state,
                    "stopped_early": stopped_early, "rng": capture_rng(generator),
                })
        if stopped_early:
            log.info("%s: early stop after epoch %d (no val-accuracy gain for %d epochs)", run_label, epoch, stale_epochs)

        model.load_state_dict(best_state)
        model.eval()
        val_loss, val_acc = evaluate(model, val, config.eval_batch_size, config.bf16)
        test_loss, test_acc = evaluate(model, test, config.eval_batch_size, config.bf16) if test is not None else (None, None)
        epoch_seconds = sum(r["seconds"] for r in history) / len(history)
        result = {"seed": config.seed, "best_epoch": best_epoch, "epochs_run": len(history), "val_acc": val_acc,
                  "val_loss": val_loss, "test_acc": test_acc, "test_loss": test_loss, "epoch_seconds": epoch_seconds,
                  "train_images_per_second": n / epoch_seconds if epoch_seconds > 0 else math.inf}
        if checkpoint:
            save_checkpoint(checkpoint, {"fingerprint": expected_fp, "complete": True, "history": history,
                                         "best_state": best_state, "result": result})
        return TrainResult(model=model, history=history, **result)


def _raise_if_nonfinite(flags: torch.Tensor, run_label: str, epoch: int) -> None:
    if bool(flags.any()):
        step = int(flags.nonzero()[0, 0])
        raise RuntimeError(f"{run_label}: non-finite training loss (NaN/inf) at epoch {epoch + 1}, step {step + 1}; "
                           "lower the learning rate or check the data")
