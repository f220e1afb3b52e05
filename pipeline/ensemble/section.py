"""The params.yaml ``emoxnet`` section, with one clear error where it is missing (importable without torch)."""

from __future__ import annotations

from typing import Any


def emoxnet_section(params: dict[str, Any]) -> dict[str, Any]:
    if "emoxnet" not in params:
        raise ValueError("params.yaml has no `emoxnet` section (see README, \"EmoXNet\")")
    return params["emoxnet"]
