"""The release builder end to end on a tiny model: both files scored and timed side by side on the card,
the int8 copy made as INT8_METHOD says; ``--int8-only`` remakes the copy from the fp32 file alone, which
stays byte-identical, and refuses data the fp32 file was not built from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.dataset.prepared import PreparedData, save_prepared
from pipeline.export import latency
from pipeline.export.onnx_export import file_sha256
from pipeline.export.release import CALIBRATION_IMAGES, INT8_METHOD, build_release, main
from pipeline.inputs.contract import InputContract
from pipeline.models import save_model
from pipeline.sources.fer2013 import CLASS_NAMES
from tests.fixtures_training import INPUT_SIZE, tiny_model


def _metadata(path) -> dict:
    import onnx

    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}


def _data(seed: int) -> PreparedData:
    rng = np.random.default_rng(seed)
    n_train, n_val, n_test = CALIBRATION_IMAGES + 8, 14, 35
    labels = np.arange(n_train + n_val + n_test) % 7
    images = (rng.integers(0, 96, (len(labels), 20, 20)) + labels[:, None, None] * 20).astype(np.uint8)
    split = np.repeat(np.array([0, 1, 2], dtype=np.int8), [n_train, n_val, n_test])
    return PreparedData(images, labels, split, "fer2013", CLASS_NAMES)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    data = _data(0)
    save_prepared(root / "dataset.npz", data)
    contract = InputContract.for_images(data.images, CLASS_NAMES, INPUT_SIZE)
    save_model(root / "model.pt", tiny_model(), name="tiny", kind="baseline", run="tiny", **contract.to_meta())
    record = build_release(root / "model.pt", root / "dataset.npz", root / "out", "toy", None, {}, True)
    return root, record


def test_card_puts_both_files_speed_and_accuracy_side_by_side(built):
    root, record = built
    out = root / "out"
    assert set(record["latency"]["files"]) == {"toy.onnx", "toy-int8.onnx"}
    for per in record["latency"]["files"].values():
        for t in (1, 2):
            assert per[f"threads_{t}"]["batch1_ms"] > 0 and per[f"threads_{t}"]["batch32_images_per_s"] > 0
    card = (out / "toy.md").read_text()
    assert "## Speed (CPU, ONNX Runtime)" in card and "| `toy.onnx` |" in card and "| `toy-int8.onnx` |" in card
    int8_ms = record["latency"]["files"]["toy-int8.onnx"]["threads_1"]["batch1_ms"]
    assert f"{int8_ms:.3f} ms" in card
    assert ("is faster than fp32 here" in card) != ("is **slower** than fp32 here" in card)
    assert record["int8"]["method"] == INT8_METHOD == json.loads(_metadata(out / "toy-int8.onnx")["x.quantized"])
    assert json.loads(_metadata(out / "toy-int8.onnx")["x.test_acc"]) == pytest.approx(record["scores"]["int8"]["test_acc"])


def test_int8_only_remakes_the_copy_and_leaves_fp32_byte_identical(built):
    root, _ = built
    out = root / "out"
    fp32_sha = file_sha256(out / "toy.onnx")
    (out / "toy-int8.onnx").write_bytes(b"stale")
    main(["--int8-only", "--data", str(root / "dataset.npz"), "--out", str(out), "--name", "toy"])
    assert file_sha256(out / "toy.onnx") == fp32_sha
    record = json.loads((out / "toy.json").read_text())
    assert record["files"]["toy-int8.onnx"]["sha256"] == file_sha256(out / "toy-int8.onnx")
    assert record["int8"]["rebuilt_at_commit"] and record["int8"]["method"] == INT8_METHOD
    assert "int8 copy remade from the fp32 file" in (out / "toy.md").read_text()
    assert latency.describe(record["latency"], ["toy.onnx", "toy-int8.onnx"]).count("batch 1") == 2


def test_int8_only_refuses_data_or_files_the_record_does_not_describe(built, tmp_path):
    import shutil

    root, _ = built
    out = shutil.copytree(root / "out", tmp_path / "out")
    record = json.loads((out / "toy.json").read_text())
    record["scores"]["fp32"]["test_acc"] += 0.01  # as if the data scored differently from the build's
    (out / "toy.json").write_text(json.dumps(record))
    args = ["--int8-only", "--data", str(root / "dataset.npz"), "--out", str(out), "--name", "toy"]
    with pytest.raises(ValueError, match="not the data it was built from"):
        main(args)
    (out / "toy.onnx").write_bytes((out / "toy.onnx").read_bytes() + b"\0")
    with pytest.raises(ValueError, match="sha256 differs"):
        main(args)
