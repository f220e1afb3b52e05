"""Atomic writes: the same object saved twice gives the same bytes (DVC hashes must not churn)."""

from __future__ import annotations

import torch

from pipeline.core.atomic import save_torch


def test_save_torch_is_byte_identical_across_paths_and_runs(tmp_path):
    state = {"weight": torch.arange(12.0).reshape(3, 4), "epoch": 3}
    save_torch(tmp_path / "a" / "model.pt", state)
    save_torch(tmp_path / "b" / "model.pt", state)
    first, second = (tmp_path / "a" / "model.pt").read_bytes(), (tmp_path / "b" / "model.pt").read_bytes()
    assert first == second
    assert torch.equal(torch.load(tmp_path / "a" / "model.pt")["weight"], state["weight"])
    assert list(tmp_path.glob("**/.model.pt.*")) == []  # no temporary file left behind
