"""Validation: GX expectations accept good raw data, reject each kind of bad input with a message naming
the expectation, file and rows, and never touch an earlier report on failure."""

from __future__ import annotations

import json

import pytest

import yaml

from pipeline.core.stage import run_stage
from pipeline.sources.expectations import ValidationFailed
from pipeline.sources.validate import validate
from stages import validate as validate_stage
from tests.helpers import REPO_ROOT
from tests.fixtures_data import (FERPLUS_HEADER, fer_image, fer_rows, pixels_text, rafdb_entries, write_fer_csv,
                                 write_fer_csv_reordered, write_rafdb)


def validate_source(name, raw_dir, rafdb_val_fraction=0.1, drop_duplicates=False):
    return validate({"source": name, "drop_train_duplicates_of_test": drop_duplicates,
                     "rafdb_val_fraction": rafdb_val_fraction, "rafdb_val_seed": 0,
                     "ferplus_classes": 8, "ferplus_target": "majority"}, raw_dir)  # a full data section


def test_good_fer2013_passes_with_counts_and_duplicates(tmp_path):
    rows = fer_rows(7)
    rows[3] = (rows[3][0], rows[16][1], rows[3][2])  # train row 4 = test row 17 (same pixels)
    write_fer_csv(tmp_path / "fer2013.csv.gz", rows)
    report = validate_source("fer2013", tmp_path)
    assert report["success"] and all(r["success"] for r in report["expectations"])
    assert report["class_counts"]["train"] == {**{c: 1 for c in report["class_counts"]["train"] if c != "total"}, "total": 7}
    dup = report["duplicates"]
    assert dup["cross_split_groups"] == 1 and dup["images_with_copy_in_other_split"]["train_in_test"] == 1
    assert sorted((m["split"], m["line"]) for m in dup["examples"][0]) == [("test", 18), ("train", 5)]
    assert report["paper_dataset"] == "FER2013" and report["real_data"] is True


def _bad(rows, index, emotion=None, pixels=None, usage=None):
    e, p, u = rows[index]
    rows[index] = (e if emotion is None else emotion, p if pixels is None else pixels, u if usage is None else usage)
    return rows


GOOD = pixels_text(fer_image(5))
BAD_FER = {
    # case: (rows, expectation named, file line named)
    "pixel_count": (_bad(fer_rows(), 2, pixels=GOOD + " 3"), "expect_column_values_to_be_between(column=n_pixels", "[4]"),
    "non_numeric": (_bad(fer_rows(), 4, pixels=GOOD[:-3] + " a1"), "column=pixels_non_numeric", "[6] with values [\"non-numeric token 'a1'\"]"),
    "too_bright": (_bad(fer_rows(), 6, pixels="300" + GOOD[GOOD.index(" "):]), "column=pixel_max", "[8]"),
    "negative_pixel": (_bad(fer_rows(), 6, pixels="-1" + GOOD[GOOD.index(" "):]), "column=pixel_min", "[8] with values [-1"),
    "label_7": (_bad(fer_rows(), 1, emotion="7"), "expect_column_values_to_be_in_set(column=emotion", "[3]"),
    "label_minus_1": (_bad(fer_rows(), 9, emotion="-1"), "expect_column_values_to_be_in_set(column=emotion", "[11]"),
    "label_3_5": (_bad(fer_rows(), 3, emotion="3.5"), "expect_column_values_to_be_in_set(column=emotion", "[5] with values ['3.5']"),
    "unknown_usage": (_bad(fer_rows(), 11, usage="Validation"), "expect_column_values_to_be_in_set(column=Usage", "[13]"),
    "missing_split": ([r for r in fer_rows() if r[2] != "PrivateTest"], "expect_column_distinct_values_to_contain_set(column=Usage", "PrivateTest"),
    "class_missing_in_train": ([r for r in fer_rows() if not (r[2] == "Training" and r[0] == "1")],
                               "column=train_emotion", "missing ['1']"),
}


@pytest.mark.parametrize("case", sorted(BAD_FER))
def test_bad_fer_rows_fail_naming_expectation_file_and_row(tmp_path, case):
    rows, expectation, where = BAD_FER[case]
    write_fer_csv(tmp_path / "fer2013.csv", rows)
    with pytest.raises(ValidationFailed) as info:
        validate_source("fer2013", tmp_path)
    message = str(info.value)
    assert expectation in message and "fer2013.csv" in message and where in message, message


