"""Rebuild docs/analyze_timeline.png, docs/analyze_report.png and docs/analyze_study.png from the
current release model.

    uv run python docs/make_figures.py                  # needs ../shared/data/fer2013.csv.gz and chromium

A 90-s demo recording is drawn from FER2013 PrivateTest faces with a known script (neutral during
"baseline", happy during "sign up", angry and sad during "checkout", surprised during "confirmation";
the participant looks away at 40-44 s), analysed by `analyze` with its default model (the release
model), and the report is rendered by headless Chromium after a click on its first moment. Then three
such participants, each with their own script, make a study. PrivateTest is the release model's test
split: it never trained on these faces.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.browser.chromium import Chromium, find_chromium  # noqa: E402
from pipeline.analyze.cli import run as analyze  # noqa: E402
from pipeline.analyze.demo import Shot, detectable_faces, read_fer_labelled, write_video  # noqa: E402

CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# (start, end, class or None for no face): the script of the demo recording
SCRIPT = ((0, 20, "neutral"), (20, 40, "happy"), (40, 44, None), (44, 55, "angry"), (55, 65, "sad"),
          (65, 90, "surprise"))
TASKS = "start,end,label\n0,20,baseline\n20,40,sign up\n40,65,checkout\n65,90,confirmation\n"
# The study: the same tasks, three participants, each with their own script (p01 is the demo recording's).
STUDY = {"p01": SCRIPT,
         "p02": ((0, 20, "neutral"), (20, 40, "neutral"), (40, 65, "sad"), (65, 90, "happy")),
         "p03": ((0, 20, "happy"), (20, 30, "happy"), (30, 33, None), (33, 40, "neutral"), (40, 50, "angry"),
                 (50, 65, "neutral"), (65, 90, "surprise"))}


def labelled_banks(csv_gz: Path) -> dict[str, np.ndarray]:
    """Up to eight detectable PrivateTest faces of each class."""
    faces, labels = read_fer_labelled(csv_gz, per_class=40)
    return {name: detectable_faces(faces[labels == k])[:8] for k, name in enumerate(CLASSES)}


def demo_recording(banks: dict[str, np.ndarray], script, path: Path, fourcc: str = "VP80") -> None:
    """Each scripted stretch shows one face of its class, changing every 2.5 s."""
    names = [n for n in CLASSES if len(banks[n])]
    bank = np.concatenate([banks[n] for n in names])
    offsets = dict(zip(names, np.cumsum([0] + [len(banks[n]) for n in names[:-1]])))
    shots = []
    for start, end, name in script:
        if name is None:
            shots.append(Shot(start, end))
            continue
        for k, t in enumerate(np.arange(start, end, 2.5)):
            shots.append(Shot(float(t), float(min(t + 2.5, end)), (int(offsets[name]) + k % len(banks[name]),), (104,)))
    write_video(path, shots, bank, fps=25, fourcc=fourcc)


def report_at_first_moment(chromium: str, report: Path, shot: Path) -> None:
    """The report with its video at the first moment worth re-watching (clicked, as a user would)."""
    with Chromium(chromium, width=1400, height=2000) as page:
        page.open(report.resolve().as_uri())
        page.wait_for("document.getElementById('video').readyState >= 1", what="the video")
        t = float(page.evaluate("document.querySelector('#moments-table a.seek').dataset.seek"))
        page.click("#moments-table a.seek")
        page.wait_for(f"(v => !v.seeking && v.readyState >= 2 && Math.abs(v.currentTime - {t}) < 0.1)"
                      "(document.getElementById('video'))", what="the video at the moment")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(shot, full_page=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "fer2013.csv.gz")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--chromium", default=find_chromium())
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"ERROR: {args.data} not found: the demo recording is drawn from FER2013 faces")
    if not args.chromium:
        sys.exit("ERROR: no chromium on PATH (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        banks = labelled_banks(args.data)
        demo_recording(banks, SCRIPT, tmp / "demo.webm")
        (tmp / "tasks.csv").write_text(TASKS)
        code = analyze([str(tmp / "demo.webm"), "--markers", str(tmp / "tasks.csv"), "--baseline", "0:00,0:20",
                        "--out", str(tmp / "out"), "--no-progress"])
        if code != 0:
            sys.exit(f"ERROR: analyze exited {code}")
        shutil.copy(tmp / "out" / "timeline.png", args.out / "analyze_timeline.png")
        shot = args.out / "analyze_report.png"
        report_at_first_moment(args.chromium, tmp / "out" / "report.html", shot)

        # MPEG-4 Part 2, as many recorders write it: browsers cannot play it, so each report gets a copy
        videos = [tmp / f"{name}.mp4" for name in STUDY]
        for video, script in zip(videos, STUDY.values()):
            demo_recording(banks, script, video, fourcc="mp4v")
        code = analyze([*map(str, videos), "--markers", str(tmp / "tasks.csv"), "--baseline", "baseline",
                        "--out", str(tmp / "study"), "--no-progress"])
        if code != 0:
            sys.exit(f"ERROR: analyze (study) exited {code}")
        study = args.out / "analyze_study.png"
        with Chromium(args.chromium, width=1400, height=1000) as page:
            page.open((tmp / "study" / "study.html").resolve().as_uri())
            page.screenshot(study, full_page=True)
    print(f"wrote {args.out / 'analyze_timeline.png'}, {shot} and {study}")


if __name__ == "__main__":
    main()
