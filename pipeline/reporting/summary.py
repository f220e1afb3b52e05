"""The one-page reproduction summary a reviewer reads first: what was run, each claim's verdict.

Deterministic by design: it prints only what the report's inputs hold (plus an optional
``run.json`` of a committed example run), never the clock or the current git commit, so the
same inputs give the same bytes and ``dvc status`` stays clean after ``dvc repro``.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.reporting import cells, paper
from pipeline.reporting.curves import FLAT_RANGE_PP, FLAT_WINDOW, convergence_rows
from pipeline.reporting.model import ReportInputs
from pipeline.reporting.noise import settings_of
from pipeline.reporting.tables import paper_tables
from pipeline.reporting.text import bench_devices, data_words, devices, schedule_words
from pipeline.reporting.verdict import (NOT_COMPARABLE, NOT_REPRODUCED, NOT_RUN, REPRODUCED, SPREAD_FACTOR,
                                        TOLERANCE_PP, Claim, claims)


def run_lines(inputs: ReportInputs) -> list[str]:
    """What was run: data, profile, schedule, seeds, device, commit (and wall time when recorded)."""
    info = inputs.run_info
    bench = bench_devices(inputs)
    commit = info.get("commit") or ("the commit that holds this file "
                                    "(`git log -1 --format=%H -- <this file>`)")
    settings = settings_of(inputs.data_source, inputs.schedule)
    band = inputs.cross_cpu_band.words(settings)
    if inputs.cross_cpu_band.applies(settings) and inputs.cross_cpu_band.band_pp < TOLERANCE_PP:
        band += f"; a gain of ours over ours is still held to ±{TOLERANCE_PP} pp (seed noise)"
    lines = [f"- Data: {data_words(inputs)}.",
             f"- Profile: {info.get('profile', 'params.yaml (the default profile) of the commit below')}.",
             f"- Schedule: {schedule_words(inputs)}.",
             f"- Seeds: {', '.join(map(str, inputs.seeds))}.",
             f"- Device: training {', '.join(devices(inputs)) or 'n/a'}; benchmarks {', '.join(bench) or 'n/a'}. "
             f"Paper: {paper.PAPER_DEVICE}.",
             f"- Commit: {commit}.",
             f"- Noise band, one seed: {band}."]
    if info.get("wall_time"):
        lines.append(f"- Wall time: {info['wall_time']}.")
    return lines


def verdict_counts(found: list[Claim]) -> str:
    order = (REPRODUCED, NOT_REPRODUCED, NOT_COMPARABLE, NOT_RUN)
    return ", ".join(f"{sum(c.verdict == v for c in found)} {v}" for v in order)


def summary_markdown(inputs: ReportInputs, tables_rel: str = "tables", missing: list[str] | None = None,
                     curves_rel: str | None = None, examples: list[str] | None = None) -> str:
    """The whole page, as Markdown; ``tables_rel`` is the tables' folder relative to the page, ``curves_rel``
    the training-curves figure (None: no run logged a curve), ``examples`` the committed real-data runs'
    section (:mod:`pipeline.reporting.examples`)."""
    found = claims(inputs)
    rows = [[c.claim, c.paper, c.ours, c.verdict, c.why] for c in found]
    lines = ["# Reproduction summary: Mini-ResEmoteNet (arXiv:2501.18538)", "",
             f"Every number the paper prints, beside ours: [the tables]({tables_rel}/README.md). "
             "This page: what was run, "
             "then each headline claim with our number and a verdict.", "", "## What was run", "",
             *run_lines(inputs), "", "## Claims", "",
             f"Verdicts: **{REPRODUCED}** = within ±{TOLERANCE_PP} pp of the paper (or within {SPREAD_FACTOR:g} x our "
             f"seed std when several seeds ran and that is wider); **{NOT_REPRODUCED}** = outside it, with the gap; "
             f"**{NOT_COMPARABLE}** = our number exists but the conditions differ (generated data, a short schedule, "
             f"other hardware), gap given for information; **{NOT_RUN}** = no number of ours. A gain of ours over ours "
             f"(a distilled student against the same student alone) must clear its noise band, named in its why: "
             f"{SPREAD_FACTOR:g} x the larger seed std where several seeds ran (at least ±{TOLERANCE_PP} pp), "
             f"else the cross-CPU band measured on this run's settings, else ±{TOLERANCE_PP} pp. Accuracy in %.", "",
             cells.markdown(["claim", "paper", "ours", "verdict", "why"], rows, [False, True, True, False, False]),
             "", f"In all: {verdict_counts(found)}.", "", *(examples or []), "## Where the paper contradicts itself", ""]
    lines += [f"- **{c.what}**: {c.values}. Compared: {c.compared}" for c in paper.CONTRADICTIONS]
    lines += [f"- The RAF-DB text values: E1 {paper.TEXT_RAFDB['E1'].value:.2f}, "
              f"E4 {paper.TEXT_RAFDB['E4'].value:.2f} (Sec. IV-A).", ""]
    lines += convergence_lines(inputs, curves_rel)
    lines += ["## Tables", ""] + [f"- [{t.title}]({tables_rel}/{name}.md)" for name, t in paper_tables().items()] + [""]
    if missing:
        lines += ["## Missing inputs", ""] + [f"- {m}" for m in missing] + [""]
    return "\n".join(lines)


def convergence_lines(inputs: ReportInputs, curves_rel: str | None) -> list[str]:
    """The "Training curves" section: per run, did validation accuracy stop moving before training ended."""
    rows = convergence_rows(inputs.curves)
    if not rows:
        return []
    return ["## Training curves", "",
            f"Validation accuracy (%) per run; *flat* = it moved less than {FLAT_RANGE_PP:g} pp over the last "
            f"{FLAT_WINDOW} epochs, so more epochs of this schedule would not change the number much. "
            + (f"Curves: [{Path(curves_rel).name}]({curves_rel})." if curves_rel else ""), "",
            cells.markdown(["run", "epochs", "best val", "last val", "range, last epochs", "flat"], rows,
                           [False, True, True, True, True, False]), ""]
