"""Everything one analysis writes into its output folder, each file atomically (temp, then rename)."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from pipeline.analyze import plots, report
from pipeline.analyze.playable import COPY_NAME, browser_playable, write_playable_copy
from pipeline.analyze.run import Analysis, prob_columns
from pipeline.analyze.segments import episodes, moments, segment_table
from pipeline.analyze.settings import Settings
from pipeline.analyze.smooth import VALENCE_WEIGHTS
from pipeline.analyze.tasks import Marker, assign_tasks, baseline_mask
from pipeline.core.atomic import atomic_path, write_json, write_text

SYNTHETIC_WARNING = ("model {name} was trained on GENERATED (synthetic) data: the output shows the mechanics of "
                     "the analysis, not real emotions. Train on FER2013 first (README, 'Real data').")


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _write_csv(path: Path, df: pd.DataFrame) -> None:
    with atomic_path(path, suffix=".csv") as tmp:
        df.to_csv(tmp, index=False, float_format="%.5g")


def versions() -> dict[str, str]:
    import onnxruntime

    from pipeline.core.gitinfo import git_commit

    return {"python": sys.version.split()[0], "platform": platform.platform(), "onnxruntime": onnxruntime.__version__,
            "opencv": cv2.__version__, "numpy": np.__version__, "pandas": pd.__version__,
            "code_commit": git_commit(Path(__file__).resolve().parents[2])}


def frame_columns(class_names) -> list[str]:
    return (["instant", "t_sec", "frame", "frame_t_sec", "source", "task", "face_id", "face_ok", "x", "y", "w", "h",
             "det_score"] + prob_columns(class_names) + prob_columns(class_names, "s_")
            + ["top_raw", "top_label", "top_prob", "valence"])


def thumbnail_png(face: np.ndarray, size: int = 96) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC))
    return buf.tobytes()


def write_outputs(a: Analysis, out_dir: str | os.PathLike, settings: Settings, model: dict[str, Any],
                  markers: list[Marker] | None = None, baseline: str | None = None,
                  extra_warnings: list[str] | None = None, video_copy: bool = True) -> dict[str, Any]:
    """frames.csv, segments.csv, moments.csv (+ thumbnails/), timeline.png, task_bars.png, summary.json,
    report.html, and recording.webm when browsers cannot play the video as it is (``video_copy``);
    returns the summary."""
    started = time.perf_counter()
    out = Path(out_dir)
    frames = a.frames
    frames.attrs["all_faces"] = settings.all_faces
    video = a.kind == "video"
    period = 1.0 / settings.rate_hz if video else 1.0
    t = frames["t_sec"].to_numpy(dtype=float)
    frames["task"] = assign_tasks(t, markers) if (markers and video) else ""
    base, base_desc = (None, None)
    if baseline and video:
        base, base_desc = baseline_mask(baseline, t, frames["task"].to_numpy())
    eps = episodes(frames, a.class_names, period, settings.min_episode_s)
    segs = segment_table(frames, a.class_names, eps, period, base)
    mom = moments(eps, settings.top_moments)
    moment_pngs = [thumbnail_png(a.thumbs[r]) for r in mom["_row"]]
    mom["thumbnail"] = [f"thumbnails/moment_{r:02d}.png" for r in mom["rank"]]
    for rel, png in zip(mom["thumbnail"], moment_pngs):
        _write_bytes(out / rel, png)

    _write_csv(out / "frames.csv", frames[frame_columns(a.class_names)])
    _write_csv(out / "segments.csv", segs)
    _write_csv(out / "moments.csv", mom.drop(columns="_row"))
    title = f"{a.source.name}: {model['name']}" + ("  [SYNTHETIC-DATA MODEL]" if model.get("trained_on_synthetic_data") else "")
    tl = plots.timeline(frames, a.class_names, period, title, unit="time (s)" if video else "image")
    bars = plots.task_bars(segs, a.class_names)
    _write_bytes(out / "timeline.png", tl.png)
    _write_bytes(out / "task_bars.png", bars)

    original_href = report_href = copy = None
    if video:
        original_href = Path(os.path.relpath(a.source.resolve(), out.resolve())).as_posix()
        if browser_playable(a.source):
            report_href = original_href
        elif video_copy:
            copy = write_playable_copy(a.source, out / COPY_NAME)
            report_href = COPY_NAME

    warnings = list(extra_warnings or [])
    if model.get("trained_on_synthetic_data"):
        warnings.insert(0, SYNTHETIC_WARNING.format(name=model["name"]))
    warnings += [f"skipped {s['file']}: {s['reason']}" for s in a.skipped]
    face_seen = float(frames.groupby("instant")["face_ok"].any().mean())
    if face_seen < 0.5:
        warnings.append(f"{a.source.name}: a face was found at only {face_seen:.0%} of the instants "
                        "(turned away, too small, backlit?); check --roi and the camera framing")
    copy_s = copy["seconds"] if copy else 0.0
    outputs_s = time.perf_counter() - started - copy_s  # the copy is timed on its own (video_copy_s)
    wall = a.timings["analysis_s"] + outputs_s
    instants = a.n_instants
    summary = {
        "input": str(a.source), "kind": a.kind, "instants": instants, "rows": len(frames),
        "duration_s": a.duration_s, "face_seen_share": face_seen, "video": a.video,
        "model": model, "settings": settings.to_dict(),
        "markers": [m.__dict__ for m in markers] if markers else [], "baseline": base_desc,
        "report_video": report_href, "video_copy": copy,
        "valence_weights": VALENCE_WEIGHTS,
        "speed": {"wall_s": wall, **{k: round(v, 4) for k, v in a.timings.items()}, "outputs_s": outputs_s,
                  "video_copy_s": copy_s,
                  "instants_per_s": instants / wall if wall > 0 else None,
                  "realtime_factor": (a.duration_s / wall) if (a.duration_s and wall > 0) else None,
                  "cpu_count": os.cpu_count(), "load_average_1min": os.getloadavg()[0]},
        "versions": versions(), "skipped": a.skipped, "warnings": warnings,
        "files": ["frames.csv", "segments.csv", "moments.csv", "timeline.png", "task_bars.png", "summary.json",
                  "report.html"] + ([COPY_NAME] if copy else []) + list(mom["thumbnail"]),
    }
    write_json(out / "summary.json", json.loads(json.dumps(summary, default=_jsonable)))
    write_text(out / "report.html", report.render(summary, tl, bars, segs, mom, moment_pngs, report_href, a.class_names,
                                                  original_href))
    return summary


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)
