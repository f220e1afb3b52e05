"""Training curves in the report: read from the trainer's dvclive TSVs, judged flat or not, drawn."""

from __future__ import annotations

import pytest

from pipeline.reporting.curves import convergence, convergence_rows, figure_curves, read_curve


def _log(folder, split, values):
    path = folder / "dvclive/plots/metrics" / split / "acc.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("step\tacc\n" + "".join(f"{i + 1}\t{v}\n" for i, v in enumerate(values)))


def test_a_curve_that_stopped_moving_is_flat_and_one_still_rising_is_not(tmp_path):
    _log(tmp_path / "done", "train", [0.3, 0.5, 0.6, 0.62, 0.63, 0.63, 0.64, 0.64])
    _log(tmp_path / "done", "val", [0.3, 0.45, 0.55, 0.600, 0.602, 0.605, 0.604, 0.606])
    _log(tmp_path / "cut", "val", [0.2, 0.3, 0.4, 0.45, 0.5, 0.55])
    done, cut = read_curve(tmp_path / "done"), read_curve(tmp_path / "cut")
    assert set(done["split"]) == {"train", "val"} and list(cut["split"].unique()) == ["val"]
    c = convergence(done)
    assert c["epochs"] == 8 and c["flat"] and c["tail_range_pp"] == pytest.approx(0.6)
    assert c["best_val"] == pytest.approx(60.6) and c["last_val"] == pytest.approx(60.6)
    assert not convergence(cut)["flat"] and convergence(cut)["tail_range_pp"] == pytest.approx(25.0)
    rows = convergence_rows({"E6": done, "baseline_student_c": cut})
    assert [r[0] for r in rows] == ["E6", "baseline_student_c"] and [r[-1] for r in rows] == ["yes", "no"]
    assert figure_curves(tmp_path / "fig" / "curves.png", {"E6": done, "cut": cut}, "fer2013")
    assert (tmp_path / "fig" / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_no_curve_means_no_figure_and_a_bad_file_names_itself(tmp_path):
    assert read_curve(tmp_path) is None
    assert not figure_curves(tmp_path / "curves.png", {}, "synthetic") and not (tmp_path / "curves.png").exists()
    bad = tmp_path / "dvclive/plots/metrics/val/acc.tsv"
    bad.parent.mkdir(parents=True)
    bad.write_text("epoch,accuracy\n1,0.5\n")
    with pytest.raises(ValueError, match="val/acc.tsv"):
        read_curve(tmp_path)
