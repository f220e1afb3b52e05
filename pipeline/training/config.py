"""The settings of one training run (one seed): params.yaml's ``train`` section plus the stage's epochs and seed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.core.params import check_section, section_spec

_TRAIN_SPEC = section_spec("train")
_SCHEMA_DEFAULTS = _TRAIN_SPEC.defaults()  # schedule and the augmentations: written once, in the schema

# Learning-rate schedules, named once in the schema's ``train.schedule``: ReduceLROnPlateau on val loss
# ("plateau", the paper's, stepped per epoch), OneCycle ("onecycle": warm-up to ``lr`` then cosine
# annealing, stepped per batch) and cosine annealing to 0 per epoch ("cosine").
SCHEDULES: tuple[str, ...] = _TRAIN_SPEC.keys["schedule"].values


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
    schedule: str = _SCHEMA_DEFAULTS["schedule"]  # plateau (the paper's) | onecycle (per step) | cosine (per epoch)
    aug_shift: float = _SCHEMA_DEFAULTS["aug_shift"]  # random translation, up to this share of the side (0 = off)
    aug_rotate: float = _SCHEMA_DEFAULTS["aug_rotate"]  # random rotation, up to this many degrees
    aug_scale: float = _SCHEMA_DEFAULTS["aug_scale"]  # random zoom in [1 - s, 1 + s]

    @property
    def augments(self) -> bool:
        """Whether batches get a random affine transform besides the flip."""
        return bool(self.aug_shift or self.aug_rotate or self.aug_scale)

    @classmethod
    def from_params(cls, train_params: dict[str, Any], epochs: int, seed: int) -> "TrainConfig":
        """params.yaml's ``train`` section plus the stage's epochs and seed.

        The section goes through its schema (pipeline.core.params, the one place its keys, defaults and
        checks are written), so a key that is no trainer setting, or a bad value, is refused by name;
        a partial mapping (tests, scripts) is accepted, its absent keys taking the defaults below.
        """
        values = check_section("train", dict(train_params), require=False)
        values.pop("class_weighted", None)  # the loss's business (runs.class_weights_for), not the loop's
        values.pop("portable_kernels", None)  # the stage process's (pipeline.core.stage.run_stage)
        return cls(**{**values, "epochs": int(epochs), "seed": int(seed)})

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2:
            raise ValueError(f"need epochs >= 1 and batch_size >= 2 (BatchNorm), got {self.epochs}, {self.batch_size}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
