"""``analyze``: emotion timelines from usability-test recordings with an exported student model.

    uv run analyze session.mp4 --markers tasks.csv --out out/
    uv run analyze recordings/ --out out/          # every video, one sub-folder each, and a study page
    uv run analyze p01.mp4 p02.mp4 --markers tasks.csv --baseline baseline --out study/   # the same
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
    p.add_argument("input", nargs="+", help="a video, a folder of videos, an image or a folder of images; several "
                                            "videos or a folder of them also make a study (study.html, study.csv)")
    p.add_argument("--out", help="output folder (default: analysis/<input name>)")
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"exported .onnx file, 'release' / 'release-int8' (the committed FER2013 model), "
                        f"'release-ferplus' / 'release-ferplus-int8' (8 classes with contempt, FER+) or a run "
                        f"name (E1..E6, teacher, baseline_student_a...); default {DEFAULT_MODEL}")
    p.add_argument("--models-dir", help="where run names are looked up (default models/export)")
    p.add_argument("--markers", help="CSV with start,end,label (seconds or mm:ss), for every video; or a folder "
                                     "holding <video name>.csv per video")
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
    p.add_argument("--no-video-copy", action="store_true",
                   help="no browser-playable copy (recording.webm) of a video browsers cannot play as it is")
    return p


def parse_roi(text: str | None) -> tuple[int, int, int, int] | None:
    if not text:
        return None
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--roi {text!r}: expected four integers x,y,w,h") from None
    return x, y, w, h


def markers_for(spec: str | None, video: Path, name: str | None = None):
    """The markers of one video: the file given, or in a folder ``<name>.csv`` (the participant's output
    folder name) or ``<video stem>.csv``; None (one segment) where the folder has neither."""
    from pipeline.analyze.tasks import read_markers

    if not spec:
        return None
    path = Path(spec)
    if path.is_dir():
        for own in dict.fromkeys((path / f"{name or video.stem}.csv", path / f"{video.stem}.csv")):
            if own.is_file():
                return read_markers(own)
        log.warning("%s: no %s.csv in %s: the recording is one segment", video, video.stem, path)
        return None
    return read_markers(path)


def inputs_of(paths: list[str]) -> tuple[str, list[Path]]:
    """('video' | 'images' | 'videos', files): one input as :func:`classify_input` reads it; several must
    be video files (a missing or unreadable one is reported when its turn comes, the rest still run)."""
    from pipeline.analyze.sources import IMAGE_EXTS, classify_input

    if len(paths) == 1:
        return classify_input(paths[0])
    files = [Path(p) for p in paths]
    odd = [str(f) for f in files if f.is_dir() or f.suffix.lower() in IMAGE_EXTS]
    if odd:
        raise ValueError(f"several inputs must all be video files (a study); not: {', '.join(odd)}")
    return "videos", files


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings(rate_hz=args.rate, smooth_s=args.smooth, hysteresis=args.hysteresis,
                        min_episode_s=args.min_episode, detect_width=args.detect_width, full_scan_s=args.full_scan, all_faces=args.all_faces,
                        roi=parse_roi(args.roi), batch_size=args.batch_size, top_moments=args.top_moments,
                        threads=args.threads)
    from pipeline.analyze.outputs import SYNTHETIC_WARNING, write_outputs
    from pipeline.analyze.run import analyze
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

    from pipeline.analyze.study import participant_names, write_study

    kind, files = inputs_of(args.input)
    study = kind == "videos"
    source = Path(args.input[0])
    out_root = Path(args.out) if args.out else Path("analysis") / (source.stem if len(args.input) == 1 else "study")
    if study:
        jobs = [(f, out_root / name, "video", name) for f, name in zip(files, participant_names(files))]
    else:
        jobs = [(files[0] if kind == "video" else source, out_root, kind, None)]
    done, failed = [], []
    for path, out_dir, job_kind, name in jobs:
        try:
            if study and not path.is_file():
                raise FileNotFoundError(f"{path}: no such file")
            analysis = analyze(path, job_kind, files if job_kind == "images" else [path], classifier, settings,
                               progress=not args.no_progress)
            summary = write_outputs(analysis, out_dir, settings, model, markers_for(args.markers, path, name),
                                    args.baseline, video_copy=not args.no_video_copy)
        except (ValueError, FileNotFoundError, RuntimeError) as exc:
            if not study:
                raise
            message = str(exc) if str(path) in str(exc) else f"{path}: {exc}"
            log.error("%s", message)
            failed.append({"input": str(path), "error": message})
            continue
        done.append(name)
        speed = summary["speed"]
        rt = f", {speed['realtime_factor']:.1f}x real time" if speed.get("realtime_factor") else ""
        log.info("%s -> %s: %d instants, face seen %.0f%%, %.0f instants/s%s", path, out_dir, summary["instants"],
                 100 * summary["face_seen_share"], speed["instants_per_s"], rt)
        if summary.get("video_copy"):
            log.info("%s: browsers cannot play it; %s/%s is a copy they play (%.1f s to write)", path, out_dir,
                     summary["video_copy"]["file"], speed["video_copy_s"])
        for w in summary["warnings"]:
            if not w.startswith("model "):
                log.warning("%s", w)
    if study:
        write_study(out_root, done, failed)
        log.info("study of %d recordings: %s", len(done), out_root / "study.html")
    if failed:
        log.error("%d of %d videos failed:\n  %s", len(failed), len(jobs), "\n  ".join(f["error"] for f in failed))
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
