"""The settings of one training run (one seed): params.yaml's ``train`` section plus the stage's epochs and seed.

No field has a default and nothing is checked here: the values come from the loaded params (typed and checked
once, against the schema in pipeline/core/params.py, where every default is written); tests build one from
their own full values. tests/core/test_params.py holds the fields to the schema's keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.core.params import section_spec

# Learning-rate schedules, named once in the schema's ``train.schedule``: ReduceLROnPlateau on val loss
# ("plateau", the paper's, stepped per epoch), OneCycle ("onecycle": warm-up to ``lr`` then cosine
# annealing, stepped per batch) and cosine annealing to 0 per epoch ("cosine").
SCHEDULES: tuple[str, ...] = section_spec("train").keys["schedule"].values

# train keys that are not the loop's: the loss's (runs.class_weights_for) and the stage process's (run_stage)
NOT_LOOP_KEYS = ("class_weighted", "portable_kernels")


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run (one seed); see params.yaml's ``train`` for what each means."""

    epochs: int
    batch_size: int
    lr: float
    momentum: float
    weight_decay: float
    plateau_factor: float
    plateau_patience: int
    early_stopping_patience: int  # epochs without val-accuracy improvement before stopping; 0 = off
    seed: int
    device: str
    bf16: bool  # bf16 autocast for forward + loss
    compile: bool  # torch.compile the model (in place; state_dict keys unchanged)
    eval_batch_size: int
    input_size: int
    deterministic: bool  # deterministic kernels: bit-identical resume on CPU
    schedule: str  # plateau (the paper's) | onecycle (per step) | cosine (per epoch)
    aug_shift: float  # random translation, up to this share of the side (0 = off)
    aug_rotate: float  # random rotation, up to this many degrees
    aug_scale: float  # random zoom in [1 - s, 1 + s]

    @property
    def augments(self) -> bool:
        """Whether batches get a random affine transform besides the flip."""
        return bool(self.aug_shift or self.aug_rotate or self.aug_scale)

    @classmethod
    def from_params(cls, train: Mapping[str, Any], epochs: int, seed: int) -> "TrainConfig":
        """The loaded (checked) ``train`` section plus the stage's epochs and seed: every loop key is read, by name,
        so a section that lacks one fails here rather than training with a value from elsewhere."""
        loop_keys = [k for k in section_spec("train").keys if k not in NOT_LOOP_KEYS]
        return cls(**{k: train[k] for k in loop_keys}, epochs=int(epochs), seed=int(seed))
