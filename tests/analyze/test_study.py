"""A study as docs/analyze.md shows it: two participants' recordings (real FER2013 faces, the release
model), one broken file, one tasks file for all or one per recording; each task compared across them."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.analyze.demo import Shot, write_video
from pipeline.analyze.segments import ALL
from pipeline.analyze.study import participant_names
from tests.helpers import REPO_ROOT

DOCS = REPO_ROOT / "docs" / "analyze.md"
TASKS = "start,end,label\n0,2,baseline\n2,4,search\n"
# Both look neutral during the baseline; during "search" p01 smiles and p02 frowns.
SCRIPTS = {"p01": [("neutral", 0, 2), ("happy", 2, 4)], "p02": [("neutral", 0, 2), ("angry", 2, 4)]}


def study_commands() -> list[list[str]]:
    """The study commands docs/analyze.md shows (its ```bash block under 'Compare participants')."""
    text = DOCS.read_text()
    section = text[text.index("### Compare participants"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    commands = [shlex.split(line.split("#")[0]) for line in block.splitlines() if line.strip()]
    assert commands and all(c[:3] == ["uv", "run", "analyze"] for c in commands), commands
    return commands


def run_as_written(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`uv run analyze ARGS` as a user runs it (the same entry point, this environment's python)."""
    return subprocess.run([sys.executable, "-m", "pipeline.analyze", *command[3:], "--no-progress"], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def participant_video(path: Path, script, faces: dict[str, np.ndarray]) -> None:
    bank = np.concatenate([faces[label][:1] for label, _, _ in script])
    write_video(path, [Shot(a, b, (k,), (104,)) for k, (_, a, b) in enumerate(script)], bank, 10, fourcc="mp4v")


@pytest.fixture(scope="module")
def study_run(tmp_path_factory, release_faces):
    """docs' first study command in a folder holding p01.mp4, p02.mp4 (MPEG-4 Part 2: browsers cannot play
    it, so the reports get a copy) and p03.mp4, which is not a video."""
    work = tmp_path_factory.mktemp("study")
    for name, script in SCRIPTS.items():
        participant_video(work / f"{name}.mp4", script, release_faces)
    (work / "p03.mp4").write_bytes(b"\x00\x01 not a video" * 100)
    (work / "tasks.csv").write_text(TASKS)
    first = study_commands()[0]
    assert "p03.mp4" in first and "tasks.csv" in first
    done = run_as_written(first, work)
    out = work / first[first.index("--out") + 1]
    return work, out, done


def test_a_broken_recording_is_named_and_the_others_still_run(study_run):
    work, out, done = study_run
    assert done.returncode == 1, done.stderr[-3000:]
    assert "p03.mp4" in done.stderr and "1 of 3 videos failed" in done.stderr
    info = json.loads((out / "study.json").read_text())
    assert [p["name"] for p in info["participants"]] == ["p01", "p02"]
    assert [Path(f["input"]).name for f in info["failed"]] == ["p03.mp4"]
    assert "p03.mp4" in info["failed"][0]["error"]
    page = (out / "study.html").read_text()
    assert re.search(r'id="failed".*p03\.mp4', page, re.S)
    assert not (out / "p03").exists()


def test_each_task_compared_across_participants_against_their_own_baseline(study_run):
    _, out, _ = study_run
    study = pd.read_csv(out / "study.csv", keep_default_na=False, na_values=[""])
    assert list(zip(study["task"], study["participant"])) == [
        ("baseline", "p01"), ("baseline", "p02"), ("search", "p01"), ("search", "p02"), (ALL, "p01"), (ALL, "p02")]
    rows = study.set_index(["task", "participant"])
    assert (study["face_seen_share"] > 0.9).all()
    # valence minus the participant's own baseline: 0 on the baseline itself, the sign of the expression after
    np.testing.assert_allclose(rows.loc["baseline", "delta_valence"], 0, atol=1e-9)
    assert rows.loc[("search", "p01"), "delta_valence"] > 0.3
    assert rows.loc[("search", "p02"), "delta_valence"] < -0.3
    for name in ("p01", "p02"):  # the same numbers as the participant's own report
        segs = pd.read_csv(out / name / "segments.csv").set_index("task")
        assert rows.loc[("search", name), "mean_valence"] == pytest.approx(segs.loc["search", "mean_valence"], abs=1e-4)
    assert rows.loc[("search", "p01"), "dominant_happy"] > 0.6
    assert rows.loc[("search", "p02"), "dominant_angry"] > 0.6
    shares = study[[c for c in study.columns if c.startswith("dominant_")]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0, atol=1e-3)


def test_moments_link_into_each_recordings_page(study_run):
    _, out, _ = study_run
    moments = pd.read_csv(out / "study_moments.csv", keep_default_na=False)
    frowns = moments[(moments["participant"] == "p02") & (moments["task"] == "search")]
    assert "angry" in set(frowns["label"]), moments
    assert not ((moments["participant"] == "p01") & (moments["task"] == "search")).any()
    page = (out / "study.html").read_text()
    for row in moments.itertuples():
        report, t = row.report.split("#t=")
        assert (out / report).is_file() and (out / row.thumbnail).is_file()
        assert float(t) == pytest.approx(row.start_sec, abs=1e-3)
        assert f'href="{row.report}"' in page
    for name in ("p01", "p02"):  # the copy browsers play, beside each report
        summary = json.loads((out / name / "summary.json").read_text())
        assert summary["report_video"] == "recording.webm" and summary["video_copy"]["duration_s"] == pytest.approx(4, abs=0.15)
        assert '<source src="recording.webm">' in (out / name / "report.html").read_text()


def test_a_moment_on_the_study_page_opens_its_recording_at_that_time(study_run, browser):
    """A real click on the study page's first moment: the participant's report opens and its video is at the
    moment's start; there, a click on the moment's peak moves the video to the peak."""
    from pipeline.browser.chromium import Chromium

    _, out, _ = study_run
    first = pd.read_csv(out / "study_moments.csv").iloc[0]
    with Chromium(browser, timeout_s=20) as page:
        page.open((out / "study.html").resolve().as_uri())
        assert page.evaluate("document.querySelector('a.moment').getAttribute('href')") == first["report"]
        page.click("a.moment")
        page.wait_for("location.href.includes('/report.html#t=')", what="the report opening")
        at = page.wait_for(f"(v => v && v.readyState >= 1 && !v.seeking && Math.abs(v.currentTime - {first['start_sec']})"
                           " < 0.1 && v.duration)(document.getElementById('video'))", what="the video at the moment")
        assert at == pytest.approx(4.0, abs=0.15)  # the video's duration: it loaded
        peak = page.evaluate("document.querySelector('#moments-table a.seek[href*=\"%.3f\"]') !== null"
                             % first["peak_sec"])
        assert peak
        page.click('#moments-table a.seek[href*="%.3f"]' % first["peak_sec"])
        page.wait_for(f"Math.abs(document.getElementById('video').currentTime - {first['peak_sec']}) < 0.1",
                      what="the video at the peak")


def test_folder_with_a_tasks_file_per_recording(release_faces, tmp_path):
    """docs' second study command: a folder of recordings and markers/<recording>.csv each."""
    second = study_commands()[1]
    folder, markers = Path(second[3]), Path(second[second.index("--markers") + 1])
    (tmp_path / folder).mkdir()
    (tmp_path / markers).mkdir()
    for name, script in SCRIPTS.items():
        participant_video(tmp_path / folder / f"{name}.mp4", script, release_faces)
    (tmp_path / markers / "p01.csv").write_text(TASKS)
    (tmp_path / markers / "p02.csv").write_text("start,end,label\n0,2,baseline\n2,3,search\n3,4,pay\n")
    done = run_as_written(second, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    study = pd.read_csv(tmp_path / second[second.index("--out") + 1] / "study.csv")
    assert list(zip(study["task"], study["participant"])) == [
        ("baseline", "p01"), ("baseline", "p02"), ("search", "p01"), ("search", "p02"), ("pay", "p02"),
        (ALL, "p01"), (ALL, "p02")]


def test_readme_shows_the_same_study_commands():
    text, readme = DOCS.read_text(), (REPO_ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text[text.index("### Compare participants"):], re.S).group(1)
    for line in block.splitlines():
        assert line in readme, f"README differs from docs/analyze.md: {line}"


def test_participant_names_keep_same_named_recordings_apart():
    assert participant_names([Path("a/p01.mp4"), Path("a/p02.mp4")]) == ["p01", "p02"]
    assert participant_names([Path("p01/session.mp4"), Path("p02/session.mp4")]) == ["p01-session", "p02-session"]
    with pytest.raises(ValueError, match="share an output folder: x-session"):
        participant_names([Path("x/session.mp4"), Path("y/x/session.mp4")])
