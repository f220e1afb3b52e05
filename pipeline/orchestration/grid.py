"""A profile's distillation runs as a grid of DVC experiments: one queued experiment per run.

    uv run python -m pipeline.orchestration.grid profiles/grid.yaml     # queue 45 experiments (A_T1_a10, ...)
    uv run dvc exp run --run-all                               # run the queue (or: uv run dvc queue start)
    uv run dvc exp show --md --only-changed                    # one row per experiment, its params and metrics

Each experiment is the current params.yaml plus one extra distillation run named ``grid``
(``distill.runs.grid`` = the profile's run), so every experiment has the same columns in
``dvc exp show`` (``distill.runs.grid.*``, ``models/distill/grid/metrics.json``) and DVC's run cache
restores every other stage (teacher, soft targets, E1-E6, baselines) instead of re-training it.
params.yaml is put back byte for byte once the experiments are queued.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.atomic import write_text
from pipeline.params.load import check_params
from pipeline.params.profiles import REPLACE_MARKER, _flow, edit_text

GRID_RUN = "grid"


def grid_runs(profile: Path) -> dict[str, Any]:
    """The profile's ``distill.runs`` (name -> run spec)."""
    runs = ((yaml.safe_load(Path(profile).read_text()) or {}).get("distill") or {}).get("runs") or {}
    runs = {k: v for k, v in runs.items() if k != REPLACE_MARKER}
    if not runs:
        raise ValueError(f"{profile}: no distill.runs to make a grid of")
    return runs


def with_grid_run(params_text: str, spec: dict[str, Any], run: str = GRID_RUN) -> str:
    """params.yaml's text with ``distill.runs.<run>`` set to ``spec`` (a text edit of that one line)."""
    text = edit_text(params_text, f"distill:\n  runs:\n    {run}: {_flow(spec)}\n")
    check_params(yaml.safe_load(text))
    return text


def queue(profile: Path, params: Path = Path("params.yaml"), only: list[str] | None = None,
          run: str = GRID_RUN) -> list[str]:
    """Queue one DVC experiment per run of ``profile`` (named after it); returns the names queued."""
    runs = grid_runs(profile)
    unknown = sorted(set(only or ()) - set(runs))
    if unknown:
        raise ValueError(f"{profile}: no run(s) {', '.join(unknown)} (known: {', '.join(runs)})")
    chosen = {name: spec for name, spec in runs.items() if not only or name in only}
    original = params.read_bytes()
    texts = {name: with_grid_run(original.decode(), spec, run) for name, spec in chosen.items()}  # all checked first
    try:
        for name, text in texts.items():
            write_text(params, text)
            subprocess.run([sys.executable, "-m", "dvc", "exp", "run", "--queue", "--name", name], check=True)
    finally:
        params.write_bytes(original)
    return list(texts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path, help="profile whose distill.runs form the grid, e.g. profiles/grid.yaml")
    parser.add_argument("--only", nargs="+", metavar="RUN", help="queue only these runs of the profile")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file (default params.yaml)")
    args = parser.parse_args(argv)
    names = queue(args.profile, args.params, args.only)
    print(f"queued {len(names)} experiment(s): {', '.join(names)}; run them with `dvc exp run --run-all`")


if __name__ == "__main__":
    main()
