"""The self-contained HTML report: every figure and thumbnail embedded as a data URI; only the
video (too big to embed) is linked, relative to the report: the original when browsers play it, else
the copy beside the report (:mod:`pipeline.analyze.playable`). The timeline, each moment and a
``report.html#t=SECONDS`` link seek it."""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

import pandas as pd

from pipeline.analyze.plots import TimelineFigure

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.2em auto;max-width:1500px;color:#222;padding:0 1em}
h1{font-size:1.4em;margin-bottom:.2em} h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ddd}
.warning{background:#b00020;color:#fff;padding:.8em 1em;font-weight:bold;border-radius:4px;margin:.6em 0}
.note{color:#555;font-size:.9em} .facts span{display:inline-block;margin-right:1.6em}
.media{display:flex;gap:1em;align-items:flex-start;flex-wrap:wrap}
.media video{width:420px;max-width:100%;background:#000}
.tl{position:relative;flex:1;min-width:600px} .tl img{width:100%;cursor:crosshair;display:block}
#cursor{position:absolute;top:0;bottom:0;width:2px;background:#d00;pointer-events:none;display:none}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0} td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}
th{background:#f3f3f3} td{white-space:nowrap} td.l,th.l{text-align:left} img.thumb{width:72px;height:72px;image-rendering:pixelated}
.scroll{overflow-x:auto;max-width:100%} a.seek{cursor:pointer;color:#0645ad;text-decoration:underline}
"""

_JS = """
(function(){
  const img=document.getElementById('timeline'), v=document.getElementById('video'), cur=document.getElementById('cursor');
  const m=JSON.parse(img.dataset.map), out=document.getElementById('clicked');
  const mark=()=>{img.dataset.rendered=img.naturalWidth;}; if(img.complete) mark(); else img.addEventListener('load',mark);
  const toT=f=>m.t0+(f-m.x0)/(m.x1-m.x0)*(m.t1-m.t0), toF=t=>m.x0+(t-m.t0)/(m.t1-m.t0)*(m.x1-m.x0);
  function seek(t){ if(out) out.textContent='t = '+t.toFixed(1)+' s';
    if(v && !v.hidden){ v.currentTime=t; } show(t); }
  function show(t){ cur.style.display='block'; cur.style.left=(toF(t)*100)+'%'; }
  img.addEventListener('click',e=>{const r=img.getBoundingClientRect(); const t=toT((e.clientX-r.left)/r.width);
    if(t>=m.t0&&t<=m.t1) seek(t);});
  document.querySelectorAll('[data-seek]').forEach(a=>a.addEventListener('click',e=>{e.preventDefault();
    seek(parseFloat(a.dataset.seek));}));
  // report.html#t=12.5 (the study page's links) opens at that moment
  function fromHash(){ const h=/^#t=([0-9.]+)$/.exec(location.hash); if(!h) return;
    const t=parseFloat(h[1]); if(v && v.readyState<1){ v.addEventListener('loadedmetadata',()=>seek(t),{once:true}); show(t); }
    else seek(t); }
  window.addEventListener('hashchange',fromHash); fromHash();
  if(v){ v.addEventListener('timeupdate',()=>show(v.currentTime));
    const fail=()=>{v.hidden=true; document.getElementById('novideo').hidden=false;};
    v.addEventListener('error',fail,true); const s=v.querySelector('source'); if(s) s.addEventListener('error',fail);}
})();
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _cell(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def table(df: pd.DataFrame, table_id: str, left: tuple[str, ...] = (), raw_html: tuple[str, ...] = ()) -> str:
    head = "".join(f'<th class="{"l" if c in left else ""}">{html.escape(c)}</th>' for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row):
            text = v if c in raw_html else _cell(v)
            cells.append(f'<td class="{"l" if c in left else ""}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def render(summary: dict, tl: TimelineFigure, bars_png: bytes, segments: pd.DataFrame, moments: pd.DataFrame,
           moment_pngs: list[bytes], video_href: str | None, class_names: tuple[str, ...],
           original_href: str | None = None) -> str:
    """HTML text of the report."""
    esc = html.escape
    model = summary["model"]
    warning = ""
    if model.get("trained_on_synthetic_data"):
        warning = (f'<div class="warning" id="synthetic-warning">WARNING: model {esc(model["name"])} was trained on '
                   "GENERATED (synthetic) data. This report shows the mechanics of the analysis, not real emotions. "
                   "Train on FER2013 first (README, &ldquo;Real data&rdquo;).</div>")
    speed = summary["speed"]
    facts = [f"<span><b>input</b> {esc(summary['input'])}</span>",
             f"<span><b>instants</b> {summary['instants']} at {summary['settings']['rate_hz']:g} Hz</span>"]
    if summary.get("duration_s") is not None:
        facts.append(f"<span><b>duration</b> {summary['duration_s']:.1f} s</span>")
    facts += [f"<span><b>face seen</b> {summary['face_seen_share']:.1%}</span>",
              f"<span><b>model</b> {esc(model['name'])} ({esc(model['data_source'])}, test acc "
              f"{_cell(model.get('test_acc'))})</span>",
              f"<span><b>speed</b> {speed['instants_per_s']:.0f} instants/s"
              + (f", {speed['realtime_factor']:.1f}&times; real time" if speed.get("realtime_factor") else "") + "</span>"]
    video = ""
    copy = summary.get("video_copy")
    if video_href:
        note = ""
        if copy:
            original = (f'<a href="{esc(original_href)}">the original</a>' if original_href
                        else esc(Path(summary["input"]).name))
            note = (f'<p class="note" id="video-note">A silent {copy["fps"]:g} fps copy ({copy["width"]}&times;'
                    f'{copy["height"]}) that browsers play; {original} has the sound.</p>')
        video = (f'<div><video id="video" controls preload="metadata"><source src="{esc(video_href)}"></video>{note}'
                 f'<p id="novideo" class="note" hidden>This browser cannot play {esc(video_href)}; '
                 "clicks on the timeline still show the time.</p></div>")
    elif summary.get("kind") == "video":
        video = (f'<p class="note" id="novideo">{esc(Path(summary["input"]).name)} does not play in browsers and no '
                 "copy was made (<code>--no-video-copy</code>): convert it to MP4 (H.264) or WebM to watch it "
                 "beside the timeline.</p>")
    mapping = json.dumps({"x0": tl.x0, "x1": tl.x1, "t0": tl.t0, "t1": tl.t1})
    # The HTML table keeps what fits a screen; dominance shares, peaks and episode lists are in segments.csv.
    seg_cols = (["task", "start_sec", "end_sec", "face_seen_share", "mean_valence"]
                + [f"mean_{c}" for c in class_names] + [c for c in segments.columns if c.startswith("delta_")]
                + ["episodes"])
    mom = moments.copy()
    if len(mom):
        mom["face"] = [f'<img class="thumb" alt="face" src="{data_uri(p)}">' for p in moment_pngs]
        for col in ("start_sec", "peak_sec"):  # each moment seeks the video: its start, its peak
            mom[col] = [f'<a class="seek" href="#t={t:.3f}" data-seek="{t:.3f}">{t:.1f}</a>' for t in mom[col]]
        mom = mom[["rank", "face", "label", "task", "start_sec", "end_sec", "duration_s", "peak_prob", "peak_sec"]]
        moments_html = table(mom, "moments-table", left=("label", "task"), raw_html=("face", "start_sec", "peak_sec"))
    else:
        moments_html = '<p class="note" id="moments-table">No negative or surprise episodes found.</p>'
    skipped = ""
    if summary.get("skipped"):
        items = "".join(f"<li>{esc(s['file'])}: {esc(s['reason'])}</li>" for s in summary["skipped"])
        skipped = f'<h2>Skipped files</h2><ul id="skipped">{items}</ul>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Emotion timeline: {esc(summary['input'])}</title>
<style>{_CSS}</style></head><body>
<h1>Emotion timeline: {esc(Path(summary['input']).name)}</h1>
{warning}
<p class="facts">{''.join(facts)}</p>
<h2>Timeline</h2>
<p class="note">Smoothed probabilities ({summary['settings']['smooth_s']:g} s window) with task bands; hatched:
no face detected. Bottom: valence index (happy minus angry, disgust, fear and sad). Click the timeline to
seek the video. <span id="clicked"></span></p>
<div class="media">{video}<div class="tl"><img id="timeline" alt="emotion timeline" data-map='{mapping}'
src="{data_uri(tl.png)}"><div id="cursor"></div></div></div>
<h2>Per task</h2>
{table(segments[[c for c in seg_cols if c in segments.columns]], "task-table", left=("task",))}
<p class="note">Means over the instants with a face; <code>delta_</code>: minus the baseline's mean. Dominance shares, peaks and episode lists: <code>segments.csv</code>.</p>
<img id="task-bars" alt="per-task bars" src="{data_uri(bars_png)}" style="max-width:100%">
<h2>Moments worth re-watching</h2>
{moments_html}
{skipped}
<h2>Settings and versions</h2>
<pre id="settings">{esc(json.dumps({k: summary[k] for k in ('settings', 'model', 'versions', 'speed')}, indent=2))}</pre>
<script>{_JS}</script>
</body></html>
"""
