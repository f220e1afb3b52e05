"""Unit-level checks of the orchestration pieces on a real toy DVC project (no Prefect server)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.core.params import ParamsError
from pipeline.orchestration.checkout import (check_pipeline_params, default_remote_url, stage_bounds,
                                             uncommitted_stage_code)
from pipeline.orchestration.dvc_graph import (PACKED_GRAPH, chain_lengths, graph_bytes, load_stage_graph,
                                              queue_offsets, read_packed_graph, run_followers, select_stages)
from pipeline.orchestration.lock_merge import merge_lock_text, write_lock_entries
from pipeline.orchestration.packs import PackStore, files_in, pack_bytes, read_files, safe_relative, unpack_bytes
from pipeline.orchestration.worker_run import (
    OWNER_FILE,
    StageFailed,
    error_excerpt,
    run_stage_in_workspace,
    sweep_stale_workspaces,
)

from .toy import STAGES, make_toy_project

from tests.helpers import REPO_ROOT, dvc, project_copy, subprocess_env


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return make_toy_project(tmp_path_factory.mktemp("toy"), sleep_s=0.0)


def _head(repo: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def _coordinator_pack(repo: Path, lock_text: str | None = None, dvc_yaml: str | None = None) -> str:
    """What the coordinator packs for a stage: its params.yaml, dvc.yaml and (merged) dvc.lock."""
    entries = read_files(repo, ["params.yaml", "dvc.yaml"])
    if dvc_yaml is not None:
        entries["dvc.yaml"] = dvc_yaml.encode()
    if lock_text is not None:
        entries["dvc.lock"] = lock_text.encode()
    return PackStore(repo).put_entries(entries)


def test_packed_graph_is_the_graph_in_its_order(toy, tmp_path):
    """A worker reads the coordinator's graph from its pack; the order matters (it writes .gitignore entries
    in it), so it must survive the trip, from nodes or from the plan's plain dicts."""
    graph = load_stage_graph(toy)
    target = tmp_path / PACKED_GRAPH
    target.parent.mkdir(parents=True)
    assert read_packed_graph(tmp_path) is None
    for nodes in (graph, {name: node.__dict__ for name, node in reversed(graph.items())}):
        target.write_bytes(graph_bytes(nodes))
        packed = read_packed_graph(tmp_path)
        assert packed == {name: graph[name] for name in nodes}
        assert list(packed) == list(nodes)


def test_graph_expands_foreach_items_and_orders_upstream_first(toy):
    graph = load_stage_graph(toy)
    assert list(graph) == STAGES
    assert graph["item@a"].upstream == ("make_data",)
    assert set(graph["flaky"].upstream) == {"item@a", "item@b"}
    assert set(graph["summary"].upstream) == {"item@a", "item@b", "flaky", "big"}
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

    # Workers get ready items longest chain first: the members the teacher waits for before a student baseline.
    ranks = chain_lengths(graph, list(graph))
    assert ranks["emoxnet_member@vgg13"] > ranks["train_teacher"] > ranks[first] > ranks["report"]
    assert ranks["emoxnet_member@vgg13"] > ranks["train_student@student_a"]
    assert ranks["export"] == 1 and min(ranks.values()) == 1
    part = select_stages(graph, [first])
    assert chain_lengths(graph, part)[first] == 1  # only the selected items count
    offsets = queue_offsets(graph, list(graph))  # scheduled that long before the run's start: larger goes first
    assert offsets["emoxnet_member@vgg13"] > offsets["train_student@student_a"] > offsets["train_student@student_c"]
    assert offsets[first] > offsets[f"distill@{list(runs)[-1]}"]


def test_followers_ride_in_the_run_of_the_item_they_wait_for(toy, tmp_path):
    """An item joins the run of the item before it when it waits for nothing else and is that item's only such one."""
    graph = load_stage_graph(toy)
    assert run_followers(graph, STAGES) == {"flaky": ["big", "summary"]}  # make_data has two items after it
    assert run_followers(graph, ["flaky", "summary"]) == {}  # big up to date: summary waits for it, not for flaky's run
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    dvc(tmp_path, "init", "-q")
    project = load_stage_graph(tmp_path)
    groups = run_followers(project, list(project))
    first = next(name for name in project if name.startswith("distill@"))
    assert groups["generate"] == ["validate", "prepare", "class_weights"]
    assert groups[first] == [f"evaluate_{first}"]
    assert "train_teacher" not in groups  # soft targets and the teacher's evaluation both wait only for it
    assert not {"report", "export", "soft_targets"} & {item for items in groups.values() for item in items}
    runs = len(project) - sum(len(items) for items in groups.values())
    assert runs < len(project) * 0.6, (runs, groups)


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


