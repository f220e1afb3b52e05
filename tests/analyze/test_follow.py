"""The fast path of face finding (cascade at anchors, template matches between, cascade calls memoised on
identical frames) against the reference path (the cascade at every instant on grey converted from BGR: the
behaviour before issue 31); luma decoding (on by default) and the empty-scene gate (off) on their own."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.analyze.demo import Shot, background, face_present, place, write_video
from pipeline.analyze.detect import FaceDetector
from pipeline.analyze.follow import MIN_MATCH, PATCH, SEARCH, FaceFollower, best_match, patch
from pipeline.analyze.luma import fit_table
from pipeline.analyze.run import analyze
from pipeline.analyze.settings import Settings
from pipeline.analyze.sources import VideoSampler
from pipeline.analyze.track import IoUTracker
from pipeline.export.classifier import OnnxClassifier
from tests.helpers import REPO_ROOT

REFERENCE = Settings(cascade_every_s=0, luma=False)
RELEASE = REPO_ROOT / "release" / "fer2013.onnx"


def _both(path, classifier, **kw):
    ref = analyze(path, "video", [path], classifier, Settings(cascade_every_s=0, luma=False, **kw), progress=False)
    new = analyze(path, "video", [path], classifier, Settings(**kw), progress=False)
    return ref, new


def _same_outputs(ref, new) -> None:
    for col in ("face_ok", "face_id", "top_label"):
        np.testing.assert_array_equal(new.frames[col].astype(object).fillna("-").to_numpy(),
                                      ref.frames[col].astype(object).fillna("-").to_numpy(), err_msg=col)


@pytest.mark.parametrize("model", ["tiny", "release"])
def test_fast_path_keeps_face_seen_ids_and_labels_on_the_test_recording(recording, tiny_model, model):
    """The shared test recording (a drifting face, an empty second, a visitor who leaves between anchors):
    the same face_ok, face_id and top_label as the cascade at every instant, with a fraction of its runs."""
    classifier = OnnxClassifier(tiny_model[0] if model == "tiny" else RELEASE)
    ref, new = _both(recording, classifier)
    _same_outputs(ref, new)
    assert (ref.video["gray_from"], new.video["gray_from"]) == ("bgr", "luma")  # grey from the luma plane by default
    assert new.timings["template_matched"] > 0
    assert new.timings["cascade_runs"] < 0.75 * ref.timings["cascade_runs"] == 0.75 * len(ref.frames)


@pytest.mark.parametrize("script, as_drawn", [
    ([Shot(0, 1.35, (0,), (24,)), Shot(1.35, 2.6)], True),  # leaves between two anchors
    ([Shot(0, 0.6), Shot(0.6, 2.6, (1,), (24,))], True),  # arrives in an empty scene that was not re-scanned
    # jumps across the frame between anchors: lost at once, found again at the next whole-frame scan (2 s)
    ([Shot(0, 1.35, (0,), (24,)), Shot(1.35, 2.6, (0,), (188,))], False),
])
def test_changes_between_anchors_are_found_as_by_the_reference(script, as_drawn, face_bank, tiny_model, tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, script, face_bank, 20)
    ref, new = _both(path, OnnxClassifier(tiny_model[0]))
    _same_outputs(ref, new)
    drawn = face_present(script, new.frames["t_sec"].to_numpy())
    seen = new.frames["face_ok"].to_numpy()
    if as_drawn:  # leaving and arriving are seen at the very instant
        np.testing.assert_array_equal(seen, drawn)
    else:
        assert not (seen & ~drawn).any() and seen[new.frames["t_sec"].to_numpy() >= 2.0].all()


def test_identical_frames_reuse_the_cascade_and_give_the_reference_boxes(face_bank):
    """A frame bit-identical to the last one gets the reference's own step (a search around the tracked face),
    and the same search of the same pixels is not run twice: a still scene costs one or two cascade runs,
    with the boxes the cascade at every instant gives."""
    frame = background(320, 240)
    place(frame, face_bank[0], 24, 64, 112)
    face = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    empty = cv2.cvtColor(background(320, 240), cv2.COLOR_BGR2GRAY)
    stream = [empty.copy() for _ in range(4)] + [face.copy() for _ in range(30)]  # copies: equal, not the same object
    fast = FaceFollower(FaceDetector(), IoUTracker(), full_every=20, cascade_every=10)
    ref = FaceFollower(FaceDetector(), IoUTracker(), full_every=20, cascade_every=1)
    got = [f for _, f in fast.run((i, g, i) for i, g in enumerate(stream))]
    want = [f for _, f in ref.run((i, g, i) for i, g in enumerate(stream))]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g.boxes, w.boxes)
        assert g.ids == w.ids
    assert ref.cascade_runs == len(stream) and fast.matched == 0
    # the search around the last box wanders into a cycle of a few boxes, each search then remembered
    assert fast.cascade_runs <= 12 and fast.memo_hits == len(stream) - fast.cascade_runs


def test_empty_scene_is_rescanned_only_when_it_changes(face_bank):
    """With the (approximate, opt-in) gate: nobody in view, the whole-frame scan runs once, then only when a
    cell of the frame changes (or a scan period passed); a face appearing is found at that very instant."""
    empty = cv2.cvtColor(background(320, 240), cv2.COLOR_BGR2GRAY)
    noisy = np.clip(empty.astype(np.int16) + np.random.default_rng(0).integers(-3, 4, empty.shape), 0, 255).astype(np.uint8)
    frame = background(320, 240)
    place(frame, face_bank[0], 24, 64, 112)
    face = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    stream = [empty] * 5 + [noisy] * 5 + [face] * 3
    follower = FaceFollower(FaceDetector(), IoUTracker(), full_every=20, cascade_every=10, gate=True)
    found = [f for _, f in follower.run((i, g, i) for i, g in enumerate(stream))]
    assert [len(f.boxes) for f in found] == [0] * 10 + [1] * 3
    assert follower.skipped_scans + follower.memo_hits == 9  # camera noise averages out in 16 px cells
    # the first frame, the face's arrival, and the reference's own search around it at its two repeats
    assert follower.cascade_runs == 4 and follower.matched == 0


def test_template_match_finds_a_shift_and_rejects_background(face_bank):
    frame = background(320, 240)
    place(frame, face_bank[0], 100, 60, 112)
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    box = np.array([100, 60, 112, 112], np.float64)
    template = patch(gray, box)
    assert template.shape == (PATCH, PATCH)
    for shift in (-7.0, 0.0, 10.5):  # the face sits shift px right of where it is looked for
        score, (dx, _) = best_match(patch(gray, box - [shift, 0, 0, 0], SEARCH), template)
        assert score > 0.9 and abs(dx * 112 / PATCH - shift) < 1.5
    empty = cv2.cvtColor(background(320, 240), cv2.COLOR_BGR2GRAY)
    assert best_match(patch(empty, box, SEARCH), template)[0] < MIN_MATCH


def test_luma_table_maps_limited_and_full_range_and_refuses_mismatches():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (60, 80)).astype(np.uint8)
    limited = np.round(16 + gray.astype(np.float64) * 219 / 255).astype(np.uint8)
    for luma in (limited, gray):
        table = fit_table(luma, gray)
        assert table is not None and np.abs(table[luma].astype(int) - gray).max() <= 1
    assert fit_table(rng.integers(0, 256, (60, 80)).astype(np.uint8), gray) is None  # unrelated planes
    assert fit_table(np.full((60, 80), 128, np.uint8), gray) is None  # nothing to learn from


def test_luma_decoding_matches_bgr_grey_within_one_level(recording):
    luma = list(VideoSampler(recording, 10.0, luma=True))
    bgr = list(VideoSampler(recording, 10.0, gray=True))
    assert len(luma) == len(bgr) and luma[0].image.ndim == 2
    diff = np.stack([np.abs(a.gray.astype(int) - b.gray) for a, b in zip(luma, bgr)])
    assert diff.max() <= 1 and (diff == 0).mean() > 0.9
