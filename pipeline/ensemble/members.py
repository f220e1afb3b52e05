"""The members' outputs on every split, each at its own input size, computed once per member.

Members differ in input size (VGG13 at 64, ResNet-18 at 32...), so each gets its own resized copy
of the prepared uint8 images. Train logits cover each image and its mirror, the soft-target
table's (N, 2, K) layout; a member that already has that table (the ResEmoteNet teacher's
soft_targets stage) reuses it instead of being run again.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from pipeline.inputs.contract import InputContract
from pipeline.inputs.device_data import DeviceSplit, predict_logits
from pipeline.dataset.prepared import PreparedData
from pipeline.models import count_parameters, load_model
from pipeline.training.soft_targets import compute_soft_targets, load_soft_targets

log = logging.getLogger(__name__)


@dataclass
class MemberOutputs:
    """One member's logits: val (N_val, K), test (N_test, K), train (N_train, 2, K)."""

    name: str
    checkpoint: str
    model_name: str
    family: str
    params: int
    input_size: int
    logits: dict[str, torch.Tensor] = field(default_factory=dict)


def member_outputs(name: str, checkpoint: str | os.PathLike, data: PreparedData, device: torch.device,
                   batch_size: int = 256, train_table: str | os.PathLike | None = None,
                   splits: tuple[str, ...] = ("val", "test", "train")) -> MemberOutputs:
    """Load one member and compute (or, for the train table, reuse) its logits on ``splits``."""
    model, meta = load_model(checkpoint, map_location=device)
    contract = InputContract.from_meta(meta, where=str(checkpoint))
    contract.check_data(data.images, data.class_names, where=f"{checkpoint} (retrain it on the current data)")
    size = contract.input_size
    out = MemberOutputs(name, str(checkpoint), str(meta.get("name")), str(model.model_spec["family"]),
                        count_parameters(model), size)
    for split in tqdm(splits, desc=f"ensemble member {name}", unit="split", leave=False):
        images, labels = data.subset(split)
        if split == "train" and train_table is not None:
            out.logits[split] = torch.from_numpy(load_soft_targets(train_table, len(labels), data.num_classes))
            continue
        device_split = DeviceSplit.from_arrays(images, labels, size, device)
        if split == "train":
            out.logits[split] = torch.from_numpy(compute_soft_targets(model, device_split, batch_size))
        else:
            out.logits[split] = predict_logits(model, device_split, batch_size=batch_size, mean=contract.mean,
                                               std=contract.std).cpu()
    log.info("member %s (%s, %s params, input %d): logits ready", name, out.family, f"{out.params:,}", size)
    return out

