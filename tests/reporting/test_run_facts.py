"""Where a run happened (device, threads, torch and Python versions) is its run facts, beside the metrics and
not in them (issue 28): the report reads them there, and still reads the ``device`` that run folders committed
before the split keep inside their metrics (``reports/examples/``), rendering both the same."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.core.runfacts import benchmark_facts_path, device_of, machine_keys_in, torch_of
from stages import report as report_stage
from tests.helpers import REPO_ROOT

EXAMPLE = REPO_ROOT / "reports" / "examples" / "fer2013-converged"  # committed with `device` in its metrics


def rendered(folder: Path) -> dict[str, bytes]:
    """The pages a run folder's report writes (README and tables; the PNGs are left out)."""
    files = [folder / "README.md", *sorted((folder / "tables").iterdir())]
    return {str(p.relative_to(folder)): p.read_bytes() for p in files}


def split_facts(folder: Path) -> None:
    """Rewrite a legacy run folder as the stages write it now: machine keys out of every metrics file, into
    run.json beside each metrics.json and benchmark_run.json beside the benchmark folder."""
    for path in folder.glob("**/metrics.json"):
        metrics = json.loads(path.read_text())
        if "device" in metrics:
            (path.parent / "run.json").write_text(json.dumps({"device": metrics.pop("device"), "threads": 2}))
            path.write_text(json.dumps(metrics))
    bench_facts = {"models": {}, "emoxnet": {}}
    for path in (folder / "benchmark").glob("*.json"):
        report = json.loads(path.read_text())
        bench_facts["models"][path.stem] = {"device": report.pop("device"), "torch": report.pop("torch_version")}
        for key in ("device", "torch_version"):
            report.get("identity", {}).pop(key, None)
        path.write_text(json.dumps(report))
    benchmark_facts_path(folder / "benchmark").write_text(json.dumps(bench_facts))


@pytest.fixture(scope="module")
def legacy(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("legacy") / EXAMPLE.name
    shutil.copytree(EXAMPLE, folder)
    report_stage.main(["--run-folder", str(folder)])
    return folder


def test_a_committed_run_folder_with_device_in_its_metrics_renders_as_committed(legacy: Path):
    assert rendered(legacy) == rendered(EXAMPLE)
    assert "- Device: training cpu: " in (legacy / "README.md").read_text()


def test_run_facts_beside_the_metrics_render_the_same_pages(legacy: Path, tmp_path: Path):
    folder = tmp_path / EXAMPLE.name
    shutil.copytree(EXAMPLE, folder)
    split_facts(folder)
    files = [*folder.glob("**/metrics.json"), *(folder / "benchmark").glob("*.json")]
    assert files and not [p for p in files if machine_keys_in(json.loads(p.read_text()))]
    report_stage.main(["--run-folder", str(folder)])
    assert rendered(folder) == rendered(legacy)  # device, torch version: read from the run facts


def test_run_facts_win_over_legacy_keys_and_absent_is_none():
    assert device_of({"device": "old"}, {"device": "new"}) == "new"
    assert device_of({"device": "old"}, {}) == "old" and device_of({}, None) is None
    assert torch_of({"torch_version": "2.0"}, None) == "2.0" and torch_of({}, {"torch": "2.9"}) == "2.9"
    assert machine_keys_in({"a": 1, "identity": {"device": "x"}, "onnx": {"onnxruntime": "1"}}) == [
        "identity.device", "onnx.onnxruntime"]