def test_packs_are_reproducible_and_refuse_paths_outside_the_repo(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "plots" / "sub").mkdir(parents=True)
    (src / "metrics.json").write_text('{"acc": 0.5}')
    (src / "plots" / "sub" / "loss.tsv").write_bytes(b"step\tloss\n0\t1.0\n")
    files = files_in(src, ["metrics.json", "plots", "missing.json"])
    assert files == ["metrics.json", "plots/sub/loss.tsv"]
    data = pack_bytes(read_files(src, files))
    os.utime(src / "metrics.json", (0, 12345))  # mtimes do not change the pack
    assert pack_bytes(read_files(src, reversed(files))) == data
    assert unpack_bytes(data, dst) == files
    assert (dst / "plots" / "sub" / "loss.tsv").read_bytes() == b"step\tloss\n0\t1.0\n"
    for bad in ("../escape.txt", "/etc/passwd", "a/../../b"):
        with pytest.raises(ValueError, match="refusing"):
            safe_relative(bad)
        with pytest.raises(ValueError, match="refusing"):
            pack_bytes({bad: b"x"})


def test_pack_store_round_trips_megabytes_through_the_dvc_remote(toy, tmp_path):
    """A 5 MB file goes into the remote beside DVC's cache, content-addressed, and comes back intact."""
    store = PackStore(toy)
    blob = os.urandom(5 * 1024 * 1024)
    digest = store.put_entries({"big/blob.bin": blob})
    stored = toy.parent / "remote" / "orchestration" / "packs" / digest[:2] / f"{digest[2:]}.tar.gz"
    assert stored.is_file() and stored.stat().st_size > 5_000_000
    assert store.put_entries({"big/blob.bin": blob}) == digest  # stored once
    by_url = PackStore(toy, url=str(toy.parent / "remote"))  # what a worker given the remote's URL sees
    by_url.unpack(digest, tmp_path)
    assert (tmp_path / "big" / "blob.bin").read_bytes() == blob
    stored.write_bytes(stored.read_bytes()[:-10])
    with pytest.raises(ValueError, match="corrupt"):
        store.get(digest)
    with pytest.raises(FileNotFoundError, match="not in the DVC remote"):
        store.get("0" * 64)


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


