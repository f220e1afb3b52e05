"""Shared fixtures: the optional real data beside the checkout."""

from __future__ import annotations

import os

import pytest

import pipeline  # noqa: F401  (no-network environment for every test)
from tests.helpers import REPO_ROOT, SHARED_DATA

os.environ.setdefault("DVC_NO_ANALYTICS", "1")


@pytest.fixture(scope="session")
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data():
    """../shared/data when present (real FER2013, FER+ and RAF-DB labels); tests using it skip otherwise."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available at {SHARED_DATA}")
    return SHARED_DATA
