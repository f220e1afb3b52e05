"""Committed EmoXNet runs (``reports/examples/<run>/`` holding ``tables/emoxnet.csv``): made from a project whose
EmoXNet stages have run, and listed with their measured claims on the default run's verdict page.

    uv run python -m pipeline.reporting.emoxnet_runs reports/examples/<name> --project . \\
        --profile "profiles/emoxnet-ferplus.yaml" --wall-time "5 h 40 min of one-thread CPU on 2 cores"

An EmoXNet run folder holds small text files only: params.yaml, validation.json, run.json (profile, commit, wall
time), the emoxnet_report stage's tables as it wrote them (``tables/``), every member's, the Lite's and its
baseline's training metrics (all seeds) with their run facts and dvclive curves (``models/``), the evaluations
(``eval/``), the benchmark latencies the tables used (``benchmark/``), a curves figure and a README. The tables
are the stage's own (counting FLOPs needs the checkpoints, which stay in DVC); the claims are judged here from
the copied metrics.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.atomic import write_json, write_text
from pipeline.core.gitinfo import git_commit
from pipeline.params.load import load_params
from pipeline.reporting import cells, paper
from pipeline.reporting.collect import pipeline_paths, read_json
from pipeline.reporting.curves import convergence_rows, figure_curves, read_curve
from pipeline.reporting.run_files import EVAL_FILES, TRAINING_FILES, copy_files
from pipeline.reporting.verdict import NOT_COMPARABLE, NOT_REPRODUCED, REPRODUCED, TOLERANCE_PP, judge_gap
from pipeline.sources.registry import sources

log = logging.getLogger("emoxnet_runs")
MARKER = Path("tables") / "emoxnet.csv"  # what makes a run folder an EmoXNet one


def is_emoxnet_folder(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def snapshot(project: Path, dest: Path, run_info: dict[str, str]) -> int:
    """Copy ``project``'s EmoXNet outputs into ``dest`` (a new folder); returns the number of files copied."""
    paths = pipeline_paths(project)
    if (dest / "params.yaml").exists():
        raise FileExistsError(f"{dest} already holds a run (params.yaml): pick a new folder or remove it first")
    tables = project / paths["emoxnet_report"]
    if not (tables / "emoxnet.csv").is_file():
        raise FileNotFoundError(f"{tables / 'emoxnet.csv'} not found: run the emoxnet_report stage first")
    params = load_params(project / "params.yaml")
    dest.mkdir(parents=True)
    shutil.copyfile(project / "params.yaml", dest / "params.yaml")
    shutil.copyfile(project / paths["validation"], dest / "validation.json")
    copied = 2 + copy_files(tables, ("*.csv", "*.md"), dest / "tables")
    trained, evaluated = project / paths["emoxnet"], project / paths["emoxnet_eval"]
    members = [*params["emoxnet"]["members"], *(["teacher"] if params["emoxnet"]["teacher_member"] else [])]
    for name in [*params["emoxnet"]["members"], "lite", "lite_baseline"]:
        src = trained / "members" / name if name in params["emoxnet"]["members"] else trained / name
        copied += copy_files(src, TRAINING_FILES, dest / "models" / src.relative_to(trained))
    # only this run's models: an evaluation or latency left by an earlier params (another member set) stays behind
    for sub in [*(f"members/{name}" for name in members), "ensemble", "lite", "lite_baseline"]:
        copied += copy_files(evaluated / sub, EVAL_FILES, dest / "eval" / sub)
    architectures = {params["emoxnet"]["lite"]["model"],
                     *(member["model"] for member in params["emoxnet"]["members"].values())}
    copied += copy_files(project / paths["benchmark"] / "emoxnet", tuple(f"{a}.json" for a in sorted(architectures)),
                         dest / "benchmark")
    write_json(dest / "run.json", run_info)
    return copied + 1


@dataclass(frozen=True)
class EmoxnetClaim:
    claim: str
    ours: str
    paper: str
    verdict: str
    why: str


