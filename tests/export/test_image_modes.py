"""Grayscale and RGB data end to end: training writes the input contract into the checkpoint, evaluation,
the export stage and the analyze classifier read it back (nothing is guessed), and every consumer feeds
the network exactly what training fed it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml

from pipeline.dataset.prepared import PreparedData
from pipeline.evaluation.test_set import score_test_split
from pipeline.export import read_meta
from pipeline.export.classifier import OnnxClassifier
from pipeline.inputs.contract import InputContract
from pipeline.inputs.device_data import resize_uint8, to_model_input
from pipeline.models import load_model, save_model
from pipeline.training.losses import build_loss
from pipeline.training.runs import RunSpec, train_over_seeds
from tests.fixtures_training import INPUT_SIZE, TEST_TRAIN, TINY_SPEC
from tests.helpers import REPO_ROOT

CLASSES = tuple(f"c{i}" for i in range(7))


def prepared(mode: str, n_train: int = 28, n_val: int = 14, n_test: int = 14) -> PreparedData:
    rng = np.random.default_rng(0)
    n = n_train + n_val + n_test
    labels = np.arange(n, dtype=np.int64) % 7
    shape = (n, 20, 20) if mode == "grayscale" else (n, 20, 20, 3)
    images = rng.integers(0, 96, shape)
    if mode == "rgb":  # the class is in one colour channel: a grey version would lose it
        images[..., 0] += labels[:, None, None] * 20
    else:
        images += labels[:, None, None] * 20
    split = np.repeat(np.array([0, 1, 2], dtype=np.int8), [n_train, n_val, n_test])
    return PreparedData(images.astype(np.uint8), labels, split, "rafdb" if mode == "rgb" else "fer2013", CLASSES)


@pytest.mark.parametrize("mode", ["grayscale", "rgb"])
def test_image_mode_travels_from_training_to_export_and_analyze(mode, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # scratch checkpoints live under ./.cache
    data = prepared(mode)
    out = tmp_path / "models" / "teacher"
    train_params = {**TEST_TRAIN, "input_size": INPUT_SIZE, "batch_size": 16, "lr": 0.02, "device": "cpu",
                    "eval_batch_size": 64}
    spec = RunSpec(kind="teacher", name="teacher", model_name="tiny", model_spec=TINY_SPEC, out_dir=out)
    train_over_seeds(spec, data, train_params, epochs=1, seeds=[0], loss=build_loss({"name": "ce"}, "teacher.loss"),
                     class_weights=None)

    model, meta = load_model(out / "model.pt")
    contract = InputContract.from_meta(meta)
    assert contract == InputContract(CLASSES, INPUT_SIZE, mode)  # ImageNet mean/std, three channels

    metrics, _ = score_test_split(model, meta, data, "cpu")
    assert metrics["image_mode"] == mode and metrics["n_test"] == 14
    other = prepared("rgb" if mode == "grayscale" else "grayscale")
    with pytest.raises(ValueError, match=f"trained on {mode} images"):
        score_test_split(model, meta, other, "cpu")

    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    proc = subprocess.run([sys.executable, "-m", "stages.export", "--models", "models", "--out", "models/export"],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    onnx_path = tmp_path / "models" / "export" / "teacher.onnx"
    exported = read_meta(onnx_path)
    assert (exported.image_mode, exported.channels, exported.input_size) == (mode, 3, INPUT_SIZE)
    assert exported.contract == contract
    card = onnx_path.with_suffix(".md").read_text()
    assert ("RGB face crop" in card) == (mode == "rgb")
    assert json.loads((tmp_path / "models" / "export" / "index.json").read_text())["models"]["teacher"]["file"] == \
        "teacher.onnx"

    # analyze's classifier on crops of the test images == the PyTorch model on the training input path
    images, _ = data.subset("test")
    crops = resize_uint8(images, INPUT_SIZE)  # (n, C, S, S) uint8, as training holds them
    numpy_crops = crops[:, 0].numpy() if mode == "grayscale" else crops.permute(0, 2, 3, 1).numpy()
    classifier = OnnxClassifier(onnx_path)
    assert classifier.image_mode == mode
    got = classifier(numpy_crops)
    with torch.no_grad():
        want = torch.softmax(model.eval()(to_model_input(crops)), dim=1).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_a_checkpoint_without_the_contract_is_refused_not_guessed(tmp_path):
    from pipeline.models import build_model

    save_model(tmp_path / "old.pt", build_model(TINY_SPEC, 7), name="tiny", input_size=16, class_names=list(CLASSES))
    _, meta = load_model(tmp_path / "old.pt")
    with pytest.raises(ValueError, match="lacks channels, image_mode, mean, std.*retrain it"):
        InputContract.from_meta(meta, where="old.pt")
    with pytest.raises(ValueError, match="image_mode must be one of grayscale, rgb"):
        InputContract(CLASSES, 16, "bgr")
