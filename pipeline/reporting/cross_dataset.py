"""The cross-dataset table: every exported model's accuracy on each labelled folder of params
``cross_eval`` (the cross_evaluate stage's summary.json files), beside its own test accuracy."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from pipeline.core.atomic import atomic_path, write_text
from pipeline.reporting.cells import markdown

TABLE_NAME = "cross_dataset"


def read_summaries(cross_eval_dir: str | os.PathLike) -> dict[str, dict]:
    """{folder name: summary} for every ``<name>/summary.json`` under the folder (none: empty)."""
    found = {}
    for path in sorted(Path(cross_eval_dir).glob("*/summary.json")):
        try:
            found[path.parent.name] = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    return found


def cross_dataset_frame(summaries: dict[str, dict]) -> pd.DataFrame:
    """One row per model, one accuracy column (%) per folder, plus what each folder left out."""
    rows: dict[str, dict] = {}
    for folder, summary in summaries.items():
        for model, scores in summary["models"].items():
            row = rows.setdefault(model, {"model": model, "data": scores["data_source"]})
            row[f"{folder} acc %"] = round(100 * scores["accuracy"], 2)
            row[f"{folder} images"] = scores["n_images"]
    return pd.DataFrame(list(rows.values()))


def write_cross_dataset(cross_eval_dir: str | os.PathLike, tables_dir: str | os.PathLike) -> bool:
    """tables/cross_dataset.{md,csv} when any folder was evaluated; otherwise remove stale copies."""
    tables_dir = Path(tables_dir)
    md, csv = tables_dir / f"{TABLE_NAME}.md", tables_dir / f"{TABLE_NAME}.csv"
    summaries = read_summaries(cross_eval_dir)
    if not summaries:
        for stale in (md, csv):
            stale.unlink(missing_ok=True)
        return False
    frame = cross_dataset_frame(summaries)
    with atomic_path(csv, suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False)
    header = list(frame.columns)
    body = [["-" if pd.isna(v) else str(v) for v in row] for row in frame.itertuples(index=False)]
    skipped = {}
    for name, summary in summaries.items():
        for scores in summary["models"].values():  # 7- and 8-class models may skip different folders
            skipped.update({f"`{name}`: {sub}/ skipped ({why})": None for sub, why in scores["skipped_folders"].items()})
    notes = ("Accuracy of each exported model on labelled image folders (params `cross_eval`, stage "
             "`cross_evaluate`); per-class recall and confusion matrices are in reports/cross_eval/<name>/models/. "
             "Models trained on generated data score near chance on real faces by construction.")
    text = f"# Cross-dataset accuracy\n\n{markdown(header, body, [i > 1 for i in range(len(header))])}\n\n{notes}\n"
    if skipped:
        text += "\n" + "\n".join(f"- {line}" for line in skipped) + "\n"
    write_text(md, text)
    return True