def _mean_sd(metrics: dict[str, Any] | None) -> tuple[float, float, int] | None:
    """Test accuracy in % over the seeds a training ran (mean, sd, seeds)."""
    if not metrics:
        return None
    seeds = len(metrics.get("seeds") or [0])
    return 100 * metrics["test_acc"], 100 * (metrics.get("test_acc_std") or 0.0), seeds


def claims(folder: Path) -> list[EmoxnetClaim]:
    """EmoXNet's three claims as this folder measured them: the ensemble's accuracy, the Lite's (with its size),
    and the Lite above the same network trained on CE alone by more than the seed spread."""
    params = load_params(folder / "params.yaml")
    source = sources().get(params["data"]["source"])
    dataset = source.paper_dataset if source is not None and source.real else None  # generated data: no paper value
    ensemble = read_json(folder / "eval" / "ensemble" / "metrics.json")
    lite = _mean_sd(read_json(folder / "models" / "lite" / "metrics.json"))
    base = _mean_sd(read_json(folder / "models" / "lite_baseline" / "metrics.json"))
    found = []
    if ensemble is not None:
        ours = 100 * ensemble["test_acc"]
        target = _paper_value("EmoXNet", dataset)
        found.append(_against_paper("EmoXNet ensemble accuracy", ours, target, f"{len(ensemble['members'])} members"))
    if lite is not None:
        target = _paper_value("EmoXNetLite", dataset)
        found.append(_against_paper("EmoXNetLite accuracy", lite[0], target,
                                    f"{lite[2]} seed(s), sd {lite[1]:.2f}"))
    if lite is not None and base is not None:
        gain, spread = lite[0] - base[0], max(lite[1], base[1])
        several = lite[2] > 1 and base[2] > 1
        verdict = (REPRODUCED if several and gain > spread else
                   NOT_REPRODUCED if several else "one seed: no spread to judge by")
        found.append(EmoxnetClaim("EmoXNetLite above its CE baseline", f"{gain:+.2f} pp ({lite[0]:.2f} vs {base[0]:.2f})",
                                  "above", verdict, f"seed spread ±{spread:.2f} pp" if several else ""))
    return found


def _paper_value(row: str, dataset: str | None) -> float | None:
    ref = paper.EMOXNET_ACCURACY[row].get(dataset) if dataset else None
    return ref.value if ref is not None else None


def _against_paper(name: str, ours: float, target: float | None, detail: str) -> EmoxnetClaim:
    if target is None:
        return EmoxnetClaim(name, f"{ours:.2f} %", "n/a", NOT_COMPARABLE, "the paper reports no such dataset")
    verdict, why = judge_gap(ours - target, TOLERANCE_PP, [])  # the verdict page's rule for a paper number
    return EmoxnetClaim(name, f"{ours:.2f} % ({detail})", f"{target:.2f} %", verdict, why)


def emoxnet_folders(examples_dir: str | os.PathLike) -> list[Path]:
    root = Path(examples_dir)
    return [d for d in sorted(root.iterdir()) if is_emoxnet_folder(d)] if root.is_dir() else []


def examples_lines(examples_dir: str | os.PathLike, page_dir: str | os.PathLike) -> list[str]:
    """The "Committed EmoXNet runs" section of a page: per folder, a link and its measured claims."""
    folders = emoxnet_folders(examples_dir)
    if not folders:
        return []
    lines = ["## Committed EmoXNet runs", "", "EmoXNet (arXiv:2106.16126) run on real data, each folder with its "
             "own tables and curves; the paper's values are its FER+ / RAF-DB numbers:", ""]
    for folder in folders:
        info = read_json(folder / "run.json") or {}
        rel = Path(os.path.relpath(folder / "README.md", page_dir)).as_posix()
        lines.append(f"- [{folder.name}]({rel}): {info.get('profile', folder.name)}.")
        lines += [f"  - {c.claim}: ours {c.ours}, paper {c.paper}: **{c.verdict}**" + (f" ({c.why})" if c.why else "")
                  for c in claims(folder)]
    return lines + [""]


