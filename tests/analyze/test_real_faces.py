"""The default model (the committed release) on a recording of real faces of known class: its labels
agree with the truth far above chance, and a smile reads as happy, raised brows with an open mouth as surprise."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pipeline.analyze.demo import Shot, detectable_faces, read_fer_labelled, write_video
from pipeline.sources.fer2013 import CLASS_NAMES
from tests.helpers import REPO_ROOT

PER_CLASS = 15  # candidate PrivateTest faces per class; those the face detector finds are shown
SHOT_S = 1.0


@pytest.fixture(scope="module")
def labelled_recording(shared_data, tmp_path_factory):
    """One face per second, each a PrivateTest face whose label is known; returns (video, shots, labels)."""
    faces, labels = read_fer_labelled(shared_data / "fer2013.csv.gz", PER_CLASS)
    keep = [i for i in range(len(faces)) if len(detectable_faces(faces[i:i + 1]))]
    faces, labels = faces[keep], labels[keep]
    shots = [Shot(i * SHOT_S, (i + 1) * SHOT_S, (i,), (104,)) for i in range(len(faces))]
    path = tmp_path_factory.mktemp("real") / "faces.avi"
    write_video(path, shots, faces, fps=10)
    return path, shots, labels


@pytest.fixture(scope="module")
def analysed_real(labelled_recording, tmp_path_factory):
    video, shots, labels = labelled_recording
    out = tmp_path_factory.mktemp("out") / "analysis"
    proc = subprocess.run([sys.executable, "-m", "pipeline.analyze", str(video), "--out", str(out), "--no-progress"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)  # no --model: the default
    assert proc.returncode == 0, proc.stderr
    return out, proc


def _per_shot_labels(out, shots, labels) -> pd.DataFrame:
    return _per_shot_labels_frames(pd.read_csv(out / "frames.csv"), shots, labels)


def _per_shot_labels_frames(frames: pd.DataFrame, shots, labels) -> pd.DataFrame:
    probs = frames[[f"p_{c}" for c in CLASS_NAMES]].to_numpy()
    shot = np.floor(frames["t_sec"].to_numpy() / SHOT_S).astype(int)
    seen = frames["face_ok"].to_numpy(bool) & (shot < len(shots))
    return pd.DataFrame({"shot": shot[seen], "truth": labels[shot[seen]], "predicted": probs[seen].argmax(1)})


def test_ferplus_release_reads_contempt_too(labelled_recording, tmp_path):
    """`analyze --model release-ferplus`: the 8-class model's probabilities (contempt among them) in frames.csv,
    and its labels agree with the truth on the seven classes both label sets share."""
    import json

    from pipeline.sources.ferplus import CLASS_NAMES_8

    video, shots, labels = labelled_recording
    out = tmp_path / "analysis"
    proc = subprocess.run([sys.executable, "-m", "pipeline.analyze", str(video), "--out", str(out), "--no-progress",
                           "--model", "release-ferplus"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    model = json.loads((out / "summary.json").read_text())["model"]
    assert model["name"] == "ferplus" and model["class_names"] == list(CLASS_NAMES_8)
    frames = pd.read_csv(out / "frames.csv")
    probs = frames[[f"p_{c}" for c in CLASS_NAMES_8]].to_numpy()
    seen = frames["face_ok"].to_numpy(bool)
    shot = np.floor(frames["t_sec"].to_numpy()[seen] / SHOT_S).astype(int)
    inside = shot < len(shots)
    predicted = [CLASS_NAMES_8[i] for i in probs[seen][inside].argmax(1)]
    truth = [CLASS_NAMES[i] for i in labels[shot[inside]]]
    assert np.mean([p == t for p, t in zip(predicted, truth)]) >= 0.4  # chance 1/8


def test_default_model_is_the_real_data_release(analysed_real):
    import json

    out, proc = analysed_real
    model = json.loads((out / "summary.json").read_text())["model"]
    assert model["name"] == "fer2013" and model["data_source"] == "fer2013"
    assert model["trained_on_synthetic_data"] is False
    assert "SYNTHETIC" not in proc.stderr


def test_labels_agree_with_real_faces(analysed_real, labelled_recording):
    out, _ = analysed_real
    _, shots, labels = labelled_recording
    rows = _per_shot_labels(out, shots, labels)
    assert rows["shot"].nunique() >= 0.9 * len(shots)  # the detector finds nearly every face
    agreement = float((rows["truth"] == rows["predicted"]).mean())
    per_class = rows.assign(ok=rows["truth"] == rows["predicted"]).groupby("truth")["ok"].mean()
    print(f"agreement {agreement:.3f}; per class {per_class.round(2).to_dict()}; shots {rows['shot'].nunique()}")
    assert agreement >= 0.40, f"agreement {agreement:.2f} (chance 1/7)"
    happy, surprise = CLASS_NAMES.index("happy"), CLASS_NAMES.index("surprise")
    assert per_class[happy] >= 0.7 and per_class[surprise] >= 0.5, per_class.to_dict()


def _differ(a: pd.DataFrame, b: pd.DataFrame, col: str) -> int:
    """Instants whose ``col`` differs (no face and no label compare equal; frames.csv's text read back)."""
    x, y = a[col], b[col]
    if col in ("face_ok", "x", "y", "w", "h"):
        x, y = x.astype(float), y.astype(float)
        return int((~((x.to_numpy() == y.to_numpy()) | (x.isna().to_numpy() & y.isna().to_numpy()))).sum())
    return int((x.fillna("").astype(str).to_numpy() != y.fillna("").astype(str).to_numpy()).sum())


def test_fast_face_finding_keeps_the_reference_outputs_on_the_labelled_recording(analysed_real, labelled_recording):
    """Issue 31: the default analysis (cascade at anchors, template matches between, and on a frame
    bit-identical to the last one the reference's own step, memoised) against the cascade at every instant
    (``Settings(cascade_every_s=0)``, the behaviour before): on this recording, whose faces stand still for
    a second each, the face-seen flag, the boxes and the labels are the same at every instant."""
    from pipeline.analyze.run import analyze
    from pipeline.analyze.settings import Settings
    from pipeline.export.classifier import OnnxClassifier

    out, _ = analysed_real
    video, _, _ = labelled_recording
    fast = pd.read_csv(out / "frames.csv", keep_default_na=False, na_values=[""])
    reference = analyze(video, "video", [video], OnnxClassifier(REPO_ROOT / "release" / "fer2013.onnx"),
                        Settings(cascade_every_s=0), progress=False).frames
    assert len(fast) == len(reference)
    counts = {col: _differ(reference, fast, col) for col in ("face_ok", "x", "y", "w", "h", "top_raw", "top_label")}
    print(f"instants differing from the cascade at every instant, of {len(reference)}: {counts}")
    assert not any(counts.values()), counts


@pytest.mark.long
def test_fast_face_finding_on_the_benchmark_recording_differs_less_than_the_reference_from_itself(shared_data, tmp_path):
    """The recording of benchmarks/analyze_speed.py (1 min, 640x480, 25 fps; a face drifting 1 px a frame, a
    new one every 3 s, 3 s away in every 30 s) against the outputs before issue 31: the cascade at every
    instant on grey converted from BGR. Its frames all differ, so the default path interpolates boxes between
    cascade anchors (template-confirmed), and takes grey from the luma plane (within one level), so boxes
    move by a few pixels and the release model's smoothed labels flip where two classes lie within the
    hysteresis margin. Measured (opencv-python-headless 4.14.0): no face-seen flag differs; 3 of 600 labels
    differ (11 with BGR grey), while the reference differs from itself by 3 and 25 labels when only the phase
    of its whole-frame scans moves (1.9 s, 2.1 s). Required: the face-seen flags equal, labels differing no
    more than the reference's own mean, grey taken from the luma plane."""
    import importlib.util

    from pipeline.analyze.demo import detectable_faces, read_fer_faces
    from pipeline.analyze.run import analyze
    from pipeline.analyze.settings import Settings
    from pipeline.export.classifier import OnnxClassifier

    spec = importlib.util.spec_from_file_location("analyze_speed", REPO_ROOT / "benchmarks" / "analyze_speed.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    size = int(480 * 0.42)
    video = tmp_path / "session_1min_640x480_25fps.mp4"
    bank = detectable_faces(read_fer_faces(shared_data / "fer2013.csv.gz", 40), size=size, width=640, height=480)
    write_video(video, bench.script(1.0, len(bank), 640, size), bank, 25.0, size=size, width=640, height=480,
                fourcc="mp4v", drift_px=1.0)
    classifier = OnnxClassifier(REPO_ROOT / "release" / "fer2013.onnx", threads=1)

    def run(**kw):
        return analyze(video, "video", [video], classifier, Settings(**kw), progress=False)

    reference, default = run(cascade_every_s=0, luma=False).frames, run()
    fast = default.frames
    assert default.video["gray_from"] == "luma"
    own = [_differ(run(cascade_every_s=0, luma=False, full_scan_s=s).frames, reference, "top_label") for s in (1.9, 2.1)]
    labels, flags = _differ(fast, reference, "top_label"), _differ(fast, reference, "face_ok")
    print(f"of {len(reference)} instants, the default path differs from the cascade at every instant in {flags} "
          f"face-seen flags and {labels} labels ({_differ(fast, reference, 'top_raw')} unsmoothed top classes); "
          f"the reference with its whole-frame scans at 1.9 s / 2.1 s differs from itself in {own} labels")
    assert flags == 0
    assert labels <= np.mean(own)
