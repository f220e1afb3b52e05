"""The release model `analyze` ships with: a trained checkpoint exported to ONNX, scored from the ONNX
file alone on the test split, quantized to int8 (and scored too), with a model card that says how.

    uv run python -m pipeline.export.release --model models/baseline/student_b/model.pt \\
        --data data/prepared/dataset.npz --profile profiles/release.yaml --out release

Writes ``<out>/<name>.onnx``, ``<name>-int8.onnx``, ``<name>.md`` (the card), ``<name>.json`` (every
number on the card) and ``<name>-confusion.png``. The accuracy in the card is measured by
:class:`pipeline.export.classifier.OnnxClassifier` with the preprocessing the metadata names, as
``analyze`` and ``evaluate-folder`` apply the model (flip averaging included when enabled); the CPU
latency of both files (batch 1, batch 32) by :mod:`pipeline.export.latency`.

Only the int8 copy, again, from the committed fp32 file (which stays byte-identical; no checkpoint needed),
rescored and re-timed, its JSON and card rewritten:

    uv run python -m pipeline.export.release --int8-only --data ../shared/data/fer2013.csv.gz --out release
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.atomic import write_json, write_text
from pipeline.core.constants import SPLITS
from pipeline.core.gitinfo import git_commit
from pipeline.core.runfacts import read_run_facts
from pipeline.export import latency
from pipeline.export.classifier import OnnxClassifier
from pipeline.export.metadata import ExportMeta
from pipeline.export.onnx_export import export_onnx, file_sha256
from pipeline.export.parity import check_parity

log = logging.getLogger("release")

PIPELINE_OUTPUTS = ("models/", "reports/", "data/")  # what a run itself rewrites: not a change to its inputs
CALIBRATION_IMAGES = 512  # train images the int8 calibration sees (seeded choice)


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """Test images to the model's input size the way analyze resizes face crops."""
    import cv2

    if images.shape[1] == size:
        return images
    return np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in images])


def onnx_probabilities(path: Path, images: np.ndarray, flip_average: bool | None = None) -> np.ndarray:
    """Class probabilities of an ONNX file from its metadata alone, as analyze applies it."""
    clf = OnnxClassifier(path, threads=1, flip_average=flip_average)  # one thread: robust on a busy machine
    x = _resize(images, clf.input_size)
    return np.concatenate([clf(x[i:i + 512]) for i in range(0, len(x), 512)])


def score_probabilities(probs: np.ndarray, labels: np.ndarray, class_names) -> dict[str, Any]:
    """Test metrics from class probabilities (shared classification_metrics; softmax(log p) = p)."""
    from pipeline.evaluation.metrics import classification_metrics

    return classification_metrics(labels, np.log(np.clip(probs, 1e-12, None)), class_names)


# How the int8 copy is made (metadata x.quantized and the card say it). Measured on FER2013 PrivateTest and a
# 2-core AVX-512 VNNI Xeon (ORT 1.32, docs/analyze.md): int8 activations (S8S8) made the copy 2-4x slower than
# fp32 (ORT's x86 int8 kernels multiply uint8 by int8; S8S8 convolutions whose input feeds two convolutions
# were left in float with their weights dequantized on every run); uint8 activations with int8 per-channel
# weights run ~25 % faster than fp32 at batch 1. Weights use 7 bits (reduce_range): CPUs without VNNI
# (AVX2 only) add uint8 x int8 pairs in 16 bits, which 8-bit weights can saturate; on PrivateTest 7-bit
# weights lost nothing (66.34 % against 66.17 % with 8 bits; fp32 66.01 %) and ran as fast.
INT8_METHOD = ("int8 static QDQ: uint8 activations, per-channel int8 weights in 7 bits (reduce_range), "
               f"calibrated (min-max) on {CALIBRATION_IMAGES} train faces")


