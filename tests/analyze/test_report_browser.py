"""The HTML report in a real headless Chromium: the timeline image and the per-task table render, the video
plays and a click seeks it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.browser.chromium import Chromium
from pipeline.analyze.cli import run as cli_run
from pipeline.analyze.demo import Shot, write_video

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                  "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=3000"]


def _chromium(exe: str, args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=120)


def test_report_renders_in_chromium(browser, face_bank, tiny_model, tmp_path):
    video = tmp_path / "session.webm"  # VP8 WebM: a codec Chromium plays, so the report links it as it is
    write_video(video, [Shot(0, 1.5, (0,), (24,)), Shot(1.5, 2.0), Shot(2.0, 3.0, (1,), (24,))], face_bank, 20,
                fourcc="VP80")
    (tmp_path / "tasks.csv").write_text("start,end,label\n0,1.5,onboarding\n1.5,3,search\n")
    out = tmp_path / "out"
    assert cli_run([str(video), "--model", str(tiny_model[0]), "--markers", str(tmp_path / "tasks.csv"),
                    "--out", str(out), "--no-progress"]) == 0
    assert not (out / "recording.webm").exists(), "a video browsers play needs no copy"
    url = (out / "report.html").resolve().as_uri()

    dom = _chromium(browser, ["--dump-dom", url], tmp_path / "profile1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    width = re.search(r'id="timeline"[^>]*data-rendered="(\d+)"', html) or re.search(r'data-rendered="(\d+)"[^>]*id="timeline"', html)
    assert width and int(width.group(1)) > 500, "the timeline image did not load"
    table = re.search(r'<table id="task-table">.*?</table>', html, re.S)
    assert table, "no per-task table"
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(0), re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    assert [re.search(r"<td[^>]*>(.*?)</td>", r).group(1) for r in rows] == ["onboarding", "search", "(whole recording)"]
    assert 'id="synthetic-warning"' in html and '<source src="../session.webm">' in html

    shot = tmp_path / "report.png"
    res = _chromium(browser, [f"--screenshot={shot}", "--window-size=1400,1500", url], tmp_path / "profile2")
    assert res.returncode == 0 and shot.stat().st_size > 10_000, res.stderr[-2000:]
    keep = os.environ.get("ANALYZE_SCREENSHOT_DIR")  # set it to look at the screenshot yourself
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report_screenshot.png")


def test_report_plays_a_copy_of_a_video_browsers_cannot_play_and_a_click_seeks_it(browser, face_bank, tiny_model,
                                                                                   tmp_path):
    """MJPEG in AVI does not play in a browser: the report plays recording.webm, and a click on the timeline
    moves the video to the time under the mouse."""
    video = tmp_path / "session.avi"
    write_video(video, [Shot(0, 1.5, (0,), (24,)), Shot(1.5, 3.0, (1,), (188,))], face_bank, 20)
    out = tmp_path / "out"
    assert cli_run([str(video), "--model", str(tiny_model[0]), "--out", str(out), "--no-progress"]) == 0
    assert (out / "recording.webm").stat().st_size > 0
    with Chromium(browser, timeout_s=20) as page:
        page.open((out / "report.html").resolve().as_uri())
        assert page.evaluate("document.querySelector('#video source').getAttribute('src')") == "recording.webm"
        duration = page.wait_for("(v => v.readyState >= 1 && v.duration)(document.getElementById('video'))",
                                 what="the video's metadata")
        assert duration == pytest.approx(3.0, abs=0.1)
        assert page.evaluate("document.getElementById('video').error") is None
        # it plays: time moves on by itself
        page.evaluate("document.getElementById('video').play().then(() => true)")
        page.wait_for("document.getElementById('video').currentTime > 0.3", what="playback")
        page.evaluate("document.getElementById('video').pause()")
        m = page.evaluate("JSON.parse(document.getElementById('timeline').dataset.map)")
        for target in (2.2, 0.6):
            fx = m["x0"] + (target - m["t0"]) / (m["t1"] - m["t0"]) * (m["x1"] - m["x0"])
            page.click("#timeline", fx=fx, fy=0.5)
            got = page.wait_for(f"(v => !v.seeking && Math.abs(v.currentTime - {target}) < 0.1 && v.currentTime)"
                                "(document.getElementById('video'))", what=f"the video at {target} s")
            assert got == pytest.approx(target, abs=0.1)
            assert page.evaluate("document.getElementById('clicked').textContent") == f"t = {got:.1f} s"


@pytest.mark.long
def test_docs_figures_script_makes_the_three_images_from_the_release_model(browser, tmp_path):
    """docs/make_figures.py as docs/analyze.md shows it (into a temporary folder)."""
    from tests.helpers import REPO_ROOT, SHARED_DATA

    if not (SHARED_DATA / "fer2013.csv.gz").exists():
        pytest.skip("needs ../shared/data/fer2013.csv.gz")
    done = subprocess.run([sys.executable, "docs/make_figures.py", "--out", str(tmp_path)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "analyze_timeline.png").stat().st_size > 20_000
    assert (tmp_path / "analyze_report.png").stat().st_size > 50_000
    assert (tmp_path / "analyze_study.png").stat().st_size > 50_000