def test_stage_bounds_come_from_params_or_the_default(toy, tmp_path):
    assert stage_bounds(toy, ["item@a"], 60.0) == {"item@a": 60.0}
    shutil.copytree(toy, tmp_path / "repo")
    params = yaml.safe_load((tmp_path / "repo" / "params.yaml").read_text())
    params["orchestration"] = {"timeout_s": {"default": 100, "item": 30, "item@b": 20}}
    (tmp_path / "repo" / "params.yaml").write_text(yaml.safe_dump(params))
    assert stage_bounds(tmp_path / "repo", ["make_data", "item@a", "item@b"], 60.0) == {
        "make_data": 100.0, "item@a": 30.0, "item@b": 20.0}
    known = ["make_data", "item@a", "item@b"]
    assert stage_bounds(tmp_path / "repo", ["item@a"], 60.0, known=known) == {"item@a": 30.0}
    for table, message in [({"itme": 30}, r"orchestration.timeout_s names 'itme', which is no stage"),
                           ({"item": -1}, r"orchestration.timeout_s.item must be a number > 0")]:
        params["orchestration"] = {"timeout_s": table}
        (tmp_path / "repo" / "params.yaml").write_text(yaml.safe_dump(params))
        with pytest.raises(ParamsError, match=message):
            stage_bounds(tmp_path / "repo", ["item@a"], 60.0, known=known)
    params["orchestration"] = {"timeouts": {"item": 30}}
    (tmp_path / "repo" / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(ParamsError, match=r"unknown key 'timeouts' in section 'orchestration'"):
        stage_bounds(tmp_path / "repo", ["item@a"], 60.0)


def test_the_coordinator_refuses_a_bad_pipeline_params_before_dispatching(toy, tmp_path):
    """The plan checks this pipeline's whole params.yaml, as its first stage does: a negative `alpha` is named
    before the stage graph is read or anything dispatched. Another project's params are left to its stages."""
    assert check_pipeline_params(toy) is False
    assert check_pipeline_params(project_copy(tmp_path / "good")) is True
    repo = project_copy(tmp_path / "bad", lambda p: p["distill"]["runs"]["E1"]["loss"].update(alpha=-1))
    with pytest.raises(ParamsError, match=r"^params.yaml: distill.runs.E1.loss.alpha must be >= 0, got -1$"):
        check_pipeline_params(repo)
    plan = ("import logging, sys; from pathlib import Path; from pipeline.orchestration.flows import plan_run; "
            "plan_run(Path(sys.argv[1]), None, None, None, None, False, 2.0, 60.0, 60.0, logging.getLogger())")
    result = subprocess.run([sys.executable, "-c", plan, str(repo)], cwd=REPO_ROOT, env=subprocess_env(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    expected = "ParamsError: params.yaml: distill.runs.E1.loss.alpha must be >= 0, got -1"
    assert expected in result.stderr, result.stderr[-3000:]
    assert "load_stage_graph" not in result.stderr  # refused first, before the graph or any dispatch

def test_worker_runs_stage_exchanges_packs_and_skips_unchanged_stage(tmp_path):
    """Worker logic without Prefect: run, push, hand back lock entry and outputs pack; a second run only pulls.

    The entry merged into the coordinator's dvc.lock plus pulled data gives a clean `dvc status`.
    """
    toy = make_toy_project(tmp_path, sleep_s=0.0)
    remote = str(toy.parent / "remote")
    workdir = tmp_path / "work"
    workdir.mkdir()
    common = dict(repo_url=str(toy), commit=_head(toy), remote_url=remote, log=lambda line: None, workdir=workdir)
    first = run_stage_in_workspace("make_data", inputs=[_coordinator_pack(toy)], **common)
    assert first["reproduced"] is True and first["outputs"] is None and first["files"] == []
    out_md5 = first["lock_entry"]["outs"][0]["md5"]
    assert (Path(remote) / "files" / "md5" / out_md5[:2] / out_md5[2:]).exists()

    write_lock_entries(toy, {"make_data": first["lock_entry"]}, order=STAGES)
    dvc(toy, "pull", "make_data")
    assert json.loads(dvc(toy, "status", "--json", "make_data").stdout) == {}

    lock = merge_lock_text(None, {"make_data": first["lock_entry"]})
    item = run_stage_in_workspace("item@a", inputs=[_coordinator_pack(toy, lock)], **common)
    assert item["reproduced"] is True and item["files"] == ["metrics/a.json"]
    phases = item["phases"]  # the batch's pull counted with the inputs, its push with the outputs
    assert list(phases) == ["workspace", "inputs", "repro", "outputs"] and min(phases.values()) >= 0
    assert sum(phases.values()) <= item["seconds"] + 0.01
    PackStore(toy).unpack(item["outputs"], tmp_path / "back")
    assert json.loads((tmp_path / "back" / "metrics" / "a.json").read_text())["total"] == sum(i * 2 for i in range(5))
    assert len(json.dumps(item)) < 4096  # only references and the lock entry travel back

    lock = merge_lock_text(lock, {"item@a": item["lock_entry"]})
    again = run_stage_in_workspace("item@a", inputs=[_coordinator_pack(toy, lock), item["outputs"]], **common)
    assert again["reproduced"] is False
    assert again["lock_entry"] == item["lock_entry"] and again["outputs"] == item["outputs"]
    assert list(workdir.iterdir()) == []  # workspaces removed


def test_a_run_with_followers_hands_back_each_result_and_a_failed_follower_leaves_the_leader_done(tmp_path):
    toy = make_toy_project(tmp_path, sleep_s=0.0)
    common = dict(repo_url=str(toy), commit=_head(toy), remote_url=str(toy.parent / "remote"), log=lambda line: None,
                  workdir=tmp_path)
    result = run_stage_in_workspace("make_data", inputs=[_coordinator_pack(toy)], followers=["item@a"], **common)
    item = result["followers"]["item@a"]
    assert result["reproduced"] and item["reproduced"] and item["files"] == ["metrics/a.json"]
    read = {dep["path"]: dep["md5"] for dep in item["lock_entry"]["deps"]}
    assert read["data/base.txt"] == result["lock_entry"]["outs"][0]["md5"]  # it read the leader's output
    assert list(result["phases"]) == ["workspace", "inputs", "repro", "outputs"]
    assert sum(result["phases"].values()) <= result["seconds"] + 0.01 and item["seconds"] <= result["seconds"]

    text = (toy / "dvc.yaml").read_text().replace("python src/item.py ${key}", "python -c 'raise SystemExit(\"no faces\")'")
    result = run_stage_in_workspace("make_data", inputs=[_coordinator_pack(toy, dvc_yaml=text)],
                                    followers=["item@a", "item@b"], **common)
    assert "lock_entry" in result and result["lock_entry"]["outs"][0]["md5"]
    error = result["followers"]["item@a"]["error"]
    assert error.startswith("stage 'item@a' failed on worker ") and "no faces" in error
    assert "dvc repro --single-item --pull item@a" in error
    assert "not run" in result["followers"]["item@b"]["error"]
    assert not list(tmp_path.glob("dvc-stage-*"))  # workspaces removed


def test_worker_failure_is_short_and_names_stage_worker_and_error(toy, tmp_path):
    text = (toy / "dvc.yaml").read_text().replace(
        "python src/make_data.py", "python -c 'import sys; print(\"x\" * 100000); sys.exit(\"bad pixels in row 7\")'")
    with pytest.raises(StageFailed) as failure:
        run_stage_in_workspace("make_data", repo_url=str(toy), commit=_head(toy), inputs=[_coordinator_pack(toy, dvc_yaml=text)],
                               remote_url=str(toy.parent / "remote"), log=lambda line: None, workdir=tmp_path)
    message = str(failure.value)
    assert message.startswith("stage 'make_data' failed on worker ")
    assert "bad pixels in row 7" in message and "dvc repro --single-item --pull make_data" in message
    assert "dvc-batch:" not in message  # the batch's timing lines stay in the log
    assert len(message) < 2000 and len(message.splitlines()) <= 10
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StageFailed, match="not in dvc.yaml"):
        run_stage_in_workspace("nope", repo_url=str(toy), commit=_head(toy), inputs=[_coordinator_pack(toy)],
                               remote_url=str(toy.parent / "remote"), log=lambda line: None)


def test_error_excerpt_keeps_the_exception_lines():
    lines = ["epoch 1", "Traceback (most recent call last):", '  File "x.py", line 3', "    boom()", "ValueError: boom",
             "", "ERROR: failed to reproduce 'train': exited with 1", "x" * 10_000]
    assert error_excerpt(lines).splitlines() == [
        '  File "x.py", line 3', "  boom()", "  ValueError: boom", "  ERROR: failed to reproduce 'train': exited with 1",
        "  " + "x" * 240]


def test_stale_workspaces_of_dead_processes_are_swept(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / "dvc-stage-x-1").mkdir()
    (tmp_path / "dvc-stage-x-1" / OWNER_FILE).write_text(str(dead.pid))
    (tmp_path / "dvc-stage-x-2").mkdir()
    (tmp_path / "dvc-stage-x-2" / OWNER_FILE).write_text(str(os.getpid()))
    assert sweep_stale_workspaces(tmp_path) == [tmp_path / "dvc-stage-x-1"]
    assert [p.name for p in tmp_path.iterdir()] == ["dvc-stage-x-2"]


def test_pack_hash_is_the_sha256_of_the_stored_bytes(toy):
    data = pack_bytes({"a.txt": b"a"})
    assert PackStore(toy).put(data) == hashlib.sha256(data).hexdigest()


def test_a_stop_keeps_what_a_finished_leader_carried_for_followers_whose_task_had_not_taken_it():
    """On SIGINT/SIGTERM the coordinator merges the finished items and the followers' results their leader's run
    carried (a follower's task takes its result a poll after the leader ends); a carried error is not kept, and a
    follower's own task result wins over the carried copy."""
    from pipeline.orchestration.dispatch import kept_on_stop

    done_b, failed_c = {"stage": "b", "lock_entry": {"cmd": "b"}}, {"stage": "c", "error": "boom"}
    leader = {"stage": "a", "lock_entry": {"cmd": "a"}, "followers": {"b": done_b, "c": failed_c}}
    assert kept_on_stop({"a": leader}) == {"a": leader, "b": done_b}
    own_b = {"stage": "b", "lock_entry": {"cmd": "b"}, "seconds": 1.0}
    assert kept_on_stop({"a": leader, "b": own_b})["b"] is own_b
    assert kept_on_stop({}) == {}
