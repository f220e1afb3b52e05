"""The study page: one section per task, the participants side by side, each moment a link that opens
its recording's report at that time. The figure is embedded; thumbnails and reports are linked
relative to the page, so the study folder moves as one."""

from __future__ import annotations

import html

import pandas as pd

from pipeline.analyze.report import _CSS, data_uri, table
from pipeline.analyze.segments import ALL

MEAN_ROW = "(mean of participants)"


def _pct(value) -> str:
    return "" if pd.isna(value) else f"{100 * value:.0f}%"


def _num(value, sign: bool = False) -> str:
    return "" if pd.isna(value) else (f"{value:+.3f}" if sign else f"{value:.3f}")


def moment_links(moments: pd.DataFrame) -> str:
    """One participant's moments in one task, strongest first: each a link into their report at its start."""
    esc = html.escape
    return " ".join(f'<a class="moment" href="{esc(m.report)}" title="peak {m.peak_prob:.2f} at {m.peak_sec:.1f} s">'
                    f'<img class="chip" alt="" src="{esc(m.thumbnail)}">{esc(m.label)} {m.start_sec:.1f} s</a>'
                    for m in moments.itertuples())


def task_rows(rows: pd.DataFrame, moments: pd.DataFrame, class_names: tuple[str, ...]) -> pd.DataFrame:
    """The participants of one task as the page shows them, with their mean as the last row."""
    esc = html.escape
    shown = pd.DataFrame({
        "participant": [f'<a href="{esc(r)}">{esc(p)}</a>' for p, r in zip(rows["participant"], rows["report"])],
        "seconds": [f"{a:.1f}-{b:.1f}" for a, b in zip(rows["start_sec"], rows["end_sec"])],
        "face seen": [_pct(v) for v in rows["face_seen_share"]],
        "mean valence": [_num(v) for v in rows["mean_valence"]],
        "valence vs own baseline": [_num(v, sign=True) for v in rows["delta_valence"]],
        **{c: [_pct(v) for v in rows[f"dominant_{c}"]] for c in class_names},
        "moments worth re-watching": [moment_links(moments[moments["participant"] == p]) for p in rows["participant"]],
    })
    mean = {"participant": f"<b>{MEAN_ROW}</b>", "seconds": "", "face seen": _pct(rows["face_seen_share"].mean()),
            "mean valence": _num(rows["mean_valence"].mean()),
            "valence vs own baseline": _num(rows["delta_valence"].mean(), sign=True),
            **{c: _pct(rows[f"dominant_{c}"].mean()) for c in class_names},
            "moments worth re-watching": f"{len(moments)} in all"}
    return pd.concat([shown, pd.DataFrame([mean])], ignore_index=True)


def render(info: dict, study: pd.DataFrame, moments: pd.DataFrame, figure_png: bytes,
           class_names: tuple[str, ...]) -> str:
    """HTML text of the study page."""
    esc = html.escape
    model = info["model"]
    min_episode = f"{info['min_episode_s']:g} s"
    banner = ""
    if model.get("trained_on_synthetic_data"):
        banner = (f'<div class="warning" id="synthetic-warning">WARNING: model {esc(model["name"])} was trained on '
                  "GENERATED (synthetic) data: this page shows the mechanics of the analysis, not real emotions.</div>")
    failed = ""
    if info["failed"]:
        items = "".join(f"<li>{esc(f['error'])}</li>" for f in info["failed"])  # each error names its file
        failed = (f'<div class="warning" id="failed">{len(info["failed"])} recording(s) could not be analysed and '
                  f"are not in this study:<ul>{items}</ul></div>")
    people = "".join(
        f'<li><a href="{esc(p["report"])}">{esc(p["name"])}</a>: {esc(p["input"])}, {p["duration_s"] or 0:.0f} s, '
        f'face seen {p["face_seen_share"]:.0%}, {p["markers"]} tasks, baseline {esc(str(p["baseline"] or "none"))}</li>'
        for p in info["participants"])
    sections = []
    for k, task in enumerate(info["tasks"]):
        rows = study[study["task"] == task]
        in_task = moments if task == ALL else moments[moments["task"] == task]
        title = "Whole recordings" if task == ALL else f"Task: {esc(task)}"
        shown = task_rows(rows, in_task, class_names)
        if task == ALL and len(info["tasks"]) > 1:  # every moment is already listed under its task
            shown["moments worth re-watching"] = [str(int(v)) for v in rows["moments"]] + [f"{int(rows['moments'].sum())} in all"]
        sections.append(f'<section class="task" data-task="{esc(task)}"><h2>{title}</h2>'
                        + table(shown, f"task-{k}", left=("participant", "moments worth re-watching"),
                                raw_html=("participant", "moments worth re-watching")) + "</section>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Study: {len(info['participants'])} participants</title>
<style>{_CSS} td.l{{white-space:normal}} a.moment{{display:inline-block;white-space:nowrap;margin:1px 6px 1px 0}}
img.chip{{width:28px;height:28px;vertical-align:middle;margin-right:3px}}</style></head><body>
<h1>Study: {len(info['participants'])} participants, {len([t for t in info['tasks'] if t != ALL])} tasks</h1>
{banner}{failed}
<p class="facts"><span><b>model</b> {esc(model['name'])} ({esc(str(model['data_source']))})</span>
<span><b>files</b> study.csv, study_moments.csv, study.json</span></p>
<ul id="participants">{people}</ul>
<p class="note">Per task: the share of time a face was seen, mean valence (happy minus angry, disgust, fear
and sad) and that minus the participant's own baseline (<code>--baseline</code>), the share of face-seen
time each emotion was the (smoothed) top label, and the moments worth re-watching (negative or surprised
expressions held at least {min_episode}, strongest first); a participant's name opens their report at the
task's start, each moment at its start.</p>
<img id="study-figure" alt="valence and dominant emotions per task and participant" src="{data_uri(figure_png)}"
style="max-width:100%">
{''.join(sections)}
</body></html>
"""
