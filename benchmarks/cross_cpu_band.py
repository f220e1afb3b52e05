"""The cross-CPU noise band, measured on one machine: Table IV of the same commit reproduced with the CPU's own
kernels and all its cores, and again as another machine would (kernels held to AVX2, one core), and how far each
accuracy moved.

    uv run python benchmarks/cross_cpu_band.py                    # params.yaml: two full `dvc repro`s
    uv run python benchmarks/cross_cpu_band.py --params tiny.yaml --out /tmp/band.json --target report

Each run is a `git clone` of HEAD in a temporary folder with its own DVC cache (every model trains there),
``--params`` copied over its params.yaml; the second sets ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
MKL_CBWR=AVX2 (pipeline.core.devices.PORTABLE_KERNELS) and runs on one core (another core count: another thread
count unless the params fix it). Without ``train.portable_kernels`` (the default) the band is how far another CPU
moves the numbers; with it every stage pins both, so it should come out 0. Writes the measurement that the verdict page
and ``stages.report --compare`` read (dvc.yaml vars.paths.cross_cpu_band, pipeline/reporting/noise.py):
the band (max |Δ| over the rows), every row's Δ, how it was measured, the CPU, the wall time of each repro.
Commit it, then `uv run dvc repro report` renders the verdict page with it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from pipeline.core.atomic import write_json
from pipeline.core.devices import PORTABLE_KERNELS, PORTABLE_THREADS, cpu_model
from pipeline.orchestration.worker_run import subprocess_env
from pipeline.reporting.collect import pipeline_paths, schedule_of
from pipeline.reporting.noise import band_of, band_rows, settings_of
from pipeline.reporting.tables.table4_accuracy import NAME as TABLE_IV

ROOT = Path(__file__).resolve().parents[1]
PINS = " ".join(f"{k}={v}" for k, v in PORTABLE_KERNELS.items())


def reproduce(clone: Path, params: Path | None, pins: dict[str, str], targets: list[str],
              one_core: bool = False) -> tuple[pd.DataFrame, float]:
    """`dvc repro` in a fresh clone of HEAD with ``pins`` set (the others unset), on one core where asked;
    Table IV's CSV and the wall time."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    if params is not None:
        shutil.copy(params, clone / "params.yaml")
    env = {k: v for k, v in subprocess_env().items() if k not in PORTABLE_KERNELS} | pins
    started = time.perf_counter()
    core = {min(os.sched_getaffinity(0))}
    done = subprocess.run([sys.executable, "-m", "dvc", "repro", *targets], cwd=clone, env=env,
                          capture_output=True, text=True,
                          preexec_fn=(lambda: os.sched_setaffinity(0, core)) if one_core else None)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"dvc repro in {clone} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return pd.read_csv(clone / pipeline_paths(clone)["tables"] / f"{TABLE_IV}.csv"), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, help="a params file to measure instead of HEAD's params.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / pipeline_paths(ROOT)["cross_cpu_band"],
                        help="the measurement file (default: dvc.yaml vars.paths.cross_cpu_band)")
    parser.add_argument("--target", nargs="*", default=[], help="dvc repro targets (default: the whole pipeline; "
                        "`report` is every stage Table IV needs)")
    args = parser.parse_args()
    params = args.params.resolve() if args.params else None
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    native = f"as the CPU offers ({torch.backends.cpu.get_cpu_capability()}), {len(os.sched_getaffinity(0))} cores"
    other = f"{PINS}, one core"
    with tempfile.TemporaryDirectory(prefix="cross-cpu-band-") as tmp:
        table_a, wall_a = reproduce(Path(tmp) / "a", params, {}, args.target)
        print(f"run a ({native}): {wall_a:.0f} s", flush=True)
        table_b, wall_b = reproduce(Path(tmp) / "b", params, PORTABLE_KERNELS, args.target, one_core=True)
        print(f"run b ({other}): {wall_b:.0f} s", flush=True)
    measured = yaml.safe_load((params or ROOT / "params.yaml").read_text())
    rows = band_rows(table_a, table_b)
    band = band_of(rows)
    record = {"band_pp": band, "source": f"benchmarks/cross_cpu_band.py on {cpu_model()}, commit {commit[:7]}",
              "how": "the same commit reproduced twice on one machine, the second as another machine would: CPU "
                     "kernels held to AVX2 (as another x86-64 CPU computes) and one core; band = the largest |Δ| "
                     "of Table IV's test accuracy",
              "kernels": {"a": native, "b": other}, "cpu": cpu_model(),
              "command": f"dvc repro {' '.join(args.target)}".strip(), "params": str(args.params or "params.yaml"),
              "commit": commit, "date": datetime.date.today().isoformat(),
              "wall_s": {"a": round(wall_a, 1), "b": round(wall_b, 1)},
              "settings": settings_of(measured["data"]["source"], schedule_of(measured)), "rows": rows}
    if measured["train"].get("portable_kernels"):
        record["note"] = ("params train.portable_kernels: in both runs every stage pins AVX2 kernels and "
                          f"{PORTABLE_THREADS} threads itself, whatever the environment and core count")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, record)
    print(f"cross-CPU band: {'n/a' if band is None else f'{band:.2f} pp'} over {len(rows)} rows -> {args.out}")


if __name__ == "__main__":
    main()
