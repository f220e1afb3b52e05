"""analyze speed: a long generated webcam recording analysed end to end, as a user runs it.

    uv run python benchmarks/analyze_speed.py                      # 10 min, 640x480 @ 30 fps, E4 if exported
    uv run python benchmarks/analyze_speed.py --minutes 60 --model E6
    uv run python benchmarks/analyze_speed.py --minutes 1 --fps 25 --model release --compare 3   # issue 31

The recording is drawn from real FER2013 faces (../shared/data) with OpenCV's VideoWriter: a
participant whose face drifts and changes every few seconds, and leaves the frame for 3 s in every
30 s. Without an exported model a seeded, untrained student B is exported (speed does not depend
on the weights). Reported: instants/s and the real-time factor (recording seconds per wall second)
at 10 Hz, with the time split into decoding, detection+tracking, cropping, the model, the rest
and writing outputs, and the machine's load average, since on a shared machine the figure is a
lower bound. Decoding and the model run in their own threads, overlapping detection: their own
times are shown, and what the analysis waited for them.

``--compare N`` then times the analysis alone (no outputs) N times each, alternating, with the
cascade at every instant (``cascade_every_s=0``, ONNX Runtime on all cores: the behaviour before issue
31) and with the defaults, in this process on this recording: a speed-up measured under the same load,
as wall time and as CPU time (which a loaded machine distorts least), and how many instants' face-seen
flags and labels differ between the two.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch

import pipeline  # noqa: F401  (telemetry off before any import)
from pipeline.analyze.cli import run as analyze_cli
from pipeline.analyze.demo import Shot, detectable_faces, read_fer_faces, write_video
from pipeline.core.devices import cpu_model
from pipeline.export.resolve import resolve_model

REPO_ROOT = Path(__file__).resolve().parents[1]


def script(minutes: float, n_faces: int, width: int, size: int) -> list[Shot]:
    shots, t, k = [], 0.0, 0
    while t < minutes * 60:
        for _ in range(9):  # 27 s of face, a new face every 3 s
            shots.append(Shot(t, t + 3, (k % n_faces,), ((width - size) // 2,)))
            t, k = t + 3, k + 1
        shots.append(Shot(t, t + 3))  # 3 s away from the camera
        t += 3
    return shots


def fallback_model(folder: Path) -> Path:
    from pipeline.core.constants import IMAGENET_MEAN, IMAGENET_STD
    from pipeline.export import ExportMeta, export_bundle
    from pipeline.models import build_model
    from pipeline.sources.fer2013 import CLASS_NAMES

    torch.manual_seed(0)
    model = build_model({"width": 0.25, "se_reduction": 16}, len(CLASS_NAMES))
    meta = ExportMeta(CLASS_NAMES, 32, IMAGENET_MEAN, IMAGENET_STD,
                      extra={"name": "student_b (untrained, benchmark)", "model": "student_b", "data_source": "synthetic"})
    export_bundle(model, "student_b_untrained", folder, meta)
    return folder / "student_b_untrained.onnx"


def breakdown(speed: dict) -> str:
    """The analysis' wall time split by where the main thread spent it, then the threads' own times."""
    waited = {"decode (waiting for frames)": speed.get("decode_wait_s", 0.0), "detect + track": speed["detect_track_s"],
              "crops, grey": speed.get("crop_s", 0.0), "model (waiting for it)": speed.get("inference_wait_s", 0.0)}
    rest = speed["analysis_s"] - sum(waited.values())
    lines = [f"{k:32s}{v:7.3f} s" for k, v in waited.items()]
    lines += [f"{'rest (table, smoothing)':32s}{rest:7.3f} s", f"{'outputs':32s}{speed['outputs_s']:7.3f} s",
              f"{'= wall':32s}{speed['wall_s']:7.3f} s  -> {speed['realtime_factor']:.1f}x real time",
              f"{'decoding thread (overlapped)':32s}{speed.get('decode_s', 0.0):7.3f} s",
              f"{'model thread (overlapped)':32s}{speed['inference_s']:7.3f} s"]
    if "cascade_runs" in speed:
        lines.append(f"cascade runs {speed['cascade_runs']}, repeated on identical frames (remembered) "
                     f"{speed.get('cascade_memo_hits', 0)}, instants confirmed by template {speed['template_matched']}, "
                     f"empty-scene scans skipped {speed['empty_scans_skipped']}")
    return "\n".join(lines)


def compare(video: Path, model: Path, repeats: int) -> None:
    """Analysis time (no outputs) with the cascade at every instant vs with anchors, alternating runs."""
    from pipeline.analyze.run import analyze
    from pipeline.analyze.settings import Settings
    from pipeline.export.classifier import OnnxClassifier

    names = ("every instant", "anchors")
    before, now = Settings(cascade_every_s=0, threads=0), Settings()  # threads: 0 was the default before
    classifiers = {n: OnnxClassifier(model, threads=s.threads) for n, s in zip(names, (before, now))}
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}  # all threads: what a loaded machine distorts least
    main_cpu: dict[str, list[float]] = {n: [] for n in names}
    frames = {}
    load = os.getloadavg()[0]
    for _ in range(repeats):
        for name, settings in zip(names, (before, now)):
            cpu0, main0 = time.process_time(), time.thread_time()
            a = analyze(video, "video", [video], classifiers[name], settings, progress=False)
            cpu[name].append(time.process_time() - cpu0)
            main_cpu[name].append(time.thread_time() - main0)
            wall[name].append(a.timings["analysis_s"])
            frames[name] = a.frames
    print(f"\nanalysis alone, median of {repeats} runs each, alternating (load average {load:.1f} -> "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    for label, table in (("wall", wall), ("CPU, all threads", cpu), ("CPU, main thread", main_cpu)):
        old, new = statistics.median(table[names[0]]), statistics.median(table[names[1]])
        print(f"  {label:18s} cascade at every instant {old:6.3f} s, anchors {new:6.3f} s: {old / new:.2f}x "
              f"(runs: {', '.join(f'{v:.2f}' for v in table[names[0]])} | {', '.join(f'{v:.2f}' for v in table[names[1]])})")
    old_f, new_f = frames[names[0]], frames[names[1]]
    differ = {col: int((old_f[col].astype(object).fillna("").to_numpy() != new_f[col].astype(object).fillna("").to_numpy()).sum())
              for col in ("face_ok", "top_label")}
    print(f"  of {len(old_f)} instants, anchors differ from the cascade at every instant in {differ['face_ok']} "
          f"face-seen flags and {differ['top_label']} labels")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--codec", default="mp4v", help="VideoWriter fourcc (mp4v .mp4, MJPG .avi)")
    parser.add_argument("--model", default="E4", help="run name or .onnx; falls back to an untrained student B")
    parser.add_argument("--faces", type=Path, default=REPO_ROOT.parent / "shared/data/fer2013.csv.gz")
    parser.add_argument("--work", type=Path, default=Path(".cache/bench_analyze"))
    parser.add_argument("--compare", type=int, default=0, metavar="N",
                        help="also time the analysis N times each with the cascade at every instant and with anchors")
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    size = int(args.height * 0.42)
    ext = ".avi" if args.codec.upper() == "MJPG" else ".mp4"
    video = args.work / f"session_{args.minutes:g}min_{args.width}x{args.height}_{args.fps:g}fps{ext}"
    if not video.exists():
        bank = detectable_faces(read_fer_faces(args.faces, 40), size=size, width=args.width, height=args.height)
        started = time.perf_counter()
        n = write_video(video, script(args.minutes, len(bank), args.width, size), bank, args.fps, size=size,
                        width=args.width, height=args.height, fourcc=args.codec, drift_px=1.0)
        print(f"wrote {video} ({n} frames) in {time.perf_counter() - started:.0f} s")
    try:
        model = resolve_model(args.model)
    except FileNotFoundError as exc:
        print(f"{exc}\n-> using an untrained student B (speed does not depend on the weights)")
        model = fallback_model(args.work)

    load_before = os.getloadavg()
    out = args.work / "out"
    started = time.perf_counter()
    # no browser-playable copy: summary.json times it apart (video_copy_s), and its VP8 encode would load the machine
    code = analyze_cli([str(video), "--model", str(model), "--out", str(out), "--no-video-copy"])
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(code)
    summary = json.loads((out / "summary.json").read_text())
    speed = summary["speed"]
    result = {
        "video": {"minutes": args.minutes, "fps": args.fps, "size": f"{args.width}x{args.height}", "codec": args.codec},
        "model": summary["model"]["name"], "instants": summary["instants"], "face_seen_share": summary["face_seen_share"],
        "wall_s_including_startup": wall, **speed, "load_average_before": load_before,
        "load_average_after": os.getloadavg(), "cpu": cpu_model(), "cpu_count": os.cpu_count(),
        "providers": summary["model"]["providers"],
    }
    (args.work / "analyze_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print("\n" + breakdown(speed))
    if args.compare:
        compare(video, model, args.compare)
    print(f"\n{summary['instants']} instants of a {args.minutes:g}-min {args.width}x{args.height} {args.fps:g}-fps "
          f"recording in {speed['wall_s']:.1f} s: {speed['instants_per_s']:.0f} instants/s, "
          f"{speed['realtime_factor']:.1f}x real time (load average {load_before[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