def quantize_int8(src: Path, dst: Path, calibration: np.ndarray) -> None:
    """Static int8 quantization with ONNX Runtime, calibrated on train faces (:data:`INT8_METHOD`)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    clf = OnnxClassifier(src, threads=1, flip_average=False)
    batches = [clf.preprocess(_resize(calibration[i:i + 64], clf.input_size)) for i in range(0, len(calibration), 64)]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{clf.meta.input_name: b} for b in batches])

        def get_next(self):
            return next(self.items, None)

    with tempfile.TemporaryDirectory() as tmp:
        prepped = Path(tmp) / "prepped.onnx"
        quant_pre_process(str(src), str(prepped))
        out = Path(tmp) / "int8.onnx"
        quantize_static(str(prepped), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        reduce_range=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        _copy_metadata(src, out)
        dst.write_bytes(out.read_bytes())


def _copy_metadata(src: Path, dst: Path, extra: dict[str, Any] | None = None) -> None:
    """Put ``src``'s metadata (plus ``extra`` as x.<key> entries) on ``dst``; the graph is untouched."""
    import onnx

    props = {p.key: p.value for p in onnx.load(str(src), load_external_data=False).metadata_props}
    props.update({f"x.{k}": json.dumps(v, default=str) for k, v in (extra or {}).items()})
    proto = onnx.load(str(dst))
    del proto.metadata_props[:]
    for key, value in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(dst))


def source_state() -> tuple[str, list[str]]:
    """HEAD of the checkout and the tracked inputs that differ from it (e.g. a profile-edited params.yaml;
    the run's own outputs and dvc.lock are left out): the card names both instead of a bare ``+dirty``."""
    import subprocess

    commit = git_commit().removesuffix("+dirty")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    changed = [line[3:] for line in status.stdout.splitlines()] if status.returncode == 0 else []
    return commit, sorted(f for f in changed if f != "dvc.lock" and not f.startswith(PIPELINE_OUTPUTS))


def build_release(checkpoint: Path, data_path: Path, out_dir: Path, name: str, profile: Path | None,
                  training_metrics: dict[str, Any], flip_average: bool) -> dict[str, Any]:
    """Export, score (fp32 with and without flip averaging, int8), write card + JSON + confusion PNG."""
    from pipeline.dataset.prepared import load_prepared
    from pipeline.evaluation.figures import save_confusion_png
    from pipeline.evaluation.metrics import confusion_frame
    from pipeline.export.release_card import release_card
    from pipeline.inputs.contract import CONTRACT_KEYS, InputContract
    from pipeline.models import count_parameters, load_model

    model, meta = load_model(checkpoint)
    data = load_prepared(data_path)
    test_x, test_y = data.subset("test")
    train_x, _ = data.subset("train")
    if all(k in meta for k in CONTRACT_KEYS):
        contract = InputContract.from_meta(meta, where=str(checkpoint))
    else:  # saved before checkpoints carried their input contract: the data it was trained on says it
        contract = InputContract.for_images(train_x, meta["class_names"], int(meta["input_size"]))
    contract.check_data(train_x, data.class_names, where=str(checkpoint))
    calibration = calibration_faces(train_x)
    commit, changed = source_state()
    extra = {"name": name, "model": meta.get("name"), "kind": meta.get("kind"), "run": meta.get("run"),
             "params": count_parameters(model), "data_source": data.source, "git_commit": commit,
             "profile": str(profile) if profile else None, "flip_average": flip_average,
             "checkpoint_sha256": file_sha256(checkpoint), "uncommitted_changes": changed,
             "profile_text": profile.read_text() if profile else None}
    export_meta = ExportMeta.from_contract(contract, extra)
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32, int8 = out_dir / f"{name}.onnx", out_dir / f"{name}-int8.onnx"
    export_onnx(model, fp32, export_meta)
    parity = check_parity(model, fp32, export_meta)
    probs = {flip: onnx_probabilities(fp32, test_x, flip) for flip in (False, True)}  # each pass run once
    scores = {"fp32_no_flip": score_probabilities(probs[False], test_y, contract.class_names),
              "fp32_flip": score_probabilities(probs[True], test_y, contract.class_names)}
    scores["fp32"] = scores["fp32_flip" if flip_average else "fp32_no_flip"]  # as analyze applies the file
    headline = {"test_acc": scores["fp32"]["test_acc"], "test_split": _test_split_name(data.source)}
    _copy_metadata(fp32, fp32, headline)
    scores["int8"] = make_int8(fp32, int8, calibration, test_x, test_y, contract.class_names)
    record = {"name": name, "git_commit": commit, "parity_max_abs_diff": parity, "files": release_files(fp32, int8),
              "training": training_metrics, "scores": scores, **{k: v for k, v in extra.items() if k != "name"},
              "split_sizes": {split: len(data.subset(split)[1]) for split in SPLITS},
              "int8": {"method": INT8_METHOD, "calibration_data": str(data_path)},
              "latency": latency.compare({fp32.name: fp32, int8.name: int8})}
    write_json(out_dir / f"{name}.json", record)
    predicted = probs[flip_average].argmax(1)
    save_confusion_png(out_dir / f"{name}-confusion.png", confusion_frame(test_y, predicted, data.class_names),
                       f"{name}: {headline['test_split']} {scores['fp32']['test_acc']:.1%}", data.class_names)
    write_text(out_dir / f"{name}.md", release_card(record, export_meta, class_names=data.class_names))
    return record


