"""Readers on tiny fixtures in the real formats, and on the real FER2013 when ../shared has it."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.constants import SPLIT_CODE
from pipeline.params.load import schema
from pipeline.sources.fer2013 import CLASS_NAMES
from pipeline.sources import fer2013, rafdb
from pipeline.sources.common import decode_pixels, scan_pixels
from pipeline.sources.registry import get_source
from tests.fixtures_data import (FERPLUS_HEADER, SHARED_DATA, fer_image, fer_rows, pixels_text, rafdb_entries,
                                 write_fer_csv, write_fer_csv_reordered, write_rafdb)


OPTIONS = {**schema().keys["data"].defaults(), "rafdb_val_fraction": 0.1, "rafdb_val_seed": 0}  # FER+'s: the schema's


def read_source(name, raw_dir, **options):
    source = get_source(name)
    return source.read(source.files(raw_dir), {**OPTIONS, **options})


@pytest.mark.parametrize("name", ["fer2013.csv", "fer2013.csv.gz"])
def test_fer2013_reader_maps_usage_labels_and_pixels(tmp_path, name):
    rows = fer_rows(7)
    write_fer_csv(tmp_path / name, rows)
    loaded = read_source("fer2013", tmp_path)
    data = loaded.data
    assert data.images.shape == (21, 48, 48) and data.images.dtype == np.uint8
    assert list(data.labels) == [int(r[0]) for r in rows]
    assert list(data.split) == [SPLIT_CODE[s] for s in ("train",) * 7 + ("val",) * 7 + ("test",) * 7]
    np.testing.assert_array_equal(data.images[8], fer_image(101))
    assert list(loaded.lines) == list(range(2, 23))  # file lines: the header is line 1
    assert data.class_names == CLASS_NAMES


def _votes_file(path, rows):
    """A FER+ vote file line for line with ``rows``: ten votes for neutral, except happiness on every third line."""
    lines = [f"{u},fer{i:07d}.png," + ("0,10" if i % 3 == 0 else "10,0") + ",0,0,0,0,0,0,0,0"
             for i, (_, _, u) in enumerate(rows)]
    path.write_text(FERPLUS_HEADER + "\n" + "\n".join(lines) + "\n")


@pytest.mark.parametrize("source", ["fer2013", "ferplus"])
def test_reordered_columns_and_integral_float_labels_give_the_same_prepared_arrays(tmp_path, source):
    """Columns are found by name in any order and a label written 3.0 is 3: the prepared arrays (through
    load_source, as the prepare stage reads them) are those of the file in Kaggle's order and spelling."""
    from pipeline.sources.loading import load_source

    rows = fer_rows(7)
    params = {"source": source, "drop_train_duplicates_of_test": False, **OPTIONS}
    loaded = {}
    for name, write in [("kaggle", write_fer_csv), ("reordered", write_fer_csv_reordered)]:
        write(tmp_path / name / "fer2013.csv", rows)
        _votes_file(tmp_path / name / "fer2013new.csv", rows)
        loaded[name] = load_source(params, tmp_path / name)
    assert (tmp_path / "reordered" / "fer2013.csv").read_text().startswith("Usage,pixels,emotion\nTraining,")
    assert ",3.0\n" in (tmp_path / "reordered" / "fer2013.csv").read_text()
    a, b = loaded["kaggle"].data, loaded["reordered"].data
    for field in ("images", "labels", "split"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert list(loaded["kaggle"].lines) == list(loaded["reordered"].lines) and a.class_names == b.class_names
    if source == "fer2013":
        assert list(b.labels) == [int(r[0]) for r in rows]


def test_a_label_that_is_not_an_integer_is_refused_naming_file_and_line(tmp_path):
    rows = fer_rows(3)
    rows[3] = ("3.5", rows[3][1], rows[3][2])  # file line 5
    path = write_fer_csv_reordered(tmp_path / "fer2013.csv", rows, label=str)
    message = r"fer2013\.csv: emotion is not an integer 0\.\.6 on 1 line\(s\), e\.g\. line 5 \('3\.5'\)"
    with pytest.raises(ValueError, match=message):
        fer2013.read_table(path)

def test_fer2013_reader_names_file_and_row_of_bad_pixels(tmp_path):
    rows = fer_rows(3)
    rows[4] = (rows[4][0], rows[4][1] + " 7", rows[4][2])  # 2305 values on file line 6
    rows[7] = (rows[7][0], "-1" + rows[7][1][rows[7][1].index(" "):], rows[7][2])  # a negative pixel on line 9
    path = write_fer_csv(tmp_path / "fer2013.csv", rows)
    with pytest.raises(ValueError, match=r"fer2013\.csv.*line 6: 2305 values, expected 2304, line 9: value -1 outside 0..255"):
        fer2013.read_table(path)


def test_pixel_scan_flags_each_kind_of_bad_row():
    good = pixels_text(fer_image(0))
    too_bright = "256 " + pixels_text(fer_image(0)[1:])  # rows 1..47 plus one token = 2257 values
    scan = scan_pixels([good, good + " 12", "1 2 x", too_bright, ""])
    assert list(scan.n_tokens[:2]) == [2304, 2305]
    assert list(scan.non_numeric) == [False, False, True, False, False]
    assert scan.max_value[3] == 256 and scan.n_tokens[4] == 0
    negative = scan_pixels(["-1 " + good[2:], "3 -"])
    assert list(negative.non_numeric) == [False, True] and negative.min_value[0] == -1  # a sign, not a bad token
    with pytest.raises(ValueError, match=r"x\.csv.*line 12: non-numeric token 'x'"):
        decode_pixels(np.array([good, "1 2 x"], dtype=object), np.array([11, 12]), "x.csv", 48)


def test_ferplus_rejects_misaligned_files(tmp_path):
    write_fer_csv(tmp_path / "fer2013.csv", fer_rows(2))
    (tmp_path / "fer2013new.csv").write_text(FERPLUS_HEADER + "\nTraining,a.png,10,0,0,0,0,0,0,0,0,0\n")
    with pytest.raises(ValueError, match="fer2013new.csv has 1 data lines"):
        read_source("ferplus", tmp_path)


def test_rafdb_reader_maps_labels_and_takes_stratified_val(tmp_path):
    root = write_rafdb(tmp_path / "rafdb", rafdb_entries(n_train_per_class=10, n_test_per_class=1))
    loaded = rafdb.read(root, val_fraction=0.1, seed=0)
    data = loaded.data
    assert data.images.shape == (77, 100, 100, 3)
    # RAF-DB 1..7 = surprise, fear, disgust, happiness, sadness, anger, neutral
    assert [CLASS_NAMES[i] for i in data.labels[::10][:7]] == ["surprise", "fear", "disgust", "happy", "sad", "angry", "neutral"]
    counts = data.counts()
    assert all(n == 1 for n in counts["val"].values())  # 10% of 10 per class, stratified
    assert all(n == 9 for n in counts["train"].values()) and all(n == 1 for n in counts["test"].values())
    assert abs(int(data.images[0, 50, 50, 0]) - 20) <= 3  # label-1 image has red = 20 (JPEG, so approximately)
    again = rafdb.read(root, val_fraction=0.1, seed=0)
    np.testing.assert_array_equal(again.data.split, data.split)
    assert not np.array_equal(rafdb.read(root, val_fraction=0.1, seed=1).data.split, data.split)


def test_rafdb_reader_names_missing_image(tmp_path):
    root = write_rafdb(tmp_path / "rafdb", rafdb_entries(3, 1))
    (root / "Image" / "aligned" / "train_00002_aligned.jpg").unlink()
    with pytest.raises(ValueError, match=r"train_00002_aligned\.jpg: image missing.*line 2"):
        rafdb.read(root, val_fraction=0.34, seed=0)


def test_unknown_source_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="data.source 'affectnet' is not a known source; known: fer2013, ferplus"):
        read_source("affectnet", tmp_path)
    with pytest.raises(FileNotFoundError, match="fer2013.csv"):
        read_source("fer2013", tmp_path)


@pytest.mark.skipif(not (SHARED_DATA / "fer2013.csv.gz").exists(), reason="../shared/data/fer2013.csv.gz absent")
def test_real_fer2013_counts():
    data = fer2013.read_table(SHARED_DATA / "fer2013.csv.gz").data
    counts = data.counts()
    assert counts["train"] == {"angry": 3995, "disgust": 436, "fear": 4097, "happy": 7215, "sad": 4830,
                               "surprise": 3171, "neutral": 4965}
    assert sum(counts["val"].values()) == 3589 and sum(counts["test"].values()) == 3589
