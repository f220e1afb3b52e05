"""The HTML report in a real headless Chromium: the timeline image and the per-task table render."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.analyze.cli import run as cli_run
from pipeline.analyze.demo import Shot, write_video

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                  "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=3000"]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> str:
    exe = chromium()
    if exe is None:
        pytest.skip("no chromium executable on PATH (.ci/run installs Debian's `chromium` with apt-get)")
    return exe


def _chromium(exe: str, args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=120)


def test_report_renders_in_chromium(browser, face_bank, tiny_model, tmp_path):
    video = tmp_path / "session.webm"  # VP8 WebM: a codec Chromium plays, so the player shows
    write_video(video, [Shot(0, 1.5, (0,), (24,)), Shot(1.5, 2.0), Shot(2.0, 3.0, (1,), (24,))], face_bank, 20,
                fourcc="VP80")
    (tmp_path / "tasks.csv").write_text("start,end,label\n0,1.5,onboarding\n1.5,3,search\n")
    out = tmp_path / "out"
    assert cli_run([str(video), "--model", str(tiny_model[0]), "--markers", str(tmp_path / "tasks.csv"),
                    "--out", str(out), "--no-progress"]) == 0
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
    assert 'id="synthetic-warning"' in html and 'id="video"' in html

    shot = tmp_path / "report.png"
    res = _chromium(browser, [f"--screenshot={shot}", "--window-size=1400,1500", url], tmp_path / "profile2")
    assert res.returncode == 0 and shot.stat().st_size > 10_000, res.stderr[-2000:]
    keep = os.environ.get("ANALYZE_SCREENSHOT_DIR")  # set it to look at the screenshot yourself
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report_screenshot.png")


@pytest.mark.long
def test_docs_figures_script_makes_both_images_from_the_release_model(browser, tmp_path):
    """docs/make_figures.py as docs/analyze.md shows it (into a temporary folder)."""
    from tests.helpers import REPO_ROOT, SHARED_DATA

    if not (SHARED_DATA / "fer2013.csv.gz").exists():
        pytest.skip("needs ../shared/data/fer2013.csv.gz")
    done = subprocess.run([sys.executable, "docs/make_figures.py", "--out", str(tmp_path)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "analyze_timeline.png").stat().st_size > 20_000
    assert (tmp_path / "analyze_report.png").stat().st_size > 50_000
