"""Resumable training state: written atomically after every epoch, loaded only with weights_only.

A checkpoint holds tensors and plain containers only (model/optimizer/scheduler state dicts,
counters, history, every torch RNG state), tagged with a fingerprint of the config and data so a
stale checkpoint from a different run is ignored instead of silently resumed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.core.atomic import save_torch

log = logging.getLogger(__name__)

CHECKPOINT_ROOT = Path(".cache/checkpoints")


def checkpoint_path(run_id: str, seed: int, root: str | os.PathLike = CHECKPOINT_ROOT) -> Path:
    return Path(root) / run_id / f"seed{seed}.pt"


def array_digest(*arrays: np.ndarray | torch.Tensor) -> str:
    """sha256 over arrays' dtype, shape and bytes: the identity of a dataset or soft-target table."""
    h = hashlib.sha256()
    for arr in arrays:
        if isinstance(arr, torch.Tensor):
            arr = arr.detach().cpu().numpy()
        arr = np.ascontiguousarray(arr)
        h.update(f"{arr.dtype}{arr.shape}".encode())
        h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


def fingerprint(**parts: Any) -> str:
    """Stable hash of JSON-able parts (config dict, data digests, model spec...)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def capture_rng(generator: torch.Generator) -> dict[str, Any]:
    """Every RNG the trainer draws from: its data generator and torch's global CPU/CUDA RNGs (dropout)."""
    state = {"data": generator.get_state(), "torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["torch_cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any], generator: torch.Generator) -> None:
    generator.set_state(state["data"])
    torch.set_rng_state(state["torch_cpu"])
    if "torch_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["torch_cuda"])


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    save_torch(path, state)


def load_checkpoint(path: str | os.PathLike, expected_fingerprint: str, run: str = "") -> dict[str, Any] | None:
    """The saved state if it exists and matches ``expected_fingerprint``; None (logged) otherwise.

    Loading uses ``weights_only=True``: a file holding arbitrary pickled objects is refused with
    an error rather than executed.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # an unreadable or unsafe file must not be resumed from
        raise RuntimeError(f"{run}: refusing checkpoint {path}: cannot be loaded with weights_only=True ({exc}); delete it to start over") from exc
    if not isinstance(state, dict) or state.get("fingerprint") != expected_fingerprint:
        log.warning("%s: ignoring checkpoint %s: it belongs to a different config or dataset", run, path)
        return None
    return state


def clear_checkpoints(run_id: str, root: str | os.PathLike = CHECKPOINT_ROOT) -> None:
    """Remove a finished run's scratch checkpoints (called once its outputs are written)."""
    folder = Path(root) / run_id
    if folder.exists():
        for item in folder.glob("*.pt"):
            item.unlink()
        try:
            folder.rmdir()
        except OSError:
            pass
