"""Figures: the probability timeline (task bands, face-lost gaps, valence) and per-task bars.

The timeline uses fixed margins (no tight bbox) so the report can map a click's x position to a
time: ``TimelineFigure.x0/x1`` are the axes' left/right edges as fractions of the image width.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from pipeline.analyze.run import prob_columns  # noqa: E402
from pipeline.analyze.segments import ALL, OUTSIDE, time_axis  # noqa: E402
from pipeline.analyze.smooth import runs  # noqa: E402
from pipeline.analyze.tasks import NO_TASK  # noqa: E402

LEFT, RIGHT = 0.06, 0.86


@dataclass
class TimelineFigure:
    png: bytes
    x0: float  # axes left edge, fraction of image width
    x1: float
    t0: float  # time at x0 / x1
    t1: float


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # zlib level 1: the same pixels as the default level 6, ~0.03 s less per figure, files ~20 % larger
    fig.savefig(buf, format="png", dpi=100, pil_kwargs={"compress_level": 1})
    plt.close(fig)
    return buf.getvalue()


def palette(class_names) -> dict[str, tuple]:
    colors = sns.color_palette("tab10", len(class_names))
    return dict(zip(class_names, colors))


def timeline(frames: pd.DataFrame, class_names: tuple[str, ...], period_s: float, title: str,
             unit: str = "time (s)") -> TimelineFigure:
    """Smoothed probabilities of the participant over time; grey hatching where no face was seen."""
    t = time_axis(frames)
    series = frames if not frames.attrs.get("all_faces") else frames[frames["face_id"] == frames["face_id"].mode().iat[0]]
    ts = time_axis(series)
    t0, t1 = float(np.nanmin(t)), float(np.nanmax(t) + period_s)
    fig, (ax, axv) = plt.subplots(2, 1, figsize=(13, 4.8), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    fig.subplots_adjust(left=LEFT, right=RIGHT, top=0.86, bottom=0.12, hspace=0.08)
    colors = palette(class_names)
    tasks = frames["task"].to_numpy() if "task" in frames else np.full(len(frames), NO_TASK, object)
    band = sns.color_palette("pastel", 8)
    codes = pd.factorize(tasks)[0]
    for i, (code, first, last) in enumerate(runs(codes)):
        name = tasks[first]
        if name == NO_TASK:
            continue
        for a in (ax, axv):
            a.axvspan(t[first], t[last] + period_s, color=band[code % len(band)], alpha=0.35, lw=0)
        ax.text((t[first] + t[last] + period_s) / 2, 1.02, name, ha="center", va="bottom", fontsize=8,
                transform=ax.get_xaxis_transform(), clip_on=False)
    lost = (~series["face_ok"].to_numpy()).astype(int)
    for flag, first, last in runs(lost):
        if flag:
            for a in (ax, axv):
                a.axvspan(ts[first], ts[last] + period_s, facecolor="0.85", hatch="///", edgecolor="0.6", lw=0, zorder=0)
    for c, col in zip(class_names, prob_columns(class_names, "s_")):
        ax.plot(ts, series[col].to_numpy(), color=colors[c], lw=1.2, label=c)
    axv.plot(ts, series["valence"].to_numpy(), color="0.2", lw=1)
    axv.axhline(0, color="0.5", lw=0.6)
    ax.set_ylim(0, 1)
    axv.set_ylim(-1.05, 1.05)
    ax.set_xlim(t0, t1)
    ax.set_ylabel("probability (smoothed)")
    axv.set_ylabel("valence")
    axv.set_xlabel(unit)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="0.85", hatch="///", edgecolor="0.6"))
    labels.append("no face")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10, y=0.985)
    return TimelineFigure(_png(fig), LEFT, RIGHT, t0, t1)


def task_bars(segments: pd.DataFrame, class_names: tuple[str, ...]) -> bytes:
    """Mean probability of each class per task (the whole recording last)."""
    rows = segments[segments["task"] != OUTSIDE]
    fig_w, fig_h = max(7.0, 1.4 * len(rows) + 4), 3.2 + 0.1 * len(rows)  # inches
    fig, ax = plt.subplots(figsize=(fig_w, fig_h))
    # margins in inches (y label, legend of class names, title, task names): tight_layout's extra draw of
    # the figure cost ~0.04 s, a few per cent of a one-minute analysis
    fig.subplots_adjust(left=0.75 / fig_w, right=1 - 1.35 / fig_w, bottom=0.45 / fig_h, top=1 - 0.4 / fig_h)
    # seaborn's barplot (one row per task, hue = class) drawn with matplotlib directly: the same pixels,
    # ~0.05 s less (a twentieth of a one-minute analysis)
    colors, width, x = palette(class_names), 0.8 / len(class_names), np.arange(len(rows))
    for i, c in enumerate(class_names):
        ax.bar(x - 0.4 + width * (i + 0.5), rows[f"mean_{c}"].to_numpy(float), width=width,
               color=sns.desaturate(colors[c], 0.75), label=c)
    ax.set_xticks(x, rows["task"].tolist())
    ax.set_xlim(-0.5, len(rows) - 0.5)
    ax.set_ylabel("mean probability (face seen)")
    ax.set_xlabel("")
    ax.set_ylim(0, 1)
    ax.set_title("Per task" if len(rows) > 1 else ALL, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return _png(fig)


def study_figure(table: pd.DataFrame, class_names: tuple[str, ...]) -> bytes:
    """Each task across participants: valence against each one's own baseline (the mean valence where
    there is no baseline), one line per participant, and the shares of time each emotion dominated."""
    tasks = list(dict.fromkeys(table["task"]))
    people = list(dict.fromkeys(table["participant"]))
    has_base = "delta_valence" in table and table["delta_valence"].notna().any()
    column = "delta_valence" if has_base else "mean_valence"
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(max(8.0, 1.5 * len(tasks) + 4), 7.2),
                                 gridspec_kw={"height_ratios": [1, 1.1]})
    x = {t: i for i, t in enumerate(tasks)}
    for k, (name, rows) in enumerate(table.groupby("participant", sort=False)):
        dx = (k - (len(people) - 1) / 2) * 0.06
        ax.plot([x[t] + dx for t in rows["task"]], rows[column], marker="o", lw=1, alpha=0.85, label=name)
    ax.axhline(0, color="#888", lw=0.8)
    ax.set_xticks(range(len(tasks)), tasks)
    ax.set_xlim(-0.5, len(tasks) - 0.5)
    ax.set_ylabel("valence − own baseline" if has_base else "mean valence")
    ax.set_title("Valence per task, each participant against their own baseline" if has_base
                 else "Mean valence per task (no --baseline given)", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, title="participant")
    colors = palette(class_names)
    # bars grouped by task (a gap between tasks), one per participant, the task named under its group
    group = table["task"].map(x).to_numpy()
    pos = group * (len(people) + 1) + table["participant"].map({p: i for i, p in enumerate(people)}).to_numpy()
    bottoms = np.zeros(len(table))
    for c in class_names:
        share = table[f"dominant_{c}"].fillna(0).to_numpy()
        bx.bar(pos, share, bottom=bottoms, color=colors[c], label=c, width=0.85)
        bottoms += share
    bx.set_xticks(pos, table["participant"], fontsize=7, rotation=90 if len(people) > 4 else 0)
    for t, i in x.items():
        bx.text(i * (len(people) + 1) + (len(people) - 1) / 2, -0.16, t, ha="center", va="top", fontsize=9,
                transform=bx.get_xaxis_transform())
    bx.set_ylim(0, 1)
    bx.set_ylabel("share of face-seen time")
    bx.set_title("Dominant emotion, per task and participant", fontsize=10)
    bx.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    return _png(fig)
