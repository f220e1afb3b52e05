"""The data stages wired by real DVC in a throwaway git repo: repro to class_weights, then a clean status."""

from __future__ import annotations

import json

import numpy as np

from tests.helpers import dvc, project_copy, tiny

DATA_STAGES = ("generate", "validate", "prepare", "class_weights")


def test_dvc_repro_class_weights_then_status_clean(tmp_path):
    def with_timeouts(params):  # the section docs/prefect.md documents: every stage still runs
        tiny(params)
        params["orchestration"] = {"timeout_s": {"default": 3600}}

    repo = project_copy(tmp_path / "repo", with_timeouts, stages=DATA_STAGES)
    dvc(repo, "repro", "class_weights")
    weights = json.loads((repo / "data" / "prepared" / "class_weights.json").read_text())
    assert list(weights)[:2] == ["angry", "disgust"] and weights["disgust"] > weights["happy"]
    counts = json.loads((repo / "reports" / "class_counts.json").read_text())
    assert [counts[s]["total"] for s in ("train", "val", "test")] == [140, 70, 70]
    with np.load(repo / "data" / "prepared" / "dataset.npz") as npz:
        assert list(npz["class_names"]) == list(weights)  # the class set travels with the data
    assert (repo / "data" / "raw" / "synthetic.csv.gz").exists()
    status = dvc(repo, "status").stdout
    assert "up to date" in status.lower(), status
