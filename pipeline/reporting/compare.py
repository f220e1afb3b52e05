"""Table IV of two revisions side by side: the table-level diff a reviewer reads for this paper.

    uv run python -m stages.report --compare main          # working tree vs main
    uv run python -m stages.report --compare HEAD~1 --against HEAD

Each side's inputs (params.yaml, validation.json, every run's training and evaluation metrics.json)
are read from git at the revision (or from the working tree) and go through the report's own
``collect_inputs`` and ``table_iv``, so both columns are exactly what the report stage renders.
Per run: accuracy and loss at REV and now, Δ, and a verdict: ``=`` (unchanged), ``noise (seed spread
±x)`` when |Δ accuracy| is within the larger std of the two sides (both ran several seeds), else ``noise
(cross-CPU band ±y)`` when it is within the measured cross-CPU band (:mod:`pipeline.reporting.noise`;
both sides on the settings it was measured on), ``changed`` otherwise; rows present on one side only say
so. The first line counts the rows changed beyond noise and names the band.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pipeline.reporting import cells
from pipeline.reporting.collect import collect_inputs, pipeline_paths, schedule_of
from pipeline.reporting.noise import NOT_MEASURED, SEED_SPREAD, CrossCpuBand, noise_band, read_band, settings_of
from pipeline.reporting.tables.table4_accuracy import row_label, table_iv

WORKTREE = None  # the ``rev`` that means the working tree
CHANGED = "changed"
# dvc.yaml's vars.paths keys the Table IV inputs live under (read from dvc.yaml, not repeated here).
_INPUT_PATHS = ("validation", "teacher", "distill", "baseline", "eval", "benchmark")


@dataclass(frozen=True)
class Side:
    label: str
    frame: pd.DataFrame  # Table IV's CSV frame, rows of this run's own dataset
    settings: dict[str, Any] | None = None  # data source and schedule (pipeline.reporting.noise.settings_of)


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ValueError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def materialise(root: Path, rev: str, dest: Path) -> Path:
    """Write REV's params.yaml, dvc.yaml and Table IV inputs (the git-tracked JSON files) under ``dest``."""
    _git(root, "rev-parse", "--verify", f"{rev}^{{commit}}")
    for name in ("params.yaml", "dvc.yaml"):
        (dest / name).write_text(_git(root, "show", f"{rev}:{name}"))
    paths = pipeline_paths(dest)
    wanted = [paths[key] for key in _INPUT_PATHS if key in paths]
    for rel in _git(root, "ls-tree", "-r", "--name-only", rev, "--", *wanted).splitlines():
        if rel.endswith(".json"):
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_git(root, "show", f"{rev}:{rel}"))
    return dest


def side(root: Path, label: str) -> Side:
    """Table IV of a checkout (or a materialised revision) at ``root``, as the report stage builds it."""
    paths = pipeline_paths(root)
    params = yaml.safe_load((root / "params.yaml").read_text())
    inputs = collect_inputs(params, root / paths["validation"],
                            [root / paths[k] for k in ("teacher", "distill", "baseline")],
                            root / paths["eval"], root / paths["benchmark"])
    frame = table_iv(inputs).frame
    return Side(label, frame[frame["data_source"].notna()].reset_index(drop=True),
                settings_of(params["data"]["source"], schedule_of(params)))


def load_side(root: Path, rev: str | None) -> Side:
    if rev is WORKTREE:
        return side(root, "working tree")
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        return side(materialise(root, rev, Path(tmp)), rev)


