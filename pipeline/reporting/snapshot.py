"""Copy a finished run's report inputs into a committed run folder, then render it there.

    uv run python -m pipeline.reporting.snapshot reports/examples/<name> --project . \
        --profile "profiles/fer2013-converged.yaml" --wall-time "2 h 10 min on 2 CPU cores"

A run folder (:func:`pipeline.reporting.collect.run_folder_paths`) holds only small text files: the
params, validation.json, each run's training metrics (with its run.json: device, threads, versions)
and dvclive curves, each evaluation's metrics, run.json and confusion counts, the benchmark reports
with their run facts (benchmark_run.json), and run.json (profile, commit, wall time). Checkpoints
stay in DVC. The folder is then rendered in place by the report stage's own code
(:func:`pipeline.reporting.run_report.write_run_report`), exactly as ``stages.report --run-folder`` does.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

from pipeline.core.atomic import write_json
from pipeline.core.gitinfo import git_commit
from pipeline.core.runfacts import benchmark_facts_path
from pipeline.params.load import load_params
from pipeline.reporting.collect import pipeline_paths, run_folder_paths, runs_under
from pipeline.reporting.model import ReportInputs, run_ids
from pipeline.reporting.run_files import EVAL_FILES, TRAINING_FILES, copy_files
from pipeline.reporting.run_report import write_run_report

log = logging.getLogger("snapshot")


def snapshot(project: Path, dest: Path, run_info: dict[str, str]) -> int:
    """Copy ``project``'s report inputs into ``dest`` (created; must not hold a snapshot yet); returns files copied.

    Only the runs its params ask for, trained on its params' data, are copied (a run folder left over from
    another profile is not)."""
    paths = pipeline_paths(project)
    if (dest / "params.yaml").exists():
        raise FileExistsError(f"{dest} already holds a run (params.yaml): pick a new folder or remove it first")
    validation = project / paths["validation"]
    if not validation.exists():
        raise FileNotFoundError(f"{validation}: run the data stages first (`dvc repro validate`)")
    params = load_params(project / "params.yaml")
    wanted = {row["run"] for row in run_ids(ReportInputs(params["data"]["source"], dict(params["models"]),
                                                          dict(params["distill"]["runs"]),
                                                          list(params["baseline"]["students"])))}
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(project / "params.yaml", dest / "params.yaml")
    shutil.copyfile(validation, dest / "validation.json")
    copied = 2
    for name, files in (("models", TRAINING_FILES), ("eval", EVAL_FILES)):
        root = project / paths[name]
        for key, (run_dir, metrics) in runs_under(root).items():
            trained_on = metrics.get("dataset", params["data"]["source"])
            if key in wanted and trained_on == params["data"]["source"]:
                copied += copy_files(run_dir, files, dest / name / run_dir.relative_to(root))
            elif key in wanted:
                log.warning("%s: left out (its data is %r, the params' %r: another profile's run)", run_dir,
                            trained_on, params["data"]["source"])
    copied += copy_files(project / paths["benchmark"], ("*.json",), dest / "benchmark")
    bench_facts = project / paths.get("benchmark_run", benchmark_facts_path(paths["benchmark"]))
    if bench_facts.is_file():  # the benchmarks' run facts, where the run folder's report looks for them
        shutil.copyfile(bench_facts, run_folder_paths(dest)["benchmark_run"])
        copied += 1
    write_json(dest / "run.json", run_info)
    return copied + 1


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path, help="the new run folder, e.g. reports/examples/<name>")
    parser.add_argument("--project", type=Path, default=Path("."), help="the project whose outputs are copied")
    parser.add_argument("--profile", required=True, help="what was run: profile and schedule, in words")
    parser.add_argument("--commit", help="code commit (default: the project's HEAD)")
    parser.add_argument("--wall-time", required=True, help="how long it took, on what machine")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    commit = args.commit or git_commit(args.project)
    count = snapshot(args.project, args.dest, {"profile": args.profile, "commit": commit, "wall_time": args.wall_time})
    write_run_report(run_folder_paths(args.dest))
    print(json.dumps({"run_folder": str(args.dest), "files": count}))


if __name__ == "__main__":
    main()
