"""Shared test fixtures: repository paths and the optional real data beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pipeline  # noqa: F401  (no-network environment for every test)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

os.environ.setdefault("DVC_NO_ANALYTICS", "1")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data when present (real FER2013, FER+ and RAF-DB labels); tests using it skip otherwise."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available at {SHARED_DATA}")
    return SHARED_DATA
