"""Per-task summaries, episodes of one held expression, and the strongest moments worth re-watching."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.analyze.run import prob_columns
from pipeline.analyze.smooth import runs
from pipeline.analyze.tasks import NO_TASK

# Moments: the expressions a UX researcher looks for (frustration, confusion, alarm, surprise).
MOMENT_CLASSES = ("angry", "disgust", "fear", "sad", "surprise")
ALL = "(whole recording)"
OUTSIDE = "(no task)"


def time_axis(frames: pd.DataFrame) -> np.ndarray:
    """Seconds for videos; the image number for still images."""
    t = frames["t_sec"].to_numpy(dtype=float)
    return np.where(np.isnan(t), frames["frame"].to_numpy(dtype=float), t)


def episodes(frames: pd.DataFrame, class_names: tuple[str, ...], period_s: float, min_episode_s: float) -> pd.DataFrame:
    """Maximal runs of one (hysteresis) top label other than neutral, per face, at least ``min_episode_s`` long."""
    rows = []
    t = time_axis(frames)
    s_cols = prob_columns(class_names, "s_")
    faces = frames["face_id"].fillna(-1).to_numpy() if "face_id" in frames else np.zeros(len(frames))
    for fid in np.unique(faces[frames["face_ok"].to_numpy()]) if frames["face_ok"].any() else []:
        idx = np.flatnonzero(faces == fid) if frames.attrs.get("all_faces") else np.arange(len(frames))
        labels = frames["_label"].to_numpy()[idx]
        for label, first, last in runs(labels):
            name = class_names[label] if label >= 0 else ""
            if label < 0 or name == "neutral":
                continue
            duration = (last - first + 1) * period_s
            if duration < min_episode_s:
                continue
            rows_idx = idx[first:last + 1]
            probs = frames[s_cols[label]].to_numpy()[rows_idx]
            peak = rows_idx[int(np.nanargmax(probs))]
            rows.append({"face_id": int(frames["face_id"].iat[peak]), "label": name, "start_sec": float(t[rows_idx[0]]),
                         "end_sec": float(t[rows_idx[-1]] + period_s), "duration_s": duration,
                         "peak_prob": float(np.nanmax(probs)), "peak_sec": float(t[peak]),
                         "task": frames["task"].iat[peak] if "task" in frames else "", "_row": int(peak)})
        if not frames.attrs.get("all_faces"):
            break  # the participant is one series
    cols = ["face_id", "label", "start_sec", "end_sec", "duration_s", "peak_prob", "peak_sec", "task", "_row"]
    return pd.DataFrame(rows, columns=cols)


def moments(eps: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` strongest negative or surprise episodes, by peak smoothed probability, then duration."""
    m = eps[eps["label"].isin(MOMENT_CLASSES)]
    m = m.sort_values(["peak_prob", "duration_s"], ascending=False).head(top).reset_index(drop=True)
    m.insert(0, "rank", np.arange(1, len(m) + 1))
    return m


def segment_table(frames: pd.DataFrame, class_names: tuple[str, ...], eps: pd.DataFrame, period_s: float,
                  baseline: np.ndarray | None = None) -> pd.DataFrame:
    """One row per task (marker order), then outside any task, then the whole recording."""
    p_cols, s_cols = prob_columns(class_names), prob_columns(class_names, "s_")
    t = time_axis(frames)
    tasks = frames["task"].to_numpy() if "task" in frames else np.full(len(frames), NO_TASK, object)
    order = list(dict.fromkeys(x for x in tasks if x != NO_TASK))
    groups = [(name, tasks == name) for name in order]
    if order and (tasks == NO_TASK).any():
        groups.append((OUTSIDE, tasks == NO_TASK))
    groups.append((ALL, np.ones(len(frames), bool)))
    base_mean = base_valence = None
    if baseline is not None:
        ok = baseline & frames["face_ok"].to_numpy()
        base_mean = frames.loc[ok, p_cols].mean().to_numpy() if ok.any() else None
        base_valence = float(frames.loc[ok, "valence"].mean()) if ok.any() else None
    out = []
    for name, mask in groups:
        sel = frames[mask]
        instants = sel["instant"].nunique()
        face = sel[sel["face_ok"]]
        row = {"task": name, "start_sec": float(t[mask].min()), "end_sec": float(t[mask].max() + period_s),
               "instants": instants, "face_seen_share": face["instant"].nunique() / instants if instants else 0.0,
               "mean_valence": float(face["valence"].mean()) if len(face) else np.nan}
        means = face[p_cols].mean()
        for c, col in zip(class_names, p_cols):
            row[f"mean_{c}"] = float(means[col]) if len(face) else np.nan
        for c in class_names:
            row[f"dominant_{c}"] = float((face["top_label"] == c).mean()) if len(face) else np.nan
        for c, col in zip(class_names, s_cols):
            if len(face) and face[col].notna().any():
                i = int(np.nanargmax(face[col].to_numpy()))
                row[f"peak_{c}"], row[f"peak_{c}_sec"] = float(face[col].iat[i]), float(time_axis(face)[i])
            else:
                row[f"peak_{c}"], row[f"peak_{c}_sec"] = np.nan, np.nan
        if base_mean is not None:
            for c, b in zip(class_names, base_mean):
                row[f"delta_{c}"] = row[f"mean_{c}"] - float(b)
            row["delta_valence"] = row["mean_valence"] - base_valence  # against the participant's own baseline
        if name == ALL:
            e = eps
        elif name == OUTSIDE:
            e = eps[eps["task"] == NO_TASK]
        else:  # every episode overlapping the task, even one that began before it
            e = eps[(eps["start_sec"] < row["end_sec"]) & (eps["end_sec"] > row["start_sec"])]
        row["episodes"] = len(e)
        row["episode_list"] = "; ".join(f"{r.label} {r.start_sec:.1f}-{r.end_sec:.1f}s" for r in e.itertuples())
        out.append(row)
    return pd.DataFrame(out)
