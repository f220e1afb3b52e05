"""Score every exported model in some folders on one labelled image folder (the cross_evaluate stage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.core.stale import remove_stale
from pipeline.crosseval.folder import read_folder
from pipeline.crosseval.score import score_folder, write_scores
from pipeline.export.classifier import OnnxClassifier


def evaluate_models(name: str, folder: Path, model_dirs: list[Path], out: Path) -> dict[str, Any]:
    """One <model>.json + .png per model under ``out/models``; returns the summary (accuracy per model).

    Output files of models no longer present are removed, so the report never shows a stale row.
    """
    models = sorted({p for d in model_dirs for p in Path(d).glob("*.onnx")})
    if not models:
        raise FileNotFoundError(f"no exported .onnx model in {', '.join(map(str, model_dirs))}: run the export stage first")
    per_model = out / "models"
    per_model.mkdir(parents=True, exist_ok=True)
    rows, cache = {}, {}
    for path in models:
        clf = OnnxClassifier(path)
        meta = clf.meta
        key = (meta.class_names, meta.input_size, meta.image_mode)
        if key not in cache:  # read the folder once per preprocessing
            cache[key] = read_folder(folder, meta.class_names, meta.input_size, meta.image_mode)
        scores = score_folder(clf, cache[key])
        stem = path.stem
        write_scores(per_model / f"{stem}.json", scores, cache[key])
        rows[stem] = {k: scores[k] for k in ("accuracy", "macro_f1_present_classes", "n_images", "data_source",
                                             "trained_on_synthetic_data", "flip_average", "classes_without_images",
                                             "skipped_folders")}
    remove_stale(per_model, ["*.json", "*.png"], rows)
    return {"name": name, "folder": str(folder), "models": rows}
