"""analyze on real recordings: rows, timestamps, faces, tasks, tracking, outputs, errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.analyze.cli import run as cli_run
from pipeline.analyze.demo import Shot, face_present, write_video
from pipeline.analyze.run import analyze
from pipeline.analyze.settings import Settings
from pipeline.export.classifier import OnnxClassifier

from .conftest import FPS, SCRIPT

DURATION = 8.0


@pytest.fixture(scope="module")
def frames(analysed) -> pd.DataFrame:
    return pd.read_csv(analysed / "frames.csv", keep_default_na=True)


def test_one_row_per_instant_over_the_whole_duration(frames):
    assert len(frames) == int(DURATION * 10)
    t = frames["t_sec"].to_numpy()
    assert np.all(np.diff(t) > 0), "timestamps must increase"
    np.testing.assert_allclose(t, np.arange(len(t)) / 10, atol=1e-9)
    assert t[-1] < DURATION <= t[-1] + 0.1 + 1e-9
    # each instant shows the first frame at or after it (decoder timestamps)
    np.testing.assert_allclose(frames["frame_t_sec"], frames["frame"] / FPS, atol=1e-6)
    assert (frames["frame_t_sec"] >= t - 1e-6).all() and (frames["frame_t_sec"] - t < 1 / FPS).all()


def test_face_ok_false_exactly_where_no_face_was_drawn(frames):
    drawn = face_present(SCRIPT, frames["t_sec"].to_numpy())
    np.testing.assert_array_equal(frames["face_ok"].to_numpy(), drawn)
    lost = frames[~frames["face_ok"]]
    assert lost[[c for c in frames.columns if c.startswith(("p_", "s_"))]].isna().all().all()
    assert lost["face_id"].isna().all() and (lost["top_label"].isna()).all()
    seen = frames[frames["face_ok"]]
    np.testing.assert_allclose(seen[[c for c in seen.columns if c.startswith("p_")]].sum(axis=1), 1.0, atol=1e-4)


def test_markers_map_rows_to_tasks(frames):
    t, task = frames["t_sec"].to_numpy(), frames["task"].fillna("").to_numpy()
    assert (task[t < 2] == "login").all()
    assert (task[(t >= 2) & (t < 3)] == "").all()
    assert (task[(t >= 3) & (t < 5)] == "search").all()
    assert (task[t >= 5] == "checkout").all()


def test_tracker_keeps_one_id_through_a_stretch(frames):
    """One id while the face drifts (0-2 s), and the participant keeps theirs while a visitor sits beside."""
    t = frames["t_sec"].to_numpy()
    first = frames.loc[t < 2, "face_id"]
    assert first.nunique() == 1
    stretch = frames.loc[(t >= 3) & (t < 6.5), "face_id"]
    assert stretch.nunique() == 1 and stretch.notna().all()


def test_all_outputs_and_loud_synthetic_warning(analysed, tiny_model):
    names = {p.name for p in analysed.iterdir()}
    assert {"frames.csv", "segments.csv", "moments.csv", "summary.json", "timeline.png", "task_bars.png",
            "report.html"} <= names
    summary = json.loads((analysed / "summary.json").read_text())
    assert summary["model"]["trained_on_synthetic_data"] is True
    assert summary["model"]["sha256"] and summary["versions"]["onnxruntime"]
    assert summary["instants"] == 80 and math.isclose(summary["duration_s"], DURATION)
    assert summary["speed"]["realtime_factor"] > 0 and summary["baseline"] == "task 'login'"
    assert any("GENERATED" in w for w in summary["warnings"])
    assert "GENERATED" in (analysed / "stderr.txt").read_text()
    assert 'id="synthetic-warning"' in (analysed / "report.html").read_text()
    segments = pd.read_csv(analysed / "segments.csv")
    assert list(segments["task"]) == ["login", "search", "checkout", "(no task)", "(whole recording)"]
    assert segments.set_index("task").loc["(no task)", "face_seen_share"] == 0
    assert "delta_happy" in segments
    moments = pd.read_csv(analysed / "moments.csv")
    for thumb in moments["thumbnail"]:
        assert (analysed / thumb).stat().st_size > 0


def test_all_faces_keeps_every_track(recording, tiny_model, tmp_path):
    assert cli_run([str(recording), "--model", str(tiny_model[0]), "--all-faces", "--out", str(tmp_path),
                    "--no-progress"]) == 0
    frames = pd.read_csv(tmp_path / "frames.csv")
    per_instant = frames.groupby("instant").size()
    t = frames.groupby("instant")["t_sec"].first()
    two = (t >= 5) & (t < 6.5)
    assert (per_instant[two] == 2).all() and (per_instant[~two] == 1).all()
    assert frames.loc[frames["t_sec"].between(5, 6.45), "face_id"].nunique() == 2


@pytest.mark.parametrize("fps", [7, 30])
def test_sampling_does_not_depend_on_frame_rate(fps, face_bank, tiny_model, tmp_path):
    path = tmp_path / f"clip{fps}.avi"
    n = write_video(path, [Shot(0, 1.5, (0,), (24,)), Shot(1.5, 2.3)], face_bank, fps)
    a = analyze(path, "video", [path], OnnxClassifier(tiny_model[0]), Settings(), progress=False)
    duration = n / fps
    assert math.isclose(a.duration_s, duration, rel_tol=1e-6)
    assert a.n_instants == len(a.frames) == math.ceil(duration * 10 - 1e-9)
    t = a.frames["t_sec"].to_numpy()
    np.testing.assert_allclose(t, np.arange(len(t)) / 10, atol=1e-9)
    # an instant shows the first frame at or after it: a face drawn before 1.5 s is seen before ~1.5 s
    assert a.frames.loc[t < 1.5 - 1 / fps, "face_ok"].all()
    assert not a.frames.loc[t >= 1.5, "face_ok"].any()


@pytest.mark.parametrize("content", [b"", b"\x00\x01garbage" * 500])
def test_corrupt_or_empty_video_names_the_file(content, tiny_model, tmp_path, capsys):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(content)
    with pytest.raises(SystemExit) as exit_info:
        from pipeline.analyze.cli import main

        main([str(bad), "--model", str(tiny_model[0]), "--out", str(tmp_path / "o"), "--no-progress"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "analyze: error:" in err and str(bad) in err
    assert not (tmp_path / "o" / "frames.csv").exists()


def test_folder_of_videos_reports_a_bad_one_and_keeps_the_rest(face_bank, tiny_model, tmp_path, caplog):
    folder = tmp_path / "videos"
    folder.mkdir()
    write_video(folder / "good.avi", [Shot(0, 1, (0,), (24,))], face_bank, 10)
    (folder / "bad.mp4").write_bytes(b"not a video")
    assert cli_run([str(folder), "--model", str(tiny_model[0]), "--out", str(tmp_path / "out"), "--no-progress"]) == 1
    assert len(pd.read_csv(tmp_path / "out" / "good" / "frames.csv")) == 10
    assert any("bad.mp4" in r.getMessage() for r in caplog.records)


def test_image_folder_skips_unreadable_images(face_bank, tiny_model, tmp_path):
    import cv2

    from pipeline.analyze.demo import background, place

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(3):
        frame = background(320, 240)
        if i != 1:
            place(frame, face_bank[i], 24, 64, 112)
        cv2.imwrite(str(folder / f"img{i}.png"), frame)
    (folder / "img1b_corrupt.jpg").write_bytes(b"\xff\xd8 truncated")
    out = tmp_path / "out"
    assert cli_run([str(folder), "--model", str(tiny_model[0]), "--out", str(out), "--no-progress"]) == 0
    frames = pd.read_csv(out / "frames.csv")
    assert list(frames["source"]) == ["img0.png", "img1.png", "img2.png"]
    assert list(frames["face_ok"]) == [True, False, True]
    summary = json.loads((out / "summary.json").read_text())
    assert [Path(s["file"]).name for s in summary["skipped"]] == ["img1b_corrupt.jpg"]


def test_onnx_classifier_preprocesses_like_training(tiny_model, face_bank):
    """ONNX Runtime on uint8 crops == PyTorch on the training input path (device_data.to_model_input)."""
    import torch

    from pipeline.inputs.device_data import resize_uint8, to_model_input

    path, model = tiny_model
    crops = resize_uint8(face_bank[:4], 32)[:, 0].numpy()
    got = OnnxClassifier(path)(crops)
    with torch.no_grad():
        want = torch.softmax(model(to_model_input(torch.from_numpy(crops)[:, None])), dim=1).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_roi_crops_and_reports_boxes_in_frame_pixels(recording, tiny_model, frames):
    """--roi: detection inside the rectangle only, boxes still in the whole frame's coordinates."""
    a = analyze(recording, "video", [recording], OnnxClassifier(tiny_model[0]), Settings(roi=(8, 30, 200, 200)),
                progress=False)
    np.testing.assert_array_equal(a.frames["face_ok"].to_numpy(), frames["face_ok"].to_numpy())
    seen = a.frames["face_ok"].to_numpy()
    # the cascade's window grid moves with the crop: boxes agree to a few pixels on a ~100 px face
    diff = a.frames.loc[seen, "x"].astype(float) - frames.loc[seen, "x"].astype(float)
    assert diff.abs().max() <= 12 and abs(diff.mean()) <= 6
    with pytest.raises(ValueError, match="lies outside"):
        analyze(recording, "video", [recording], OnnxClassifier(tiny_model[0]), Settings(roi=(200, 0, 300, 100)),
                progress=False)
