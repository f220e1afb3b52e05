"""dvc.yaml's ``params:`` of each stage are what the stage reads, no more, no less, through a real `dvc repro`.

Each stage process records every dotted key it reads from the typed params (pipeline/core/typed.py,
PIPELINE_PARAMS_TRACE); dvc.lock holds what dvc.yaml declares for it. A read key must be declared (else a
change to it would not re-run the stage), and a declared key must be read (else an unrelated change re-runs
it), except the keys a stage reads only for some values of others (CONDITIONAL).
"""

from __future__ import annotations

import json

import pytest
import yaml

from pipeline.core.typed import TRACE_ENV
from tests.helpers import dvc, project_copy, tiny
from tests.stages.test_bad_input import STAGES

pytestmark = pytest.mark.long  # a real `dvc repro` of the training stages, traced (~60 s)

# Read only for some values of other keys: the source's own options, the ensemble teacher; and
# train.portable_kernels, read from the raw file by pipeline.core.stage before the traced params exist.
CONDITIONAL = {"data.rafdb_val_fraction", "data.rafdb_val_seed", "data.ferplus_classes", "data.ferplus_target",
               "teacher.ensemble", "train.portable_kernels"}
TRACED_STAGES = (*STAGES, "train_student")


def covers(declared: str, read: str) -> bool:
    return read == declared or read.startswith(declared + ".") or read.startswith(declared + "[")


def leaves(params: dict, key: str) -> set[str]:
    """The dotted keys under ``key`` down to values (a model or loss spec counts as one value)."""
    value = params
    for part in key.split("."):
        value = value[part]
    if isinstance(value, dict) and key.count(".") < 2 and not {"name", "family"} & set(value):
        return {k for sub in value for k in leaves(params, f"{key}.{sub}")}
    return {key}


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """The project's training stages run once on tiny params, each stage's reads recorded."""
    trace = tmp_path_factory.mktemp("trace")
    repo = project_copy(tmp_path_factory.mktemp("declared") / "repo", tiny, stages=TRACED_STAGES)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TRACE_ENV, str(trace))
        dvc(repo, "repro")
    reads = {path.stem: set(json.loads(path.read_text())) for path in trace.glob("*.json")}
    return repo, reads


def test_each_stage_declares_exactly_the_params_it_reads(traced):
    repo, reads = traced
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert {name.split("@")[0] for name in reads} >= set(TRACED_STAGES) - {"class_weights"}, sorted(reads)
    for stage, read in reads.items():
        declared = set(lock[stage].get("params", {}).get("params.yaml", {}))
        undeclared = sorted(k for k in read if not any(covers(d, k) for d in declared))
        assert not undeclared, f"{stage} reads {undeclared}, which dvc.yaml does not list"
        unread = sorted(leaf for d in declared for leaf in leaves(params, d)
                        if leaf not in CONDITIONAL and not any(covers(leaf, k) or covers(k, leaf) for k in read))
        assert not unread, f"{stage} lists {unread} in dvc.yaml but never reads them"


def test_a_change_to_an_unrelated_key_reruns_no_stage(traced):
    repo, _ = traced
    text = (repo / "params.yaml").read_text()
    try:
        edited = yaml.safe_load(text)
        edited["benchmark"]["latency_runs"] += 1  # read by the benchmark stage only, which is not here
        (repo / "params.yaml").write_text(yaml.safe_dump(edited, sort_keys=False))
        assert "up to date" in dvc(repo, "status").stdout.lower()
        edited["train"]["lr"] *= 2  # every training stage, no data, soft-target or evaluation stage
        (repo / "params.yaml").write_text(yaml.safe_dump(edited, sort_keys=False))
        changed = {line.rstrip(":").strip() for line in dvc(repo, "status").stdout.splitlines()
                   if line.endswith(":") and not line.startswith((" ", "\t"))}
        assert {s.split("@")[0] for s in changed} == {"train_teacher", "distill", "train_student", "emoxnet_member"}
    finally:
        (repo / "params.yaml").write_text(text)
