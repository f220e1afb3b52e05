"""FER+ labels by Microsoft's protocol, on crafted vote rows and (when ../shared is present) the real file."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from pipeline.sources import ferplus
from pipeline.sources.common import read_csv_table

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
#               neu hap sur sad ang dis fea con unk NF
ROWS = np.array([[6, 1, 1, 1, 1, 0, 0, 0, 0, 0],  # singles removed: 6 of 6 -> neutral
                 [5, 4, 1, 0, 0, 0, 0, 0, 0, 0],  # 5 of 9 > 50 % -> neutral
                 [4, 4, 2, 0, 0, 0, 0, 0, 0, 0],  # 4 of 10: no majority -> unknown
                 [0, 0, 0, 0, 0, 0, 0, 6, 4, 0],  # contempt 6 of 10
                 [0, 0, 0, 0, 0, 0, 0, 0, 2, 8],  # not a face
                 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]])  # every vote single -> unknown


def test_majority_drops_singles_and_needs_more_than_half():
    assert ferplus.majority_vote(ROWS).tolist() == [0, 0, 8, 7, 9, 8]
    labels, reason, _ = ferplus.label_votes(ROWS, np.zeros(6, bool), 8, "majority")
    assert reason.tolist() == ["kept", "kept", "unknown", "kept", "not_face", "unknown"]
    assert labels.tolist() == [6, 6, -1, 7, -1, -1]  # neutral = 6 and contempt = 7 in the 8-class order
    labels7, reason7, _ = ferplus.label_votes(ROWS, np.zeros(6, bool), 7, "majority")
    assert reason7[3] == "contempt" and labels7[3] == -1


def test_crossentropy_targets_are_vote_distributions_on_train_only():
    rows = np.array([[4, 4, 2, 0, 0, 0, 0, 0, 0, 0],  # a tie is taken whole: 4+4 covers 75 %, surprise left out
                     [3, 3, 2, 2, 0, 0, 0, 0, 0, 0]])  # 3+3 < 75 %, then a tie of two more: 4 emotions -> unknown
    labels, reason, soft = ferplus.label_votes(rows, np.array([True, True]), 8, "crossentropy")
    assert reason.tolist() == ["kept", "unknown"]
    names = ferplus.CLASS_NAMES_8
    assert soft[0][names.index("neutral")] == pytest.approx(0.5) and soft[0][names.index("happy")] == pytest.approx(0.5)
    assert soft[0][names.index("surprise")] == 0.0
    assert labels[0] == names.index("neutral")  # a tie goes to the first in Microsoft's column order
    _, reason_test, soft_test = ferplus.label_votes(rows, np.array([False, False]), 8, "crossentropy")
    assert reason_test.tolist() == ["unknown", "unknown"]  # test: majority, and 4 of 10 is none


def test_vote_distribution_stops_at_unknown():
    assert ferplus.vote_distribution(np.array([0, 0, 0, 0, 0, 0, 0, 0, 6, 4])) is None  # unknown leads
    dist = ferplus.vote_distribution(np.array([6, 0, 0, 0, 0, 0, 0, 0, 4, 0]))  # unknown second: left out
    assert dist is not None and dist[0] == pytest.approx(1.0)


def _hand_count(votes_csv: Path, classes: int) -> dict[str, dict[str, int]]:
    """Microsoft's majority rule, counted line by line with the csv module."""
    order = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral", "contempt"][:classes]
    split = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
    counts = {s: {c: 0 for c in order} for s in split.values()}
    with open(votes_csv, newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["Image name"].strip():
                continue
            votes = {k: int(row[k]) for k in ferplus.VOTE_COLUMNS}
            votes = {k: (v if v > 1 else 0) for k, v in votes.items()}
            top = max(votes, key=lambda k: votes[k])
            if 2 * votes[top] > sum(votes.values()) and top in order:
                counts[split[row["Usage"]]][top] += 1
    return counts


@pytest.mark.skipif(not (SHARED / "ferplus" / "fer2013new.csv").exists(), reason="../shared/data absent")
@pytest.mark.parametrize("classes", [8, 7])
def test_real_ferplus_counts_match_a_hand_count(classes):
    path = SHARED / "ferplus" / "fer2013new.csv"
    table = read_csv_table(path)
    usage = table["Usage"].map({"Training": 0, "PublicTest": 1, "PrivateTest": 2}).to_numpy()
    named = table["Image name"].fillna("").str.strip().to_numpy() != ""
    votes = ferplus.votes_of(table, path)[named]
    labels, _, _ = ferplus.label_votes(votes, np.zeros(len(votes), bool), classes, "majority")
    ours = ferplus.class_counts(labels, usage[named], ferplus.class_names(classes))
    hand = _hand_count(path, classes)
    to_ours = dict(zip(["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral", "contempt"],
                       ferplus.CLASS_NAMES_8))
    assert ours == {s: {to_ours[k]: v for k, v in c.items()} for s, c in hand.items()}
    totals = {8: {"train": 25060, "val": 3199, "test": 3153}, 7: {"train": 24941, "val": 3186, "test": 3137}}
    assert {s: sum(c.values()) for s, c in ours.items()} == totals[classes]
