"""Exact-duplicate images across splits, found by hashing pixel bytes.

FER2013 is known to hold the same face in train and test; a duplicate leaks test data into
training, so validation reports them and ``prepare`` can drop the train copies.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import numpy as np

from pipeline.core.constants import SPLIT_CODE, SPLITS
from pipeline.dataset.prepared import PreparedData


def image_hashes(images: np.ndarray) -> list[bytes]:
    """A 16-byte BLAKE2 digest of each image's pixel bytes (shape is fixed within a dataset)."""
    flat = np.ascontiguousarray(images).reshape(len(images), -1)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat]


def cross_split_duplicates(data: PreparedData, lines: np.ndarray, max_examples: int = 200) -> dict:
    """Groups of pixel-identical images that occur in more than one split.

    Counts every group, and per split pair the images of the first split with a copy in the
    second; lists at most ``max_examples`` groups with their file lines and splits.
    """
    members: dict[bytes, list[int]] = defaultdict(list)
    for index, digest in enumerate(image_hashes(data.images)):
        members[digest].append(index)
    groups = [idx for idx in members.values() if len({int(data.split[i]) for i in idx}) > 1]
    pair_counts = {}
    for a_pos, a in enumerate(SPLITS):
        for b in SPLITS[a_pos + 1:]:
            code_a, code_b = SPLIT_CODE[a], SPLIT_CODE[b]
            n = sum(sum(1 for i in idx if data.split[i] == code_a) for idx in groups
                    if any(data.split[i] == code_b for i in idx))
            pair_counts[f"{a}_in_{b}"] = n
    examples = [[{"line": int(lines[i]), "split": SPLITS[int(data.split[i])], "label": int(data.labels[i])} for i in idx]
                for idx in groups[:max_examples]]
    extra_copies = sum(len(idx) - 1 for idx in members.values())
    return {
        "method": "BLAKE2b-128 of the raw pixel bytes",
        "cross_split_groups": len(groups),
        "images_with_copy_in_other_split": pair_counts,
        "extra_copies_any_split": extra_copies,  # images identical to another one, beyond the first
        "examples_listed": len(examples),
        "examples": examples,
    }


def train_duplicates_of_test(data: PreparedData) -> np.ndarray:
    """Bool mask of train images pixel-identical to some test image."""
    hashes = image_hashes(data.images)
    test_hashes = {h for h, s in zip(hashes, data.split) if s == SPLIT_CODE["test"]}
    return np.array([s == SPLIT_CODE["train"] and h in test_hashes for h, s in zip(hashes, data.split)], bool)