def per_class_lines(folder: Path) -> list[str]:
    """Recall per class, macro-F1 and accuracy of every evaluated model: where the ensemble and the Lite differ
    is in the rare classes, which accuracy alone hides."""
    evals = {("member " + m.parent.name if m.parent.parent.name == "members" else m.parent.name): read_json(m)
             for m in sorted((folder / "eval").glob("**/metrics.json"))}
    evals = {name: e for name, e in evals.items() if e and e.get("per_class")}
    if not evals:
        return ["no per-class evaluation in this folder"]
    names = list(evals)
    support = {c: scores["support"] for c, scores in next(iter(evals.values()))["per_class"].items()}  # same test set
    rows = [[c, n_images, *(f"{100 * evals[n]['per_class'][c]['recall']:.1f}" for n in names)]
            for c, n_images in support.items()]
    rows += [["macro-F1", "", *(f"{evals[n]['macro_f1']:.3f}" for n in names)],
             ["accuracy", sum(support.values()), *(f"{100 * evals[n]['test_acc']:.2f}" for n in names)]]
    return [cells.markdown(["class", "test images", *names], rows, [False, True, *([True] * len(names))]), "",
            "Recall in %; the Lite columns score its kept checkpoint (`model.pt`, the first seed's best epoch); "
            "the claims above average the seeds."]


def render(folder: Path) -> None:
    """The folder's README (the stage's page, the claims, curves and wall time) and its curves figure."""
    info = read_json(folder / "run.json") or {}
    curves = {}
    for metrics in sorted(folder.glob("models/**/metrics.json")):
        run = metrics.parent
        curve = read_curve(run)
        if curve is not None:
            curves[f"member {run.name}" if run.parent.name == "members" else run.name] = curve
    params = load_params(folder / "params.yaml")
    drawn = figure_curves(folder / "figures" / "curves.png", curves, params["data"]["source"])
    stage_page = (folder / "tables" / "README.md").read_text()
    lines = [stage_page.rstrip(), "", "## Claims", ""]
    lines += [f"- {c.claim}: ours {c.ours}, paper {c.paper}: **{c.verdict}**" + (f" ({c.why})" if c.why else "")
              for c in claims(folder)]
    lines += ["", "## Per class (test recall)", "", *per_class_lines(folder)]
    lines += ["", "## Training curves", ""]
    if drawn:
        lines += ["![train and val accuracy per epoch](figures/curves.png)", ""]
    lines += [cells.markdown(["run", "epochs", "best val", "last val", "range, last epochs", "flat"],
                             convergence_rows(curves), [False, True, True, True, True, False])]
    lines += ["", "## How it ran", "", f"- Profile: {info.get('profile', 'n/a')}", f"- Commit: `{info.get('commit', 'n/a')}`",
              f"- Wall time: {info.get('wall_time', 'n/a')}", ""]
    write_text(folder / "README.md", "\n".join(lines))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path, help="the new run folder, e.g. reports/examples/<name>")
    parser.add_argument("--project", type=Path, default=Path("."), help="the project whose outputs are copied")
    parser.add_argument("--profile", help="what was run: profile and schedule, in words (required unless --render-only)")
    parser.add_argument("--commit", help="code commit (default: the project's HEAD)")
    parser.add_argument("--wall-time", help="how long it took, on what machine (required unless --render-only)")
    parser.add_argument("--render-only", action="store_true", help="only re-render an existing folder's README")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    count = 0
    if not args.render_only:
        if not args.profile or not args.wall_time:
            parser.error("--profile and --wall-time are required to make a run folder")
        commit = args.commit or git_commit(args.project)
        count = snapshot(args.project, args.dest, {"profile": args.profile, "commit": commit,
                                                   "wall_time": args.wall_time})
    render(args.dest)
    print(json.dumps({"run_folder": str(args.dest), "files": count}))


if __name__ == "__main__":
    main()
