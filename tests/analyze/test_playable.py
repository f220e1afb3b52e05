"""The browser-playable copy: which files need one, and that the copy shows each moment at its time."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from pipeline.analyze.playable import browser_playable, write_playable_copy


def grey_video(path, fourcc: str, fps: float, n: int, size=(160, 120)) -> None:
    """Frame i is flat grey 40 + 8 i: its brightness tells which frame a copy shows."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened()
    for i in range(n):
        writer.write(np.full((size[1], size[0], 3), 40 + 8 * i, np.uint8))
    writer.release()


def test_only_codecs_browsers_play_count_as_playable(tmp_path):
    cases = {"a.webm": ("VP80", True), "b.avi": ("MJPG", False), "c.mp4": ("mp4v", False), "d.mkv": ("VP80", False)}
    for name, (fourcc, _) in cases.items():
        grey_video(tmp_path / name, fourcc, 10, 5)
    (tmp_path / "e.mp4").write_bytes(b"not a video")
    assert {name: browser_playable(tmp_path / name) for name in cases} == {n: want for n, (_, want) in cases.items()}
    assert not browser_playable(tmp_path / "e.mp4")


def test_copy_shows_each_moment_at_its_time(tmp_path):
    src, dst = tmp_path / "session.avi", tmp_path / "out" / "recording.webm"
    grey_video(src, "MJPG", 20, 25)  # 1.25 s
    info = write_playable_copy(src, dst, max_fps=15)
    assert info["fps"] == 15 and info["frames"] == math.ceil(1.25 * 15) and info["duration_s"] == pytest.approx(1.25, abs=1 / 15)
    assert browser_playable(dst)
    cap = cv2.VideoCapture(str(dst))
    shown = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        shown.append(float(frame.mean()))
    cap.release()
    assert len(shown) == info["frames"]
    # copy frame j (at j / 15 s) shows the first source frame at or after that time, as the analysis samples
    want = [40 + 8 * math.ceil(j * 20 / 15 - 1e-9) for j in range(len(shown))]
    np.testing.assert_allclose(shown, want, atol=4)


def test_copy_is_scaled_down_and_a_broken_source_leaves_nothing(tmp_path):
    grey_video(tmp_path / "big.avi", "MJPG", 10, 3, size=(800, 600))
    info = write_playable_copy(tmp_path / "big.avi", tmp_path / "big.webm")
    assert (info["width"], info["height"]) == (640, 480) and info["fps"] == 10
    (tmp_path / "broken.avi").write_bytes(b"\x00" * 2000)
    with pytest.raises(ValueError, match="broken.avi"):
        write_playable_copy(tmp_path / "broken.avi", tmp_path / "out" / "recording.webm")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
