"""The small parts of analyze on their own: markers, smoothing with hysteresis, tracker, model names."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.analyze.smooth import hysteresis_labels, smooth_probabilities, valence
from pipeline.analyze.tasks import assign_tasks, read_markers
from pipeline.analyze.track import IoUTracker, participant_tracks
from pipeline.export.resolve import resolve_model


def test_markers_errors_name_file_and_row(tmp_path):
    bad = tmp_path / "tasks.csv"
    bad.write_text("start,end,label\n0,10,login\n20,15,search\n")
    with pytest.raises(ValueError, match=r"tasks.csv, row 3: end 15.0 s is not after start 20.0 s"):
        read_markers(bad)
    bad.write_text("begin,stop,name\n0,1,a\n")
    with pytest.raises(ValueError, match="header must name start,end,label"):
        read_markers(bad)
    good = tmp_path / "ok.csv"
    good.write_text("start,end,label\n0,1:00,intro\n1:00,90.5,task\n")
    markers = read_markers(good)
    tasks = assign_tasks(np.array([0.0, 59.9, 60.0, 90.4, 90.5]), markers)
    assert list(tasks) == ["intro", "intro", "task", "task", ""]


def test_hysteresis_holds_the_label_until_a_clear_lead():
    p = np.array([[0.6, 0.4], [0.45, 0.55], [0.42, 0.58], [0.3, 0.7], [np.nan, np.nan], [0.45, 0.55]], np.float32)
    assert list(hysteresis_labels(p, 0.2)) == [0, 0, 0, 1, -1, 1]
    assert list(hysteresis_labels(p, 0.0)) == [0, 1, 1, 1, -1, 1]


def test_smoothing_skips_face_lost_rows_and_keeps_them_empty():
    p = np.array([[1, 0], [0, 1], [np.nan, np.nan], [1, 0]], np.float32)
    s = smooth_probabilities(p, 3)
    np.testing.assert_allclose(s[0], [0.5, 0.5])
    assert np.isnan(s[2]).all()
    np.testing.assert_allclose(s[3], [1, 0])
    assert valence(np.eye(7, dtype=np.float32), ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")).tolist() == [-1, -1, -1, 1, -1, 0, 0]


def test_tracker_follows_a_moving_box_and_participant_merges_returns():
    tracker = IoUTracker(0.3, max_missed=2)
    ids = [tracker.update(np.array([[10 + 3 * i, 10, 50, 50]]))[0] for i in range(10)]
    assert len(set(ids)) == 1
    for _ in range(3):
        tracker.update(np.zeros((0, 4)))
    assert tracker.update(np.array([[200, 10, 50, 50]]))[0] != ids[0]  # a new track after the gap
    # participant: track 1 (long) + track 3 (after it, no overlap); track 2 overlaps track 1: a visitor
    inst = np.array([0, 1, 2, 3, 2, 3, 5, 6])
    fids = np.array([1, 1, 1, 1, 2, 2, 3, 3])
    assert participant_tracks(inst, fids) == {1, 3}


def test_model_names_resolve_in_the_export_folder(tmp_path):
    for stem in ("E4", "teacher", "baseline_student_a"):
        (tmp_path / f"{stem}.onnx").write_bytes(b"x")
    assert resolve_model("E4", tmp_path).name == "E4.onnx"
    assert resolve_model("e4", tmp_path).name == "E4.onnx"
    assert resolve_model("student_a", tmp_path).name == "baseline_student_a.onnx"
    assert resolve_model("baseline student_a", tmp_path).name == "baseline_student_a.onnx"
    with pytest.raises(FileNotFoundError, match="available: E4, baseline_student_a, teacher"):
        resolve_model("E9", tmp_path)
