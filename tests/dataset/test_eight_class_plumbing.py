"""The class set travels with the data: an 8-class (FER+) dataset reaches an 8-way head and confusion matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.dataset.class_weights import balanced_class_weights
from pipeline.dataset.prepared import PreparedData, load_prepared, save_prepared
from pipeline.evaluation.test_set import score_test_split, write_evaluation
from pipeline.inputs.contract import InputContract
from pipeline.models import build_model, load_model, save_model
from pipeline.sources.ferplus import CLASS_NAMES_8


def _eight_class_data() -> PreparedData:
    rng = np.random.default_rng(0)
    labels = np.tile(np.arange(8), 3)
    split = np.repeat(np.array([0, 1, 2], np.int8), 8)
    soft = np.eye(8, dtype=np.float32)[labels]
    return PreparedData(rng.integers(0, 255, (24, 48, 48), dtype=np.uint8), labels, split, "ferplus", CLASS_NAMES_8,
                        soft_labels=soft)


def test_eight_classes_flow_to_an_eight_way_confusion_matrix(tmp_path):
    save_prepared(tmp_path / "dataset.npz", _eight_class_data())
    data = load_prepared(tmp_path / "dataset.npz")
    assert data.class_names == CLASS_NAMES_8 and data.soft_subset("train").shape == (8, 8)
    assert list(balanced_class_weights(data.subset("train")[1], data.class_names)) == list(CLASS_NAMES_8)
    model = build_model({"family": "vgg13_ferplus", "width": 0.125, "fc_width": 16}, data.num_classes)
    save_model(tmp_path / "model.pt", model, name="vgg13",
               **InputContract.for_images(data.images, data.class_names, 16).to_meta())
    model, meta = load_model(tmp_path / "model.pt")
    metrics, frame = score_test_split(model, meta, data, "cpu")
    assert np.array(metrics["confusion_matrix"]).shape == (8, 8)
    assert set(metrics["per_class"]) == set(CLASS_NAMES_8)
    write_evaluation(tmp_path / "eval", metrics, frame)
    written = pd.read_csv(tmp_path / "eval" / "confusion.csv")
    assert set(written["actual"]) == set(CLASS_NAMES_8)
