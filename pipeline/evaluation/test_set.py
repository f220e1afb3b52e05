"""The evaluate stage's work: one saved model on the prepared test split, written as metrics + confusion matrix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from pipeline.core.atomic import atomic_path, write_json
from pipeline.core.runfacts import write_run_facts
from pipeline.inputs.contract import InputContract
from pipeline.inputs.device_data import DeviceSplit, predict_logits
from pipeline.dataset.prepared import PreparedData
from pipeline.evaluation.figures import save_confusion_png
from pipeline.evaluation.metrics import classification_metrics, confusion_frame
from pipeline.models import count_parameters


def score_test_split(model: torch.nn.Module, meta: dict, data: PreparedData, device: torch.device,
                   batch_size: int = 256) -> tuple[dict[str, Any], pd.DataFrame]:
    """Metrics dict and per-image confusion frame of one saved model on the prepared test split (no augmentation).

    The metrics say nothing about the machine: where it ran is the caller's run facts
    (:mod:`pipeline.core.runfacts`)."""
    contract = InputContract.from_meta(meta, where=str(meta.get("name") or "model"))  # how the model is fed
    images, labels = data.subset("test")
    contract.check_data(images, data.class_names, where=str(meta.get("name") or "model"))
    split = DeviceSplit.from_arrays(images, labels, contract.input_size, device)
    model = model.to(device)
    logits = predict_logits(model, split, batch_size=batch_size, mean=contract.mean, std=contract.std).cpu().numpy()
    class_names = list(contract.class_names)
    metrics = classification_metrics(labels, logits, class_names)
    predicted = logits.argmax(axis=1)
    metrics.update({
        "model": meta.get("name"),
        "kind": meta.get("kind"),
        "run": meta.get("run"),
        "params": count_parameters(model),
        "dataset": meta.get("dataset", data.source),
        "data_source": data.source,
        "input_size": contract.input_size,
        "image_mode": contract.image_mode,
        "class_names": class_names,
    })
    return metrics, confusion_frame(labels, predicted, class_names)


def write_evaluation(out_dir: str | os.PathLike, metrics: dict[str, Any], frame: pd.DataFrame,
                     facts: dict[str, Any] | None = None) -> None:
    """metrics.json, confusion.csv, confusion.png and (given ``facts``) run.json into ``out_dir``, each written
    atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if facts is not None:
        write_run_facts(out, facts)
    with atomic_path(out / "confusion.csv", suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False)
    label = metrics.get("run") or metrics.get("model") or out.name
    title = f"{label} ({metrics.get('model')}) - test acc {100 * metrics['test_acc']:.2f}%"
    save_confusion_png(out / "confusion.png", frame, title, metrics["class_names"])
    write_json(out / "metrics.json", metrics)
