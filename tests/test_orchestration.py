"""Unit-level checks of the orchestration pieces on a real toy DVC project (no Prefect server)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from orchestration_toy import STAGES, dvc, make_toy_project
from pipeline.orchestration.dvc_graph import load_stage_graph, select_stages
from pipeline.orchestration.flows import default_remote_url, uncommitted_stage_code
from pipeline.orchestration.lock_merge import (
    encode_outputs,
    files_under,
    merge_lock_text,
    safe_relative,
    write_lock_entries,
    write_outputs,
)
from pipeline.orchestration.worker_run import StageFailed, run_stage_in_workspace

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return make_toy_project(tmp_path_factory.mktemp("toy"), sleep_s=0.0)


def _head(repo: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def _pipeline_files(repo: Path) -> dict[str, str]:
    return {name: (repo / name).read_text() for name in ("params.yaml", "dvc.yaml")}


def test_graph_expands_foreach_items_and_orders_upstream_first(toy):
    graph = load_stage_graph(toy)
    assert list(graph) == STAGES
    assert graph["item@a"].upstream == ("make_data",)
    assert set(graph["flaky"].upstream) == {"item@a", "item@b"}
    assert set(graph["summary"].upstream) == {"item@a", "item@b", "flaky"}
    assert graph["item@b"].cached_outs == ("out/b.txt",)
    assert graph["item@b"].uncached_outs == ("metrics/b.json",)
    assert set(graph["summary"].uncached_outs) == {"summary.json", "reports/tables"}
    assert "metrics" in graph["summary"].deps and "params.yaml" not in graph["summary"].deps


def test_select_stages_adds_upstream_and_accepts_foreach_groups(toy):
    graph = load_stage_graph(toy)
    assert select_stages(graph, None) == STAGES
    assert select_stages(graph, ["item@b"]) == ["make_data", "item@b"]
    assert select_stages(graph, ["item"]) == ["make_data", "item@a", "item@b"]
    assert select_stages(graph, ["summary"]) == STAGES
    with pytest.raises(ValueError, match="unknown DVC stage 'nope'"):
        select_stages(graph, ["nope"])


def test_graph_of_the_project_pipeline(tmp_path):
    """The real dvc.yaml: every foreach item is its own node, wired to the stages producing its inputs."""
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    dvc(tmp_path, "init", "-q")
    graph = load_stage_graph(tmp_path)
    runs = yaml.safe_load((tmp_path / "params.yaml").read_text())["distill"]["runs"]
    assert {f"distill@{key}" for key in runs} <= set(graph)
    first = f"distill@{next(iter(runs))}"
    assert {"prepare", "class_weights", "soft_targets"} <= set(graph[first].upstream)
    assert f"evaluate_distill@{next(iter(runs))}" in graph["report"].upstream
    assert list(graph).index("train_teacher") < list(graph).index(first) < list(graph).index("report")


def test_merge_lock_replaces_in_place_and_appends_new_stages_in_graph_order():
    old = "schema: '2.0'\nstages:\n  a:\n    cmd: echo a\n  b:\n    cmd: echo b\n"
    merged = yaml.safe_load(merge_lock_text(old, {"d": {"cmd": "echo d"}, "b": {"cmd": "echo B"}, "c": {"cmd": "echo c"}},
                                            order=["a", "b", "c", "d"]))
    assert merged["schema"] == "2.0"
    assert list(merged["stages"]) == ["a", "b", "c", "d"]
    assert merged["stages"]["b"] == {"cmd": "echo B"} and merged["stages"]["a"] == {"cmd": "echo a"}
    assert yaml.safe_load(merge_lock_text(None, {"x": {"cmd": "true"}}))["stages"] == {"x": {"cmd": "true"}}
    with pytest.raises(ValueError, match="stage 'x'"):
        merge_lock_text(old, {"x": {"outs": []}})
    with pytest.raises(ValueError, match="unsupported schema"):
        merge_lock_text("schema: '9.9'\nstages: {}\n", {})


def test_outputs_round_trip_and_refuse_paths_outside_the_repo(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "plots" / "sub").mkdir(parents=True)
    (src / "metrics.json").write_text('{"acc": 0.5}')
    (src / "plots" / "sub" / "loss.tsv").write_bytes(b"step\tloss\n0\t1.0\n")
    encoded = encode_outputs(src, ["metrics.json", "plots", "missing.json"])
    assert set(encoded) == {"metrics.json", "plots/sub/loss.tsv"}
    write_outputs(dst, encoded)
    assert (dst / "plots" / "sub" / "loss.tsv").read_bytes() == b"step\tloss\n0\t1.0\n"
    assert files_under(encoded, ["plots"]) == {"plots/sub/loss.tsv": encoded["plots/sub/loss.tsv"]}
    for bad in ("../escape.txt", "/etc/passwd", "a/../../b"):
        with pytest.raises(ValueError, match="refusing"):
            safe_relative(bad)
    with pytest.raises(ValueError, match="refusing"):
        write_outputs(dst, {"../x": base64.b64encode(b"x").decode()})
    assert not (tmp_path / "x").exists()


def test_uncommitted_stage_code_is_reported_but_params_and_outputs_are_not(tmp_path):
    repo = make_toy_project(tmp_path, sleep_s=0.0)
    graph = load_stage_graph(repo)
    assert uncommitted_stage_code(repo, graph) == []
    (repo / "params.yaml").write_text((repo / "params.yaml").read_text() + "\n# tuned\n")
    (repo / "metrics").mkdir()
    (repo / "metrics" / "a.json").write_text("{}")
    assert uncommitted_stage_code(repo, graph) == []
    (repo / "src" / "item.py").write_text((repo / "src" / "item.py").read_text() + "\n# edited\n")
    assert uncommitted_stage_code(repo, graph) == ["src/item.py"]


def test_default_remote_url_is_absolute(toy):
    assert default_remote_url(toy) == str(toy.parent / "remote")


def test_worker_runs_stage_pushes_cached_outs_and_skips_unchanged_stage(tmp_path):
    """Worker logic without Prefect: run, push, hand back lock entry; a second run only pulls.

    The entry merged into the coordinator's dvc.lock plus pulled data gives a clean `dvc status`.
    """
    toy = make_toy_project(tmp_path, sleep_s=0.0)
    remote = str(toy.parent / "remote")
    common = dict(repo_url=str(toy), commit=_head(toy), remote_url=remote, log=lambda line: None)
    first = run_stage_in_workspace("make_data", pipeline_files=_pipeline_files(toy), **common)
    assert first["reproduced"] is True and first["files"] == {}
    out_md5 = first["lock_entry"]["outs"][0]["md5"]
    assert (Path(remote) / "files" / "md5" / out_md5[:2] / out_md5[2:]).exists()

    write_lock_entries(toy, {"make_data": first["lock_entry"]}, order=STAGES)
    dvc(toy, "pull", "make_data")
    assert json.loads(dvc(toy, "status", "--json", "make_data")) == {}

    lock = merge_lock_text(None, {"make_data": first["lock_entry"]})
    item = run_stage_in_workspace("item@a", pipeline_files={**_pipeline_files(toy), "dvc.lock": lock}, **common)
    assert item["reproduced"] is True
    metrics = json.loads(base64.b64decode(item["files"]["metrics/a.json"]))
    assert metrics["total"] == sum(i * 2 for i in range(5)) * 1

    lock = merge_lock_text(lock, {"item@a": item["lock_entry"]})
    again = run_stage_in_workspace("item@a", pipeline_files={**_pipeline_files(toy), "dvc.lock": lock},
                                   input_files=item["files"], **common)
    assert again["reproduced"] is False
    assert again["lock_entry"] == item["lock_entry"]


def test_worker_failure_names_the_stage_and_command(toy):
    files = _pipeline_files(toy)
    files["dvc.yaml"] = files["dvc.yaml"].replace("python src/make_data.py", "python -c 'raise SystemExit(7)'")
    with pytest.raises(StageFailed, match=r"stage 'make_data'.*dvc repro --single-item --pull make_data"):
        run_stage_in_workspace("make_data", repo_url=str(toy), commit=_head(toy), pipeline_files=files,
                               remote_url=str(toy.parent / "remote"), log=lambda line: None)
    with pytest.raises(StageFailed, match="not in dvc.yaml"):
        run_stage_in_workspace("nope", repo_url=str(toy), commit=_head(toy), pipeline_files=_pipeline_files(toy),
                               log=lambda line: None)