def calibration_faces(train_x: np.ndarray) -> np.ndarray:
    """The train faces the int8 calibration sees: a seeded choice of :data:`CALIBRATION_IMAGES`."""
    return train_x[np.random.default_rng(0).choice(len(train_x), CALIBRATION_IMAGES, replace=False)]


def make_int8(fp32: Path, int8: Path, calibration: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
              class_names) -> dict[str, Any]:
    """Quantize ``fp32`` (its headline metadata already written, which the copy inherits) to ``int8``, score it
    as analyze applies it, and put its own accuracy and how it was quantized into its metadata."""
    quantize_int8(fp32, int8, calibration)
    score = score_probabilities(onnx_probabilities(int8, test_x), test_y, class_names)
    _copy_metadata(int8, int8, {"test_acc": score["test_acc"], "quantized": INT8_METHOD})
    return score


def release_files(*paths: Path) -> dict[str, dict[str, Any]]:
    return {p.name: {"sha256": file_sha256(p), "size_mib": p.stat().st_size / 2**20} for p in paths}


def load_data(path: Path):
    """The data a release was built from: the prepared dataset (.npz) or FER2013's own CSV (.csv, .csv.gz;
    what ``prepare`` makes of it with the default params: Training -> train, PrivateTest -> test)."""
    from pipeline.dataset.prepared import load_prepared
    from pipeline.sources.fer2013 import read_table

    return load_prepared(path) if path.suffix == ".npz" else read_table(path).data


def rebuild_int8(out_dir: Path, name: str, data_path: Path) -> dict[str, Any]:
    """The int8 copy again from the committed fp32 file (left byte-identical), with :func:`quantize_int8` as
    it is now: rescored, both files re-timed, ``<name>.json`` and the card rewritten. The fp32 file is
    rescored first and must reproduce the record's accuracy: that proves ``data_path`` is its data."""
    from pipeline.export.metadata import read_meta
    from pipeline.export.release_card import release_card

    commit, changed = source_state()  # before anything is rewritten
    fp32, int8 = out_dir / f"{name}.onnx", out_dir / f"{name}-int8.onnx"
    record = json.loads((out_dir / f"{name}.json").read_text())
    fp32_sha = file_sha256(fp32)
    if fp32_sha != record["files"][fp32.name]["sha256"]:
        raise ValueError(f"{fp32} is not the file {out_dir / name}.json describes (sha256 differs)")
    data, meta = load_data(data_path), read_meta(fp32)
    if data.source != record["data_source"] or list(data.class_names) != list(meta.class_names):
        raise ValueError(f"{data_path} is {data.source} {list(data.class_names)}; {fp32} was built from "
                         f"{record['data_source']} {list(meta.class_names)}")
    test_x, test_y = data.subset("test")
    train_x, _ = data.subset("train")
    check = score_probabilities(onnx_probabilities(fp32, test_x), test_y, meta.class_names)["test_acc"]
    if abs(check - record["scores"]["fp32"]["test_acc"]) > 1e-12:
        raise ValueError(f"{fp32} scores {check:.4%} on {data_path}'s test split, its record says "
                         f"{record['scores']['fp32']['test_acc']:.4%}: not the data it was built from")
    record["scores"]["int8"] = make_int8(fp32, int8, calibration_faces(train_x), test_x, test_y, meta.class_names)
    assert file_sha256(fp32) == fp32_sha, "the fp32 file must not change"
    record["files"] = release_files(fp32, int8)
    record["int8"] = {"method": INT8_METHOD, "calibration_data": str(data_path), "rebuilt_at_commit": commit,
                      "rebuilt_with_changes": changed}
    record["latency"] = latency.compare({fp32.name: fp32, int8.name: int8})
    write_json(out_dir / f"{name}.json", record)
    write_text(out_dir / f"{name}.md", release_card(record, meta, class_names=meta.class_names))
    return record


