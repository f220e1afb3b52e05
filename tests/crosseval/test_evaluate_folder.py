"""`uv run evaluate-folder` as users run it: real FER2013 faces in class-named folders, the release model."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from pipeline.core.constants import IMAGENET_MEAN, IMAGENET_STD
from pipeline.crosseval import canonical_class, read_folder
from pipeline.export import ExportMeta, export_bundle
from pipeline.export.resolve import RELEASE_MODELS
from pipeline.models import build_model
from pipeline.sources.ferplus import CLASS_NAMES_7, CLASS_NAMES_8
from tests.crosseval.conftest import FOLDERS, PER_CLASS
from tests.helpers import REPO_ROOT, subprocess_env


def evaluate_folder(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The console script exactly as README shows it (`uv run evaluate-folder ...`)."""
    return subprocess.run(["uv", "run", "--project", str(REPO_ROOT), "evaluate-folder", *args], cwd=cwd,
                          env=subprocess_env(), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def eight_class_model(tmp_path_factory) -> Path:
    """An untrained 8-class (FER+) network: contempt becomes a class it has."""
    torch.manual_seed(0)
    model = build_model({"width": 0.125, "se_reduction": 1}, 8).eval()
    folder = tmp_path_factory.mktemp("export8")
    export_bundle(model, "ferplus8", folder, ExportMeta(CLASS_NAMES_8, 32, IMAGENET_MEAN, IMAGENET_STD,
                                                        extra={"name": "ferplus8", "data_source": "ferplus"}))
    return folder / "ferplus8.onnx"


def test_alias_table_maps_dataset_spellings():
    assert [canonical_class(n) for n in ("anger", "Sadness", "happiness", "HA", "03_fear", "surprised", "contempt")] == \
        ["angry", "sad", "happy", "happy", "fear", "surprise", "contempt"]
    assert canonical_class("notes") is None


def test_release_model_on_real_faces(labelled_folder, tmp_path):
    """README's first command as written: the default model (the release), printed accuracy and recall,
    JSON + PNG at the default place, contempt reported as skipped."""
    shutil.copytree(labelled_folder, tmp_path / "faces")
    result = evaluate_folder("faces/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "evaluation" / "faces" / "fer2013.json"
    scores = json.loads(out.read_text())
    assert out.with_suffix(".png").stat().st_size > 10_000
    assert scores["model_file"] == str(RELEASE_MODELS["release"]) and not scores["trained_on_synthetic_data"]
    assert scores["n_images"] == PER_CLASS * len(FOLDERS)
    assert scores["folders"] == {name: CLASS_NAMES_7[label] for name, label in FOLDERS.items()}
    assert set(scores["skipped_folders"]) == {"contempt", "notes"}
    assert "not one of the model's classes" in scores["skipped_folders"]["contempt"]
    # 84 real PrivateTest faces: chance is 1/7; the release model scores ~60 % on the whole split.
    assert scores["accuracy"] >= 0.45
    assert sum(scores["per_class"][c]["support"] for c in CLASS_NAMES_7) == scores["n_images"]
    counts = np.asarray(scores["confusion_matrix"]["counts"])
    assert counts.shape == (7, 7) and counts.sum() == scores["n_images"]
    assert np.trace(counts) / counts.sum() == pytest.approx(scores["accuracy"])
    assert f"accuracy {100 * scores['accuracy']:.2f}%" in result.stdout
    assert "skipped contempt/: class 'contempt' is not one of the model's classes" in result.stdout
    assert "happy" in result.stdout and "recall" in result.stdout


def test_named_run_and_json_path(labelled_folder, tmp_path):
    """README's second command as written: a run name looked up in ./models/export, --json with the PNG beside it."""
    shutil.copytree(labelled_folder, tmp_path / "faces")
    torch.manual_seed(0)
    model = build_model({"width": 0.125, "se_reduction": 1}, 7).eval()
    export_bundle(model, "E4", tmp_path / "models" / "export",
                  ExportMeta(CLASS_NAMES_7, 32, IMAGENET_MEAN, IMAGENET_STD, extra={"name": "E4", "data_source": "synthetic"}))
    result = evaluate_folder("faces/", "--model", "E4", "--json", "out/faces.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    scores = json.loads((tmp_path / "out" / "faces.json").read_text())
    assert (tmp_path / "out" / "faces.png").exists()
    assert scores["model"] == "E4" and scores["trained_on_synthetic_data"]
    assert "WARNING: this model was trained on GENERATED (synthetic) data" in result.stdout


def test_ferplus_release_scores_contempt(labelled_folder, tmp_path):
    """README's command with the FER+ release: contempt is one of its classes, so that folder is scored."""
    shutil.copytree(labelled_folder, tmp_path / "faces")
    result = evaluate_folder("faces/", "--model", "release-ferplus", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    scores = json.loads((tmp_path / "evaluation" / "faces" / "ferplus.json").read_text())
    assert scores["model_file"] == str(RELEASE_MODELS["release-ferplus"]) and not scores["trained_on_synthetic_data"]
    assert scores["folders"]["contempt"] == "contempt" and set(scores["skipped_folders"]) == {"notes"}
    assert scores["n_images"] == PER_CLASS * len(FOLDERS) + 1
    assert scores["accuracy"] >= 0.45  # real FER2013 faces, FER2013's labels; chance is 12.5 %


def test_eight_class_model_keeps_contempt(labelled_folder, eight_class_model):
    folder = read_folder(labelled_folder, CLASS_NAMES_8, 32)
    assert folder.folders["contempt"] == "contempt" and "contempt" not in folder.skipped
    assert folder.images.shape == (PER_CLASS * len(FOLDERS) + 1, 32, 32)


def test_rgb_model_gets_rgb_images(labelled_folder):
    folder = read_folder(labelled_folder, CLASS_NAMES_7, 40, image_mode="rgb")
    assert folder.images.shape[1:] == (40, 40, 3)


@pytest.mark.parametrize("case", ["empty", "unreadable", "no_class", "missing"])
def test_bad_input_names_the_path(case, tmp_path, fer_faces):
    root = tmp_path / "data"
    root.mkdir()
    if case == "unreadable":
        (root / "happy").mkdir()
        cv2.imwrite(str(root / "happy" / "ok.png"), fer_faces[3][0])
        (root / "happy" / "broken.png").write_bytes(b"not an image at all")
        expected = f"{root / 'happy' / 'broken.png'}: not a readable PNG/JPEG image"
    elif case == "no_class":
        (root / "holiday").mkdir()
        cv2.imwrite(str(root / "holiday" / "a.png"), fer_faces[3][0])
        expected = f"{root}: no subfolder maps to a class of the model"
    elif case == "missing":
        shutil.rmtree(root)
        expected = f"{root}: not a folder"
    else:
        expected = f"{root}: no class subfolders"
    out = tmp_path / "out.json"
    result = evaluate_folder(str(root), "--json", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert not out.exists()
