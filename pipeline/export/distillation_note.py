"""What knowledge distillation gave, for the release card: each distilled student beside the same student
trained alone, read from a committed run folder's Table IV (its CSV, the report's own numbers). The release
is chosen by test accuracy; when no distilled student beats it, its card says so with these numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


def distillation_summary(table4_csv: Path) -> dict[str, Any]:
    """The teacher's accuracy and, per distillation run whose student also ran alone, both means (%), their
    seed spreads and seed counts. Raises ValueError naming the file when it has no such pair."""
    frame = pd.read_csv(table4_csv)
    ours = frame[frame["data_source"].notna() & frame["test_acc"].notna()]
    by_run = {r["run"]: r for r in ours.to_dict("records")}
    pairs = []
    for run, row in by_run.items():
        alone = by_run.get(f"baseline_{row['model']}")
        if run == "teacher" or run.startswith("baseline_") or alone is None:
            continue
        pairs.append({"run": run, "student": row["model"], "T": row["T"], "alpha": row["alpha"],
                      "distilled": _side(row), "alone": _side(alone)})
    if not pairs:
        raise ValueError(f"{table4_csv}: no distillation run beside the same student trained alone")
    teacher = by_run.get("teacher")
    return {"run_folder": str(table4_csv.parent.parent),
            "teacher_acc": None if teacher is None else teacher["test_acc"], "pairs": pairs}


def _side(row: dict) -> dict[str, Any]:
    std = row["test_acc_std"]
    return {"acc": float(row["test_acc"]), "std": None if pd.isna(std) else float(std), "seeds": int(row["seeds"])}


def distillation_section(note: dict[str, Any] | None, release_acc: float, release_student: str | None) -> str:
    """The card's "What distillation gave" section (empty without a note); ``release_acc`` in [0, 1]."""
    if not note:
        return ""

    def side(s: dict) -> str:
        spread = f" ± {s['std']:.2f}" if s["seeds"] > 1 and s["std"] is not None else ""
        return f"{s['acc']:.2f}{spread} % ({s['seeds']} seed{'s' if s['seeds'] > 1 else ''})"

    rows = "\n".join(f"| {p['run']} | {p['student']} | T {p['T']:g}, alpha {p['alpha']:.2f} | "
                     f"{side(p['distilled'])} | {side(p['alone'])} | "
                     f"{p['distilled']['acc'] - p['alone']['acc']:+.2f} pp |" for p in note["pairs"])
    best = max(note["pairs"], key=lambda p: p["distilled"]["acc"])
    beats = best["distilled"]["acc"] > 100 * release_acc
    verdict = (f"{best['run']} ({best['student']}, {best['distilled']['acc']:.2f} %) scores above this release "
               f"({100 * release_acc:.2f} %)." if beats else
               f"No distilled student beats this release ({100 * release_acc:.2f} %, {release_student} trained alone "
               f"on the release recipe): the best, {best['run']} ({best['student']}), reaches "
               f"{best['distilled']['acc']:.2f} %, so the release stays a student trained without a teacher.")
    teacher = "" if note.get("teacher_acc") is None else f" The teacher scores {note['teacher_acc']:.2f} %."
    return f"""
## What distillation gave (`{note['run_folder']}`)

Test accuracy, mean ± seed std, of each distilled student beside the same student trained alone on the same
recipe and epochs.{teacher}

| run | student | loss | distilled | alone | gain |
|---|---|---|--:|--:|--:|
{rows}

{verdict}
"""
