"""A study: each task compared across participants, built from the recordings' own output folders.

``analyze`` writes one folder per recording (``<out>/<participant>/``: segments.csv, moments.csv,
summary.json, report.html); the study reads them back, so it holds exactly what each report shows,
and writes beside them ``study.csv`` (one row per task and participant), ``study_moments.csv`` (the
moments worth re-watching, each with a link into its recording's report), ``study.json`` (who was
analysed, who failed and why) and ``study.html``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.analyze import plots, study_page
from pipeline.analyze.segments import ALL, OUTSIDE
from pipeline.core.atomic import atomic_path, write_json, write_text

STUDY_FILES = ("study.csv", "study_moments.csv", "study.json", "study.html")


def participant_names(videos: list[Path]) -> list[str]:
    """One output folder name per recording: its file name without suffix, or ``<parent>-<stem>`` where
    two recordings share a name (p01/session.mp4, p02/session.mp4)."""
    stems = [v.stem for v in videos]
    names = [f"{v.parent.name}-{v.stem}" if stems.count(v.stem) > 1 else v.stem for v in videos]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise ValueError(f"recordings would share an output folder: {', '.join(clashes)}; rename them")
    return names


def report_link(participant: str, t_sec: float) -> str:
    """The participant's report, opened at ``t_sec`` (report.html seeks to ``#t=``)."""
    return f"{participant}/report.html#t={t_sec:.3f}"


def _csv(path: Path, df: pd.DataFrame) -> None:
    with atomic_path(path, suffix=".csv") as tmp:
        df.to_csv(tmp, index=False, float_format="%.5g")


def study_tables(root: Path, participants: list[str], class_names: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per task and participant, tasks in order of first appearance and the whole recording last;
    the moments, one row each, in task order then strongest first)."""
    rows, moments = [], []
    for name in participants:
        segs = pd.read_csv(root / name / "segments.csv", keep_default_na=False, na_values=[""])
        mom = pd.read_csv(root / name / "moments.csv", keep_default_na=False, dtype={"task": str, "label": str})
        for seg in segs[segs["task"] != OUTSIDE].to_dict("records"):
            in_task = mom if seg["task"] == ALL else mom[mom["task"] == seg["task"]]
            row = {"task": seg["task"], "participant": name}
            for col in ("start_sec", "end_sec", "instants", "face_seen_share", "mean_valence"):
                row[col] = seg[col]
            row["delta_valence"] = seg.get("delta_valence", np.nan)
            for c in class_names:
                row[f"dominant_{c}"] = seg[f"dominant_{c}"]
            row["episodes"] = seg["episodes"]
            row["moments"] = len(in_task)
            row["report"] = report_link(name, seg["start_sec"])
            rows.append(row)
        for m in mom.to_dict("records"):
            moments.append({"task": m["task"], "participant": name, "label": m["label"], "start_sec": m["start_sec"],
                            "end_sec": m["end_sec"], "duration_s": m["duration_s"], "peak_prob": m["peak_prob"],
                            "peak_sec": m["peak_sec"], "report": report_link(name, m["start_sec"]),
                            "thumbnail": f"{name}/{m['thumbnail']}"})
    table = pd.DataFrame(rows)
    order = list(dict.fromkeys(t for t in table["task"] if t != ALL)) + [ALL]
    table["_order"] = table["task"].map({t: i for i, t in enumerate(order)})
    table = table.sort_values(["_order"], kind="stable").drop(columns="_order").reset_index(drop=True)
    mom_cols = ["task", "participant", "label", "start_sec", "end_sec", "duration_s", "peak_prob", "peak_sec", "report",
                "thumbnail"]
    moments_df = pd.DataFrame(moments, columns=mom_cols)
    if len(moments_df):
        rank = {t: i for i, t in enumerate(order)}
        moments_df["_order"] = moments_df["task"].map(lambda t: rank.get(t, len(order)))
        moments_df = (moments_df.sort_values(["_order", "peak_prob"], ascending=[True, False], kind="stable")
                      .drop(columns="_order").reset_index(drop=True))
    return table, moments_df


def write_study(root: str | Path, participants: list[str], failures: list[dict]) -> dict:
    """study.csv, study_moments.csv, study.json and study.html in ``root``, from ``root/<participant>/``;
    ``failures`` ({"input", "error"}) are the recordings that could not be analysed. Returns study.json."""
    root = Path(root)
    if not participants:
        raise ValueError("no recording could be analysed: " + "; ".join(f"{f['input']}: {f['error']}" for f in failures))
    summaries = {n: json.loads((root / n / "summary.json").read_text()) for n in participants}
    first = summaries[participants[0]]
    class_names = tuple(first["model"]["class_names"])
    table, moments = study_tables(root, participants, class_names)
    _csv(root / "study.csv", table)
    _csv(root / "study_moments.csv", moments)
    info = {
        "participants": [{"name": n, "input": s["input"], "report": f"{n}/report.html", "duration_s": s["duration_s"],
                          "face_seen_share": s["face_seen_share"], "baseline": s["baseline"],
                          "markers": len(s["markers"]), "warnings": s["warnings"]} for n, s in summaries.items()],
        "failed": failures,
        "model": {k: first["model"].get(k) for k in ("name", "path", "sha256", "data_source", "trained_on_synthetic_data",
                                                     "test_acc")},
        "tasks": list(dict.fromkeys(table["task"])),
        "min_episode_s": first["settings"]["min_episode_s"],
        "files": list(STUDY_FILES),
    }
    write_json(root / "study.json", info)
    figure = plots.study_figure(table, class_names)
    write_text(root / "study.html", study_page.render(info, table, moments, figure, class_names))
    return info