def test_wrong_columns_and_header_only_file(tmp_path):
    write_fer_csv(tmp_path / "fer2013.csv", fer_rows(), header="label,pixels,Usage")
    with pytest.raises(ValidationFailed, match=r"expect_table_columns_to_match_set.*fer2013\.csv"):
        validate_source("fer2013", tmp_path)
    write_fer_csv(tmp_path / "fer2013.csv", [])
    with pytest.raises(ValidationFailed, match=r"expect_table_row_count_to_be_between.*observed 0"):
        validate_source("fer2013", tmp_path)


@pytest.mark.parametrize("source", ["fer2013", "ferplus"])
def test_reordered_columns_and_integral_float_labels_validate(tmp_path, source):
    """Usage,pixels,emotion with labels written 3.0 passes every expectation, with the counts of Kaggle's layout
    (FER+ checks its FER2013 file through the same suite)."""
    rows = fer_rows(8)
    reports = {}
    for name, write in [("kaggle", write_fer_csv), ("reordered", write_fer_csv_reordered)]:
        write(tmp_path / name / "fer2013.csv", rows)
        votes = [f"{u},fer{i:07d}.png," + ",".join("10" if k == i % 8 else "0" for k in range(10))
                 for i, (_, _, u) in enumerate(rows)]  # every FER+ class in every split
        (tmp_path / name / "fer2013new.csv").write_text(FERPLUS_HEADER + "\n" + "\n".join(votes) + "\n")
        reports[name] = validate_source(source, tmp_path / name)
        assert reports[name]["success"] and all(r["success"] for r in reports[name]["expectations"]), name
    assert reports["reordered"]["class_counts"] == reports["kaggle"]["class_counts"]
    extra = ("Usage", "pixels", "emotion", "pixels")  # a column twice: which one is meant is ambiguous
    write_fer_csv_reordered(tmp_path / "extra" / "fer2013.csv", rows, columns=extra)
    with pytest.raises(ValidationFailed, match=r"expect_table_columns_to_match_set.*fer2013\.csv"):
        validate_source("fer2013", tmp_path / "extra")

def test_empty_file(tmp_path):
    (tmp_path / "fer2013.csv").write_text("")
    with pytest.raises(ValueError, match=r"fer2013\.csv: file is empty"):
        validate_source("fer2013", tmp_path)


def test_rafdb_passes_and_reports_val_split(tmp_path):
    write_rafdb(tmp_path / "rafdb", rafdb_entries(3, 1))
    report = validate_source("rafdb", tmp_path, rafdb_val_fraction=0.34)
    assert report["paper_dataset"] == "RAF-DB"
    assert report["class_counts"]["val"]["total"] == 7 and report["class_counts"]["test"]["total"] == 7
    assert report["val_split"]["fraction"] == 0.34


@pytest.mark.parametrize("damage, status", [("missing", "missing"), ("corrupt", "corrupt"), ("small", "size 50x50")])
def test_rafdb_bad_image_fails_naming_line(tmp_path, damage, status):
    from PIL import Image

    root = write_rafdb(tmp_path / "rafdb", rafdb_entries(3, 1))
    image = root / "Image" / "aligned" / "train_00005_aligned.jpg"
    if damage == "missing":
        image.unlink()
    elif damage == "corrupt":
        image.write_bytes(image.read_bytes()[:200])
    else:
        Image.new("RGB", (50, 50)).save(image)
    with pytest.raises(ValidationFailed) as info:
        validate_source("rafdb", tmp_path)
    message = str(info.value)
    assert "column=image" in message and "list_patition_label.txt" in message
    assert "lines [5]" in message and f"{status}: " in message and "train_00005_aligned.jpg" in message, message


def test_stage_failure_exits_1_and_keeps_earlier_report(tmp_path, monkeypatch, capsys):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["data"]["source"] = "fer2013"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    write_fer_csv(tmp_path / "data" / "raw" / "fer2013.csv", fer_rows())
    monkeypatch.chdir(tmp_path)
    argv = ["--raw", "data/raw", "--report", "reports/validation.json", "--class-counts", "reports/class_counts.json"]
    run_stage(validate_stage.main, argv)
    report = tmp_path / "reports" / "validation.json"
    counts = json.loads((tmp_path / "reports" / "class_counts.json").read_text())
    assert counts["test"]["total"] == 7
    before = report.read_bytes(), (tmp_path / "reports" / "class_counts.json").read_bytes()

    write_fer_csv(tmp_path / "data" / "raw" / "fer2013.csv", _bad(fer_rows(), 2, emotion="9"))
    with pytest.raises(SystemExit) as exit_info:
        run_stage(validate_stage.main, argv)
    assert exit_info.value.code == 1
    assert "column=emotion" in capsys.readouterr().err
    assert (report.read_bytes(), (tmp_path / "reports" / "class_counts.json").read_bytes()) == before
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["class_counts.json", "validation.json"]
