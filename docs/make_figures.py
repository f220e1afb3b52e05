"""Rebuild docs/analyze_timeline.png and docs/analyze_report.png from the current release model.

    uv run python docs/make_figures.py                  # needs ../shared/data/fer2013.csv.gz and chromium

A 90-s demo recording is drawn from FER2013 PrivateTest faces with a known script (neutral during
"baseline", happy during "sign up", angry and sad during "checkout", surprised during "confirmation";
the participant looks away at 40-44 s), analysed by `analyze` with its default model (the release
model), and the report is rendered by headless Chromium. PrivateTest is the release model's test
split: it never trained on these faces.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.analyze.cli import run as analyze  # noqa: E402
from pipeline.analyze.demo import Shot, detectable_faces, read_fer_labelled, write_video  # noqa: E402

CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# (start, end, class or None for no face): the script of the demo recording
SCRIPT = ((0, 20, "neutral"), (20, 40, "happy"), (40, 44, None), (44, 55, "angry"), (55, 65, "sad"),
          (65, 90, "surprise"))
TASKS = "start,end,label\n0,20,baseline\n20,40,sign up\n40,65,checkout\n65,90,confirmation\n"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def demo_recording(csv_gz: Path, path: Path) -> None:
    """Each scripted stretch shows one detectable PrivateTest face of its class, changing every 2.5 s."""
    faces, labels = read_fer_labelled(csv_gz, per_class=40)
    banks, shots = [], []
    for start, end, name in SCRIPT:
        if name is None:
            shots.append(Shot(start, end))
            continue
        bank = detectable_faces(faces[labels == CLASSES.index(name)])[:8]
        offset = sum(len(b) for b in banks)
        banks.append(bank)
        for k, t in enumerate(np.arange(start, end, 2.5)):
            shots.append(Shot(float(t), float(min(t + 2.5, end)), (offset + k % len(bank),), (104,)))
    write_video(path, shots, np.concatenate(banks), fps=25, fourcc="VP80")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "fer2013.csv.gz")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"ERROR: {args.data} not found: the demo recording is drawn from FER2013 faces")
    if not args.chromium:
        sys.exit("ERROR: no chromium on PATH (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo_recording(args.data, tmp / "demo.webm")
        (tmp / "tasks.csv").write_text(TASKS)
        code = analyze([str(tmp / "demo.webm"), "--markers", str(tmp / "tasks.csv"), "--baseline", "0:00,0:20",
                        "--out", str(tmp / "out"), "--no-progress"])
        if code != 0:
            sys.exit(f"ERROR: analyze exited {code}")
        shutil.copy(tmp / "out" / "timeline.png", args.out / "analyze_timeline.png")
        shot = args.out / "analyze_report.png"
        subprocess.run([args.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}", f"--screenshot={shot}",
                        "--window-size=1400,2000", (tmp / "out" / "report.html").resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(f"wrote {args.out / 'analyze_timeline.png'} and {shot}")


if __name__ == "__main__":
    main()
