"""ONNX export: metadata round trip, dynamic batch parity, model card, and the export stage itself."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import yaml

from pipeline.core.constants import IMAGENET_MEAN, IMAGENET_STD
from pipeline.sources.fer2013 import CLASS_NAMES
from pipeline.export import ExportMeta, check_parity, export_bundle, read_meta
from pipeline.inputs.contract import InputContract
from pipeline.models import build_model, save_model

from tests.helpers import REPO_ROOT
TINY = {"width": 0.125, "se_reduction": 1}


def tiny(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(TINY, len(CLASS_NAMES)).eval()


def test_export_carries_metadata_and_matches_pytorch_at_any_batch(tmp_path):
    model = tiny()
    meta = ExportMeta(CLASS_NAMES, 32, IMAGENET_MEAN, IMAGENET_STD,
                      extra={"name": "E6", "data_source": "fer2013", "test_acc": 0.61, "git_commit": "abc"})
    result = export_bundle(model, "E6", tmp_path, meta)
    path = tmp_path / "E6.onnx"
    onnx.checker.check_model(str(path))
    back = read_meta(path)
    assert back == meta and back.synthetic is False
    assert result["parity_max_abs_diff"] < 1e-4 and result["trained_on_synthetic_data"] is False
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 3, 17):  # the batch axis is dynamic
        x = np.random.default_rng(batch).standard_normal((batch, 3, 32, 32), dtype=np.float32)
        got = session.run(None, {"input": x})[0]
        with torch.no_grad():
            np.testing.assert_allclose(got, model(torch.from_numpy(x)).numpy(), atol=1e-4)
    card = (tmp_path / "E6.md").read_text()
    assert "fer2013" in card and "61.00%" in card and "WARNING" not in card and "Limits" in card


def test_parity_check_catches_a_different_model(tmp_path):
    meta = ExportMeta(CLASS_NAMES, 32, IMAGENET_MEAN, IMAGENET_STD, extra={"data_source": "synthetic"})
    export_bundle(tiny(0), "m", tmp_path, meta)
    with pytest.raises(RuntimeError, match="differ from PyTorch"):
        check_parity(tiny(1), tmp_path / "m.onnx", meta)
    assert "WARNING: trained on generated" in (tmp_path / "m.md").read_text()


def test_metadata_errors_name_the_file(tmp_path):
    bad = tmp_path / "x.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(ValueError, match="x.onnx: not a readable ONNX model"):
        read_meta(bad)
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        read_meta(tmp_path / "missing.onnx")


def test_export_stage_exports_every_trained_model(tmp_path):
    """stages.export over a pipeline-shaped models/ folder (tiny checkpoints), as dvc runs it."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    for folder, kind, run in (("models/teacher", "teacher", "teacher"), ("models/distill/E6", "distill", "E6"),
                              ("models/baseline/student_c", "baseline", "student_c")):
        save_model(tmp_path / folder / "model.pt", tiny(), name="student_c", kind=kind, run=run,
                   dataset="synthetic", seed=0, **InputContract(CLASS_NAMES, 32, "grayscale").to_meta())
        (tmp_path / folder / "metrics.json").write_text(json.dumps({"kind": kind, "run": run, "test_acc": 0.4}))
    stale = [tmp_path / "models/export/E2.onnx", tmp_path / "models/export/E2.md"]  # a run since removed
    stale[0].parent.mkdir(parents=True)
    for path in stale:
        path.write_text("old")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-m", "stages.export", "--models", "models", "--out", "models/export"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    index = json.loads((tmp_path / "models/export/index.json").read_text())
    assert list(index["models"]) == ["teacher", "E6", "baseline_student_c"]
    for name, row in index["models"].items():
        meta = read_meta(tmp_path / "models/export" / row["file"])
        assert meta.extra["name"] == name and meta.synthetic and meta.extra["test_acc"] == 0.4
        assert row["parity_max_abs_diff"] <= 1e-3 and (tmp_path / "models/export" / f"{name}.md").exists()
    assert "SYNTHETIC" in proc.stderr
    assert not any(path.exists() for path in stale)
    # A re-run writes the same bytes (no wall times, no commit stamp): dvc.lock's hash of models/export holds.
    exported = {p.name: p.read_bytes() for p in (tmp_path / "models/export").iterdir()}
    assert not any("seconds" in key for row in index["models"].values() for key in row)
    md5 = hashlib.md5((tmp_path / "models/teacher/model.pt").read_bytes()).hexdigest()
    assert read_meta(tmp_path / "models/export/teacher.onnx").extra["checkpoint_md5"] == md5
    assert "git_commit" not in read_meta(tmp_path / "models/export/teacher.onnx").extra
    again = subprocess.run([sys.executable, "-m", "stages.export", "--models", "models", "--out", "models/export"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "models/export").iterdir()} == exported
