"""The synthetic generator: deterministic bytes from a seed, FER2013's class imbalance, FER2013's CSV schema."""

from __future__ import annotations

import time

import numpy as np

from pipeline.core.constants import SPLIT_CODE
from pipeline.sources.fer2013 import read_table as read_fer2013
from pipeline.sources.synthetic import FER2013_TRAIN_COUNTS, class_counts_for, generate, write_fer2013_csv

SIZES = {"train": 140, "val": 30, "test": 30}


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    paths = [tmp_path / f"{name}.csv.gz" for name in ("a", "b", "c")]
    for path, seed in zip(paths, (3, 3, 4)):
        write_fer2013_csv(path, generate(SIZES, seed))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_written_csv_reads_back_through_fer2013_reader(tmp_path):
    splits = generate(SIZES, 0)
    write_fer2013_csv(tmp_path / "synthetic.csv.gz", splits)
    data = read_fer2013(tmp_path / "synthetic.csv.gz", source="synthetic").data
    for name, (images, labels) in splits.items():
        got_images, got_labels = data.subset(name)
        np.testing.assert_array_equal(got_images, images)
        np.testing.assert_array_equal(got_labels, labels)
    assert (data.split == SPLIT_CODE["train"]).sum() == 140


def test_class_imbalance_follows_fer2013_and_images_vary():
    counts = class_counts_for(2000)
    assert counts.sum() == 2000
    expected = 2000 * np.array(FER2013_TRAIN_COUNTS) / sum(FER2013_TRAIN_COUNTS)
    assert np.all(np.abs(counts - expected) < 1)
    images, labels = generate({"train": 700, "val": 1, "test": 1}, 0)["train"]
    assert np.array_equal(np.bincount(labels, minlength=7), class_counts_for(700))
    assert images.dtype == np.uint8 and images.shape == (700, 48, 48)
    assert images.reshape(700, -1).std(axis=0).mean() > 20  # nuisance variation, not one template


def test_val_and_test_do_not_depend_on_train_size():
    small, large = generate({"train": 10, "val": 20, "test": 20}, 1), generate({"train": 50, "val": 20, "test": 20}, 1)
    np.testing.assert_array_equal(small["test"][0], large["test"][0])


def test_generation_is_vectorised_fast():
    start = time.perf_counter()
    generate({"train": 2000, "val": 400, "test": 400}, 0)
    assert time.perf_counter() - start < 10.0
