"""The cross_evaluate@<name> stage through real `dvc repro`, and the report's cross-dataset table."""

from __future__ import annotations

import json
import shutil

import torch

from pipeline.core.constants import IMAGENET_MEAN, IMAGENET_STD
from pipeline.export import ExportMeta, export_bundle
from pipeline.models import build_model
from pipeline.reporting.cross_dataset import write_cross_dataset
from pipeline.sources.fer2013 import CLASS_NAMES
from tests.crosseval.conftest import FOLDERS, PER_CLASS
from tests.helpers import dvc, project_copy


def _export_tiny(folder, name, seed):
    torch.manual_seed(seed)
    model = build_model({"width": 0.125, "se_reduction": 1}, len(CLASS_NAMES)).eval()
    export_bundle(model, name, folder, ExportMeta(CLASS_NAMES, 32, IMAGENET_MEAN, IMAGENET_STD,
                                                  extra={"name": name, "data_source": "synthetic"}))


def test_cross_evaluate_items_follow_params(tmp_path, labelled_folder):
    project = project_copy(tmp_path / "p", params_update=lambda p: p.update(cross_eval={"faces": "faces"}),
                           stages=("cross_evaluate",))
    shutil.copytree(labelled_folder, project / "faces")
    shutil.rmtree(project / "release")  # the shipped models: two tiny ones stand in for them
    _export_tiny(project / "models" / "export", "E6", 0)
    _export_tiny(project / "release", "fer2013", 1)
    assert "cross_evaluate@faces" in dvc(project, "stage", "list").stdout
    dvc(project, "repro")
    out = project / "reports" / "cross_eval" / "faces"
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["models"]) == {"E6", "fer2013"}
    for model, row in summary["models"].items():
        assert row["n_images"] == PER_CLASS * len(FOLDERS)
        assert set(row["skipped_folders"]) == {"contempt", "notes"}
        assert (out / "models" / f"{model}.png").exists()
        per_model = json.loads((out / "models" / f"{model}.json").read_text())
        assert per_model["accuracy"] == row["accuracy"]
    assert "faces" in dvc(project, "metrics", "show").stdout
    assert "up to date" in dvc(project, "status").stdout  # a second repro has nothing to do

    tables = tmp_path / "tables"
    assert write_cross_dataset(project / "reports" / "cross_eval", tables)
    text = (tables / "cross_dataset.md").read_text()
    assert "| E6 " in text and "| fer2013 " in text and "faces acc %" in text
    assert "`faces`: contempt/ skipped" in text
    shutil.rmtree(project / "reports" / "cross_eval" / "faces")
    assert not write_cross_dataset(project / "reports" / "cross_eval", tables)  # stale table removed
    assert not (tables / "cross_dataset.md").exists()


def test_default_params_have_no_cross_evaluate_item(tmp_path):
    project = project_copy(tmp_path / "p", stages=("cross_evaluate",))
    assert "cross_evaluate" not in dvc(project, "stage", "list").stdout
