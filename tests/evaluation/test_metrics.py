"""Evaluation metrics equal scikit-learn's; ECE matches a hand computation; the evaluate stage writes its outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss, precision_score, recall_score

from pipeline.core.constants import SPLIT_CODE
from pipeline.core.runfacts import machine_keys_in
from pipeline.sources.fer2013 import CLASS_NAMES

NUM_CLASSES = len(CLASS_NAMES)
from pipeline.evaluation.metrics import classification_metrics, confusion_frame, expected_calibration_error

from tests.helpers import REPO_ROOT as REPO


@pytest.fixture
def predictions():
    """Logits that are right about 60% of the time, every class present in the labels."""
    rng = np.random.default_rng(7)
    labels = np.concatenate([np.arange(NUM_CLASSES), rng.integers(0, NUM_CLASSES, 193)])
    logits = rng.normal(size=(len(labels), NUM_CLASSES))
    logits[np.arange(len(labels)), labels] += rng.choice([0.0, 3.0], size=len(labels), p=[0.4, 0.6])
    return labels, logits


def test_metrics_equal_sklearn(predictions):
    labels, logits = predictions
    predicted = logits.argmax(axis=1)
    metrics = classification_metrics(labels, logits, CLASS_NAMES)
    probs = torch.softmax(torch.as_tensor(logits, dtype=torch.float64), 1).numpy()
    ids = list(range(NUM_CLASSES))
    assert metrics["test_acc"] == pytest.approx(accuracy_score(labels, predicted))
    assert metrics["macro_f1"] == pytest.approx(f1_score(labels, predicted, average="macro"))
    assert metrics["test_loss"] == pytest.approx(log_loss(labels, probs, labels=ids), rel=1e-9)
    precision = precision_score(labels, predicted, average=None, labels=ids, zero_division=0)
    recall = recall_score(labels, predicted, average=None, labels=ids, zero_division=0)
    for i, name in enumerate(CLASS_NAMES):
        assert metrics["per_class"][name]["precision"] == pytest.approx(precision[i])
        assert metrics["per_class"][name]["recall"] == pytest.approx(recall[i])
        assert metrics["per_class"][name]["support"] == int((labels == i).sum())
    assert metrics["confusion_matrix"] == confusion_matrix(labels, predicted).tolist()
    assert 0.3 < metrics["test_acc"] < 0.9  # the fixture is neither trivial nor hopeless


def test_confusion_frame_counts_match_sklearn(predictions):
    labels, logits = predictions
    predicted = logits.argmax(axis=1)
    frame = confusion_frame(labels, predicted, CLASS_NAMES)
    assert list(frame.columns) == ["actual", "predicted"] and len(frame) == len(labels)
    counts = pd.crosstab(pd.Categorical(frame["actual"], categories=CLASS_NAMES),
                         pd.Categorical(frame["predicted"], categories=CLASS_NAMES), dropna=False)
    np.testing.assert_array_equal(counts.to_numpy(), confusion_matrix(labels, predicted, labels=range(NUM_CLASSES)))


def test_ece_hand_computation():
    # 15 bins of width 1/15: 0.9 -> (0.867, 0.933]; 0.6 -> (0.533, 0.6]; 0.3 -> (0.267, 0.333].
    # bin 0.9: 2 of 4 samples, acc 0.5, conf 0.9 -> 0.5 * 0.4 = 0.2
    # bin 0.6: 1 of 4, acc 1, conf 0.6 -> 0.25 * 0.4 = 0.1; bin 0.3: 1 of 4, acc 0, conf 0.3 -> 0.075
    ece = expected_calibration_error(np.array([0.9, 0.9, 0.6, 0.3]), np.array([1, 0, 1, 0]))
    assert ece == pytest.approx(0.2 + 0.1 + 0.075)
    # Perfectly calibrated within a bin: zero; too few bins merges the two and changes the answer.
    assert expected_calibration_error(np.array([0.75, 0.75, 0.75, 0.75]), np.array([1, 1, 1, 0])) == pytest.approx(0)
    assert expected_calibration_error(np.array([0.9, 0.6]), np.array([1, 0]), n_bins=1) == pytest.approx(abs(0.5 - 0.75))


def test_ece_rejects_bad_input():
    with pytest.raises(ValueError, match="equal-length"):
        expected_calibration_error(np.array([0.5, 0.5]), np.array([1]))


def test_evaluate_stage_writes_metrics_and_confusion(tmp_path):
    from pipeline.models import build_model, save_model
    from pipeline.dataset.prepared import PreparedData, save_prepared
    from pipeline.inputs.contract import InputContract

    rng = np.random.default_rng(0)
    n = 60
    split = np.full(n, SPLIT_CODE["train"], dtype=np.int8)
    split[-25:] = SPLIT_CODE["test"]
    data = PreparedData(images=rng.integers(0, 256, (n, 20, 20), dtype=np.uint8),
                        labels=rng.integers(0, NUM_CLASSES, n).astype(np.int64), split=split, source="synthetic",
                        class_names=CLASS_NAMES)
    save_prepared(tmp_path / "data/prepared/dataset.npz", data)
    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", build_model({"width": 0.03125, "se_reduction": 1}, NUM_CLASSES),
               name="student_c", kind="distill", run="E6", dataset="synthetic",
               **InputContract(CLASS_NAMES, 16, "grayscale").to_meta())
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["train"].update(device="cpu", eval_batch_size=8)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "stages.evaluate", "--model", "m.pt", "--data", "data/prepared/dataset.npz",
                           "--out", "out/E6"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "out/E6/metrics.json").read_text())
    frame = pd.read_csv(tmp_path / "out/E6/confusion.csv")
    assert len(frame) == metrics["n_test"] == 25
    assert (frame["actual"] == frame["predicted"]).mean() == pytest.approx(metrics["test_acc"])
    assert list(frame["actual"]) == [CLASS_NAMES[i] for i in data.labels[-25:]]
    assert {"test_loss", "macro_f1", "ece", "per_class", "model", "kind", "run", "params", "dataset"} <= set(metrics)
    assert metrics["run"] == "E6"
    # where it ran is the run facts beside the metrics (issue 28), never a key `dvc metrics diff` reads
    assert machine_keys_in(metrics) == []
    facts = json.loads((tmp_path / "out/E6/run.json").read_text())
    assert facts["device"].startswith("cpu") and facts["threads"] >= 1 and facts["torch"] and facts["python"]
    assert (tmp_path / "out/E6/confusion.png").stat().st_size > 1000

    # A missing checkpoint is a one-line error naming the file, and writes nothing.
    proc = subprocess.run([sys.executable, "-m", "stages.evaluate", "--model", "nope.pt", "--data", "data/prepared/dataset.npz",
                           "--out", "out/X"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "nope.pt" in proc.stderr and not (tmp_path / "out/X").exists()
