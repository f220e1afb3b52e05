"""The table-level diff: Table IV of two sides with Δ, seed-spread noise and one-sided rows."""

from __future__ import annotations

import math

import pandas as pd

from pipeline.reporting.compare import Side, compare_frames, compare_markdown, verdict


def row(run, acc, std=0.0, seeds=1, loss=1.0, alpha=0.2, label=None):
    return {"run": run, "paper_label": label or f"{run}: Student", "model": "student_a", "T": 3.0, "alpha": alpha,
            "test_acc": acc, "test_acc_std": std, "seeds": seeds, "test_loss": loss, "data_source": "synthetic"}


def test_verdicts_unchanged_noise_changed_and_one_sided():
    assert verdict(row("E1", 50.0), row("E1", 50.0)) == "="
    assert verdict(row("E1", 50.0, 2.0, 3), row("E1", 51.0, 1.5, 3)).startswith("noise (|Δ| < seed std 2.00)")
    assert verdict(row("E1", 50.0, 0.5, 3), row("E1", 51.0, 0.5, 3)) == "changed"
    assert verdict(row("E1", 50.0), row("E1", 50.5)) == "changed"  # one seed: no spread to call it noise
    assert verdict(None, row("E1", 50.0)) == "new run" and verdict(row("E1", 50.0), None) == "removed"
    assert verdict(row("E1", math.nan), row("E1", math.nan)) == "not run"


def test_markdown_lists_only_the_rows_that_moved():
    old = Side("main", pd.DataFrame([row("teacher", 40.0, label="Teacher"), row("E1", 50.0), row("E4", 45.0)]))
    new = Side("working tree", pd.DataFrame([row("teacher", 40.0, label="Teacher"), row("E1", 52.5, alpha=0.25),
                                             row("E4", 45.0), row("baseline_student_b", 30.0, label=math.nan)]))
    table = compare_frames(old, new)
    assert list(table["run"]) == ["teacher", "E1", "E4", "baseline_student_b"]
    e1 = table.set_index("run").loc["E1"]
    assert e1["delta_acc_pp"] == 2.5 and e1["alpha"] == "0.20 → 0.25" and e1["verdict"] == "changed"
    text = compare_markdown(table, "main", "working tree")
    assert text.startswith("Table IV, main → working tree: 2 of 4 rows differ (E1, baseline_student_b).")
    assert "acc % main" in text and "acc % working tree" in text
    assert "Baseline: Student Model" in text and "+2.50" in text
