"""Score an exported model on a :class:`LabelledFolder`: accuracy, per-class recall and support, the
confusion matrix (JSON and a PNG beside it), with the classes that were skipped said out loud."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from pipeline.core.atomic import write_json
from pipeline.crosseval.folder import LabelledFolder
from pipeline.evaluation.figures import save_confusion_png
from pipeline.evaluation.metrics import classification_metrics, confusion_frame
from pipeline.export.classifier import OnnxClassifier


def score_folder(classifier: OnnxClassifier, folder: LabelledFolder, batch_size: int = 256) -> dict[str, Any]:
    """Metrics of ``classifier`` on ``folder``; classes with no images are listed, not scored as 0 recall."""
    probs = np.concatenate([classifier(folder.images[i:i + batch_size])
                            for i in range(0, len(folder.images), batch_size)])
    logits = np.log(np.clip(probs, 1e-12, None))  # softmax(log p) = p: the shared metrics take logits
    metrics = classification_metrics(folder.labels, logits, folder.class_names)
    present = sorted(set(folder.labels.tolist()))
    predicted = probs.argmax(axis=1)
    meta = classifier.meta
    return {
        "model": meta.extra.get("name", Path(classifier.path).stem),
        "model_file": str(classifier.path),
        "data_source": meta.data_source,
        "trained_on_synthetic_data": meta.synthetic,
        "flip_average": classifier.flip_average,
        "folder": str(folder.root),
        "n_images": int(len(folder.labels)),
        "accuracy": metrics["test_acc"],
        "macro_f1_present_classes": float(f1_score(folder.labels, predicted, labels=present, average="macro",
                                                   zero_division=0)),
        "ece": metrics["ece"],
        "per_class": {name: {k: v for k, v in scores.items() if k in ("recall", "precision", "support")}
                      for name, scores in metrics["per_class"].items() if scores["support"] > 0},
        "classes_without_images": [name for i, name in enumerate(folder.class_names) if i not in present],
        "folders": folder.folders,
        "images_per_folder": folder.counts,
        "skipped_folders": folder.skipped,
        "confusion_matrix": {"labels": list(folder.class_names), "rows": "actual", "columns": "predicted",
                             "counts": metrics["confusion_matrix"]},
        "_predicted": predicted,
    }


def write_scores(path: str | os.PathLike, scores: dict[str, Any], folder: LabelledFolder) -> Path:
    """``path`` (JSON) and the confusion-matrix PNG beside it; returns the PNG's path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {k: v for k, v in scores.items() if not k.startswith("_")}
    write_json(path, body)
    png = path.with_suffix(".png")
    frame = confusion_frame(folder.labels, scores["_predicted"], folder.class_names)
    save_confusion_png(png, frame, f"{scores['model']} on {folder.root.name}: {scores['accuracy']:.1%}",
                       folder.class_names)
    return png


def summary_lines(scores: dict[str, Any]) -> list[str]:
    """What the console shows: accuracy, then recall and support per class, then what was skipped."""
    lines = [f"{scores['model']} on {scores['folder']}: accuracy {scores['accuracy']:.2%} "
             f"({scores['n_images']} images{', flip-averaged' if scores['flip_average'] else ''})"]
    if scores["trained_on_synthetic_data"]:
        lines.append("WARNING: this model was trained on GENERATED (synthetic) data; its scores say nothing about it "
                     "on real faces beyond chance")
    lines.append(f"  {'class':<10} {'recall':>7} {'support':>8}")
    for name, s in scores["per_class"].items():
        lines.append(f"  {name:<10} {s['recall']:>7.2%} {s['support']:>8d}")
    for name in scores["classes_without_images"]:
        lines.append(f"  {name:<10} {'-':>7} {0:>8d}  (no images of this class)")
    for sub, why in scores["skipped_folders"].items():
        lines.append(f"  skipped {sub}/: {why}")
    return lines