def add_distillation(out_dir: Path, name: str, table4_csv: Path) -> dict[str, Any]:
    """Record what distillation gave (a run folder's Table IV: each distilled student beside itself alone) in
    ``<name>.json`` and rewrite the card; the model files are not touched."""
    from pipeline.export.distillation_note import distillation_summary
    from pipeline.export.metadata import read_meta
    from pipeline.export.release_card import release_card

    record = json.loads((out_dir / f"{name}.json").read_text())
    record["distillation"] = distillation_summary(table4_csv)
    meta = read_meta(out_dir / f"{name}.onnx")
    write_json(out_dir / f"{name}.json", record)
    write_text(out_dir / f"{name}.md", release_card(record, meta, class_names=meta.class_names))
    return record


def _test_split_name(source: str) -> str:
    return {"fer2013": "FER2013 PrivateTest", "ferplus": "FER+ PrivateTest"}.get(source, f"{source} test split")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, help="trained checkpoint (model.pt; metrics.json and run.json beside it)")
    p.add_argument("--int8-only", action="store_true",
                   help="remake only the int8 copy from <out>/<name>.onnx (unchanged), rescore and re-time both, "
                        "rewrite <name>.json and the card; --data may then be FER2013's CSV")
    p.add_argument("--distillation", type=Path, metavar="TABLE4_CSV",
                   help="only record what distillation gave (a run folder's tables/table4_accuracy.csv) in "
                        "<name>.json and on the card; the model files are not touched")
    p.add_argument("--data", default="data/prepared/dataset.npz", type=Path,
                   help="prepared dataset it was trained on (with --int8-only also FER2013's CSV)")
    p.add_argument("--profile", type=Path, help="the params profile it was trained with (named on the card)")
    p.add_argument("--out", default="release", type=Path, help="release folder")
    p.add_argument("--name", default="fer2013", help="file stem of the release files")
    p.add_argument("--no-flip-average", dest="flip_average", action="store_false",
                   help="do not average each face with its mirror image (analyze and evaluate-folder follow the file)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.distillation:
        record = add_distillation(args.out, args.name, args.distillation)
        log.info("%s: card notes %d distillation pair(s) from %s", args.name, len(record["distillation"]["pairs"]),
                 args.distillation)
        return
    if args.int8_only:
        record = rebuild_int8(args.out, args.name, args.data)
        log.info("%s: int8 copy %.2f%% (fp32 %.2f%%)\n%s", args.name, 100 * record["scores"]["int8"]["test_acc"],
                 100 * record["scores"]["fp32"]["test_acc"], latency.describe(record["latency"], list(record["files"])))
        return
    if args.model is None:
        p.error("--model is required (or --int8-only)")
    metrics_file = args.model.with_name("metrics.json")
    training = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    training.update(read_run_facts(args.model.parent))  # where it was trained (device, threads, versions): run.json
    record = build_release(args.model, args.data, args.out, args.name, args.profile, training, args.flip_average)
    s = record["scores"]
    log.info("%s: %s accuracy %.2f%% (no flip %.2f%%, flip-averaged %.2f%%, int8 %.2f%%) -> %s", args.name,
             _test_split_name(record["data_source"]), 100 * s["fp32"]["test_acc"], 100 * s["fp32_no_flip"]["test_acc"],
             100 * s["fp32_flip"]["test_acc"], 100 * s["int8"]["test_acc"], args.out)


if __name__ == "__main__":
    main()
