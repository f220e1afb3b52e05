"""Real recordings for the analyze tests: FER2013 faces drawn into videos with OpenCV's VideoWriter,
and a small seeded student exported through pipeline.export (no dvc repro needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.analyze.demo import Shot, detectable_faces, read_fer_faces, write_video
from pipeline.core.constants import IMAGENET_MEAN, IMAGENET_STD
from pipeline.sources.fer2013 import CLASS_NAMES
from pipeline.export import ExportMeta, export_bundle
from pipeline.models import build_model
from tests.helpers import REPO_ROOT

FPS = 20
# 0-2 s one face drifting; 2-3 s nobody; 3-5 s the participant; 5-6.5 s a second person beside
# them; 6.5-8 s the participant alone again.
SCRIPT = [Shot(0, 2, (0,), (24,)), Shot(2, 3), Shot(3, 5, (1,), (24,)), Shot(5, 6.5, (1, 2), (24, 188)),
          Shot(6.5, 8, (3,), (24,))]
MARKERS = "start,end,label\n0,2,login\n3,5,search\n0:05,8,checkout\n"  # seconds and mm:ss


@pytest.fixture(scope="session")
def face_bank(shared_data) -> np.ndarray:
    bank = detectable_faces(read_fer_faces(shared_data / "fer2013.csv.gz", 16))
    assert len(bank) >= 4, "too few FER2013 faces that the cascade finds"
    return bank


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> tuple[Path, torch.nn.Module]:
    """A seeded, untrained student C-sized network exported as a synthetic-data model."""
    torch.manual_seed(0)
    model = build_model({"width": 0.125, "se_reduction": 1}, len(CLASS_NAMES)).eval()
    folder = tmp_path_factory.mktemp("export")
    meta = ExportMeta(CLASS_NAMES, 32, IMAGENET_MEAN, IMAGENET_STD,
                      extra={"name": "tiny", "data_source": "synthetic", "test_acc": 0.5})
    export_bundle(model, "tiny", folder, meta)
    return folder / "tiny.onnx", model


@pytest.fixture(scope="session")
def recording(tmp_path_factory, face_bank) -> Path:
    folder = tmp_path_factory.mktemp("rec")
    path = folder / "session.avi"
    write_video(path, SCRIPT, face_bank, FPS, drift_px=0.5)
    (folder / "tasks.csv").write_text(MARKERS)
    return path


@pytest.fixture(scope="session")
def analysed(recording, tiny_model, tmp_path_factory) -> Path:
    """The documented command, run as a user runs it (python -m), on the recording."""
    out = tmp_path_factory.mktemp("out") / "analysis"
    proc = subprocess.run([sys.executable, "-m", "pipeline.analyze", str(recording), "--model", str(tiny_model[0]),
                           "--markers", str(recording.with_name("tasks.csv")), "--baseline", "login", "--out", str(out),
                           "--no-progress"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (out / "stderr.txt").write_text(proc.stderr)
    return out


@pytest.fixture(scope="session")
def release_faces(shared_data) -> dict[str, np.ndarray]:
    """Training faces of three classes that the cascade finds and the release model reads as their own
    label (p > 0.8), most confident first: recordings whose expressions the analysis must see."""
    from pipeline.analyze.demo import read_fer_labelled
    from pipeline.export.classifier import OnnxClassifier
    from pipeline.export.resolve import resolve_model

    faces, labels = read_fer_labelled(shared_data / "fer2013.csv.gz", per_class=12, usage="Training")
    classifier = OnnxClassifier(resolve_model("release"))
    banks = {}
    for name in ("neutral", "happy", "angry"):
        bank = detectable_faces(faces[labels == CLASS_NAMES.index(name)])
        p = classifier(bank)[:, CLASS_NAMES.index(name)]
        banks[name] = bank[np.argsort(-p)][: int((p > 0.8).sum())]
        assert len(banks[name]), f"no {name} face that the release model reads as {name}"
    return banks


@pytest.fixture(scope="session")
def browser() -> str:
    from pipeline.browser.chromium import find_chromium

    exe = find_chromium()
    if exe is None:
        pytest.skip("no chromium executable on PATH (.ci/run installs Debian's `chromium` with apt-get)")
    return exe
