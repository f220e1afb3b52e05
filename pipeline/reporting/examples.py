"""The committed real-data runs (``reports/examples/<run>/``) on the default run's verdict page.

The default run is on generated data, so every accuracy claim on its page is "not comparable". What
the method does on real faces is settled by the run folders committed beside it: this module reads
each one (the same inputs its own page is rendered from), judges its claims with the same verdict
logic, and lists the ones it measured, so a reader of the default page sees them without opening
each folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.params.load import load_params
from pipeline.reporting.collect import collect_inputs, run_folder_paths
from pipeline.reporting.emoxnet_runs import examples_lines as emoxnet_examples_lines
from pipeline.reporting.emoxnet_runs import is_emoxnet_folder
from pipeline.reporting.verdict import NOT_RUN, Claim, claims

# Claims that only restate the architecture: the same in every run folder, shown once on each page.
_STRUCTURAL = ("Parameters,", "Size MiB,", "Memory saving", "Latency saving")


def run_folders(examples_dir: str | os.PathLike) -> list[Path]:
    """Sub-folders laid out as Table IV run folders (params.yaml and validation.json; EmoXNet folders are listed
    by :mod:`pipeline.reporting.emoxnet_runs`), sorted by name."""
    root = Path(examples_dir)
    if not root.is_dir():
        return []
    return [d for d in sorted(root.iterdir()) if (d / "params.yaml").is_file() and (d / "validation.json").is_file()
            and not is_emoxnet_folder(d)]


def measured_claims(run_dir: Path) -> tuple[str, list[Claim]]:
    """(what was run, in words; the claims this folder has a number for, structural ones left out)."""
    paths = run_folder_paths(run_dir)
    inputs = collect_inputs(load_params(paths["params"]), paths["validation"], paths["models"], paths["eval"],
                            paths["benchmarks"], paths["run_info"], paths["benchmark_run"])
    found = [c for c in claims(inputs) if c.verdict != NOT_RUN and not c.claim.startswith(_STRUCTURAL)]
    return inputs.run_info.get("profile", run_dir.name), found


def examples_lines(examples_dir: str | os.PathLike, page_dir: str | os.PathLike) -> list[str]:
    """The "Committed real-data runs" section: per run folder, a link and its measured claims; then the
    committed EmoXNet runs'."""
    folders = run_folders(examples_dir)
    if not folders:
        return emoxnet_examples_lines(examples_dir, page_dir)
    lines = ["## Committed real-data runs", "",
             "Runs on real data committed in this repository, each with its own page (tables, curves, Fig. 4); "
             "their measured claims, judged as above:", ""]
    for folder in folders:
        profile, found = measured_claims(folder)
        rel = Path(os.path.relpath(folder / "README.md", page_dir)).as_posix()
        lines.append(f"- [{folder.name}]({rel}): {profile}.")
        lines += [f"  - {c.claim}: ours {c.ours}, paper {c.paper}: **{c.verdict}**" + (f" ({c.why})" if c.why else "")
                  for c in found]
    return lines + [""] + emoxnet_examples_lines(examples_dir, page_dir)
