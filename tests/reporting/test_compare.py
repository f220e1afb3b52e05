"""The table-level diff: Table IV of two sides with Δ, noise (seed spread, else cross-CPU band) and one-sided rows."""

from __future__ import annotations

import math

import pandas as pd

from pipeline.reporting.compare import Side, band_summary, compare_frames, compare_markdown, verdict
from pipeline.reporting.noise import NOT_MEASURED, CrossCpuBand

SETTINGS = {"data_source": "synthetic", "input_size": 32}
BAND = CrossCpuBand(3.0, "measured here", SETTINGS)


def row(run, acc, std=0.0, seeds=1, loss=1.0, alpha=0.2, label=None):
    return {"run": run, "paper_label": label or f"{run}: Student", "model": "student_a", "T": 3.0, "alpha": alpha,
            "test_acc": acc, "test_acc_std": std, "seeds": seeds, "test_loss": loss, "data_source": "synthetic"}


def test_verdicts_unchanged_noise_changed_and_one_sided():
    assert verdict(row("E1", 50.0), row("E1", 50.0)) == "="
    assert verdict(row("E1", 50.0, 2.0, 3), row("E1", 51.0, 1.5, 3)) == "noise (seed spread ±2.00)"
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
    assert text.startswith("Table IV, main → working tree: 2 of 4 rows changed beyond noise "
                           "(E1, baseline_student_b).")
    assert "acc % main" in text and "acc % working tree" in text
    assert "Baseline: Student Model" in text and "+2.50" in text


def test_one_seed_falls_back_to_the_cross_cpu_band_measured_on_these_settings():
    both = (SETTINGS, SETTINGS)
    assert verdict(row("E1", 50.0), row("E1", 52.5), BAND, both) == "noise (cross-CPU band ±3.00)"
    assert verdict(row("E1", 50.0), row("E1", 53.5), BAND, both) == "changed"
    assert verdict(row("E1", 50.0), row("E1", 52.5), NOT_MEASURED, both) == "changed"
    other = {**SETTINGS, "input_size": 64}  # a band holds for the settings it was measured on only
    assert verdict(row("E1", 50.0), row("E1", 52.5), BAND, (SETTINGS, other)) == "changed"
    # several seeds: the seed spread decides, even where the cross-CPU band is wider
    assert verdict(row("E1", 50.0, 0.5, 3), row("E1", 51.0, 0.5, 3), BAND, both) == "changed"


def test_summary_counts_rows_changed_beyond_noise_and_names_the_band():
    old = Side("main", pd.DataFrame([row("E1", 50.0), row("E2", 40.0), row("E3", 30.0)]), SETTINGS)
    new = Side("branch", pd.DataFrame([row("E1", 52.0), row("E2", 45.0), row("E3", 30.0)]), SETTINGS)
    table = compare_frames(old, new, BAND)
    assert list(table["verdict"]) == ["noise (cross-CPU band ±3.00)", "changed", "="]
    first = compare_markdown(table, "main", "branch", band_summary(BAND, old, new)).splitlines()[0]
    assert first == ("Table IV, main → branch: 1 of 3 rows changed beyond noise (E2); 1 within noise (E1). "
                     "Band: seed spread (the larger std) where both sides ran several seeds, "
                     "else cross-CPU band ±3.00 pp (measured here).")
    assert band_summary(NOT_MEASURED, old, new).endswith("else cross-CPU band not measured")
