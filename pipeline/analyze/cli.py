"""``analyze``: emotion timelines from usability-test recordings with an exported student model.

    uv run analyze session.mp4 --markers tasks.csv --out out/
    uv run analyze recordings/ --out out/          # every video, one sub-folder each
    uv run analyze photos/ --model E6 --out out/   # still images: one row per image
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pipeline  # noqa: F401  (telemetry off before any import)
from pipeline.analyze.settings import Settings
from pipeline.export.resolve import DEFAULT_MODEL, resolve_model

log = logging.getLogger("analyze")


def build_parser() -> argparse.ArgumentParser:
    d = Settings()
    p = argparse.ArgumentParser(prog="analyze", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="a video, a folder of videos, an image or a folder of images")
    p.add_argument("--out", help="output folder (default: analysis/<input name>)")
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"exported .onnx file, 'release' / 'release-int8' (the committed real-data model) or a run "
                        f"name (E1..E6, teacher, baseline_student_a...); default {DEFAULT_MODEL}")
    p.add_argument("--models-dir", help="where run names are looked up (default models/export)")
    p.add_argument("--markers", help="CSV with start,end,label (seconds or mm:ss); for a folder of videos, "
                                     "a folder holding <video name>.csv per video")
    p.add_argument("--baseline", help="baseline segment: START,END (seconds or mm:ss) or a marker label")
    p.add_argument("--rate", type=float, default=d.rate_hz, help=f"sampled instants per second (default {d.rate_hz:g})")
    p.add_argument("--smooth", type=float, default=d.smooth_s, help=f"smoothing window in seconds (default {d.smooth_s:g})")
    p.add_argument("--hysteresis", type=float, default=d.hysteresis,
                   help=f"lead a new top label needs over the current one (default {d.hysteresis:g})")
    p.add_argument("--min-episode", type=float, default=d.min_episode_s, help="shortest episode in seconds")
    p.add_argument("--roi", help="x,y,w,h: analyse only this rectangle (a webcam inset in a screen recording)")
    p.add_argument("--all-faces", action="store_true", help="keep every face track (face_id) instead of the participant")
    p.add_argument("--detect-width", type=int, default=d.detect_width, help="width frames are scaled to for detection")
    p.add_argument("--full-scan", type=float, default=d.full_scan_s,
                   help=f"seconds between whole-frame face searches (default {d.full_scan_s:g}; between them only "
                        "around tracked faces; always when none is tracked)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="faces per ONNX Runtime call")
    p.add_argument("--top-moments", type=int, default=d.top_moments, help="rows of moments.csv")
    p.add_argument("--threads", type=int, default=d.threads, help=f"ONNX Runtime threads (0: all cores; default {d.threads})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def parse_roi(text: str | None) -> tuple[int, int, int, int] | None:
    if not text:
        return None
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--roi {text!r}: expected four integers x,y,w,h") from None
    return x, y, w, h


def markers_for(spec: str | None, video: Path):
    from pipeline.analyze.tasks import read_markers

    if not spec:
        return None
    path = Path(spec)
    if path.is_dir():
        own = path / f"{video.stem}.csv"
        return read_markers(own) if own.is_file() else None
    return read_markers(path)


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings(rate_hz=args.rate, smooth_s=args.smooth, hysteresis=args.hysteresis,
                        min_episode_s=args.min_episode, detect_width=args.detect_width, full_scan_s=args.full_scan, all_faces=args.all_faces,
                        roi=parse_roi(args.roi), batch_size=args.batch_size, top_moments=args.top_moments,
                        threads=args.threads)
    from pipeline.analyze.outputs import SYNTHETIC_WARNING, write_outputs
    from pipeline.analyze.run import analyze
    from pipeline.analyze.sources import classify_input
    from pipeline.export.classifier import OnnxClassifier
    from pipeline.export.onnx_export import file_sha256

    model_path = resolve_model(args.model, args.models_dir)
    classifier = OnnxClassifier(model_path, threads=settings.threads)
    meta = classifier.meta
    model = {"name": meta.extra.get("name", model_path.stem), "path": str(model_path), "sha256": file_sha256(model_path),
             "architecture": meta.extra.get("model"), "data_source": meta.data_source,
             "trained_on_synthetic_data": meta.synthetic, "test_acc": meta.extra.get("test_acc"),
             "checkpoint_md5": meta.extra.get("checkpoint_md5"), "git_commit": meta.extra.get("git_commit"),
             "input_size": meta.input_size, "flip_average": classifier.flip_average,
             "class_names": list(meta.class_names), "providers": classifier.providers}
    if meta.synthetic:
        log.warning("!" * 100)
        log.warning("!! " + SYNTHETIC_WARNING.format(name=model["name"]))
        log.warning("!" * 100)

    source = Path(args.input)
    kind, files = classify_input(source)
    out_root = Path(args.out) if args.out else Path("analysis") / source.stem
    jobs = [(f, out_root / f.stem, "video") for f in files] if kind == "videos" else [
        (files[0] if kind == "video" else source, out_root, kind)]
    failed = []
    for path, out_dir, job_kind in jobs:
        try:
            analysis = analyze(path, job_kind, files if job_kind == "images" else [path], classifier, settings,
                               progress=not args.no_progress)
            summary = write_outputs(analysis, out_dir, settings, model, markers_for(args.markers, path),
                                    args.baseline)
        except (ValueError, FileNotFoundError) as exc:
            if kind != "videos":
                raise
            log.error("%s", exc)
            failed.append(f"{path}: {exc}")
            continue
        speed = summary["speed"]
        rt = f", {speed['realtime_factor']:.1f}x real time" if speed.get("realtime_factor") else ""
        log.info("%s -> %s: %d instants, face seen %.0f%%, %.0f instants/s%s", path, out_dir, summary["instants"],
                 100 * summary["face_seen_share"], speed["instants_per_s"], rt)
        for w in summary["warnings"]:
            if not w.startswith("model "):
                log.warning("%s", w)
    if failed:
        log.error("%d of %d videos failed:\n  %s", len(failed), len(jobs), "\n  ".join(failed))
        return 1
    return 0


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = run(argv)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"analyze: error: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code)