def _num(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def verdict(old: dict | None, new: dict | None, cross_cpu: CrossCpuBand = NOT_MEASURED,
            settings: tuple[dict, ...] = ()) -> str:
    """``=`` / ``noise (...)`` / ``changed`` / ``new run`` / ``removed`` for one row; ``settings``: both sides'."""
    if old is None or _num(old.get("test_acc")) is None:
        return "new run" if new is not None and _num(new.get("test_acc")) is not None else "not run"
    if new is None or _num(new.get("test_acc")) is None:
        return "removed"
    same = all(_num(old.get(k)) == _num(new.get(k)) for k in ("test_acc", "test_loss", "T", "alpha"))
    if same:
        return "="
    spread = max(_num(old.get("test_acc_std")) or 0.0, _num(new.get("test_acc_std")) or 0.0)
    band = noise_band(min(old.get("seeds", 0), new.get("seeds", 0)), spread, cross_cpu, *settings)
    return f"noise ({band})" if band.holds(new["test_acc"] - old["test_acc"]) else CHANGED


def _setting(old: Any, new: Any, fmt: str) -> str:
    a, b = _num(old), _num(new)
    text = lambda v: "-" if v is None else format(v, fmt)  # noqa: E731
    return text(b) if a == b else f"{text(a)} → {text(b)}"


def compare_frames(old: Side, new: Side, cross_cpu: CrossCpuBand = NOT_MEASURED) -> pd.DataFrame:
    """One row per run of either side, in Table IV's order (REV's rows first, then runs only ``new`` has)."""
    rows_old = {r["run"]: r for r in old.frame.to_dict("records")}
    rows_new = {r["run"]: r for r in new.frame.to_dict("records")}
    order = list(rows_old) + [run for run in rows_new if run not in rows_old]
    out = []
    for run in order:
        a, b = rows_old.get(run), rows_new.get(run)
        acc_a, acc_b = (_num(r.get("test_acc")) if r else None for r in (a, b))
        loss_a, loss_b = (_num(r.get("test_loss")) if r else None for r in (a, b))
        label = (b or a).get("paper_label")
        model = (b or a).get("model")
        out.append({"run": run, "label": label if isinstance(label, str) else row_label(run, model if isinstance(model, str) else None),
                    "T": _setting(a and a.get("T"), b and b.get("T"), "g"),
                    "alpha": _setting(a and a.get("alpha"), b and b.get("alpha"), ".2f"),
                    "acc_old": acc_a, "acc_new": acc_b,
                    "acc_std_old": _num(a.get("test_acc_std")) if a else None,
                    "acc_std_new": _num(b.get("test_acc_std")) if b else None,
                    "seeds_old": int(a.get("seeds") or 0) if a else 0, "seeds_new": int(b.get("seeds") or 0) if b else 0,
                    "delta_acc_pp": None if acc_a is None or acc_b is None else acc_b - acc_a,
                    "loss_old": loss_a, "loss_new": loss_b,
                    "delta_loss": None if loss_a is None or loss_b is None else loss_b - loss_a,
                    "verdict": verdict(a, b, cross_cpu, (old.settings, new.settings))})
    return pd.DataFrame(out)


def compare_markdown(table: pd.DataFrame, old_label: str, new_label: str, band_words: str = "") -> str:
    """The side-by-side Table IV as Markdown under a one-line summary: the rows changed beyond noise, then the
    band (``band_words``, :func:`band_summary`)."""
    header = ["run", "T", "α", f"acc % {old_label}", f"acc % {new_label}", "Δ pp", f"loss {old_label}",
              f"loss {new_label}", "Δ loss", ""]
    rows = []
    for r in table.to_dict("records"):
        rows.append([r["label"], r["T"], r["alpha"],
                     cells.mean_std(r["acc_old"], r["acc_std_old"], seeds=r["seeds_old"]),
                     cells.mean_std(r["acc_new"], r["acc_std_new"], seeds=r["seeds_new"]), cells.delta(r["delta_acc_pp"]),
                     cells.num(r["loss_old"], 4, absent="not run"), cells.num(r["loss_new"], 4, absent="not run"),
                     cells.delta(r["delta_loss"], 4), r["verdict"]])
    return summary_line(table, old_label, new_label, band_words) + "\n\n" + cells.markdown(
        header, rows, [False] + [True] * (len(header) - 2) + [False])


def summary_line(table: pd.DataFrame, old_label: str, new_label: str, band_words: str) -> str:
    """"N of M rows changed beyond noise (runs)", then the rows within noise and one-sided rows, then the band."""
    by = lambda word: [r["run"] for r in table.to_dict("records") if r["verdict"].startswith(word)]  # noqa: E731
    changed = by(CHANGED) + by("new run") + by("removed")
    listed = lambda runs: f" ({', '.join(runs)})" if runs else ""  # noqa: E731
    parts = [f"{len(changed)} of {len(table)} rows changed beyond noise{listed(changed)}"]
    if by("noise"):
        parts.append(f"{len(by('noise'))} within noise{listed(by('noise'))}")
    band = f" Band: {band_words}." if band_words else ""
    return f"Table IV, {old_label} → {new_label}: {'; '.join(parts)}.{band}"


def band_summary(cross_cpu: CrossCpuBand, old: Side, new: Side) -> str:
    """The band in words: the seed spread where both sides ran several seeds, else the cross-CPU band's state."""
    return (f"{SEED_SPREAD} (the larger std) where both sides ran several seeds, else "
            f"{cross_cpu.words(old.settings, new.settings)}")


def compare(root: str | Path, rev: str, against: str | None = WORKTREE) -> str:
    """Table IV at ``rev`` beside Table IV at ``against`` (default: the working tree), as Markdown."""
    root = Path(root)
    old, new = load_side(root, rev), load_side(root, against)
    cross_cpu = read_band(root / pipeline_paths(root)["cross_cpu_band"])
    return compare_markdown(compare_frames(old, new, cross_cpu), old.label, new.label,
                            band_summary(cross_cpu, old, new))
