"""Bad input tried as a new user would, through real `dvc repro`: each stops with a message naming the
file/line or the params key, and every output produced before is byte-identical afterwards."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.fixtures_data import fer_rows, write_fer_csv
from tests.helpers import dvc, project_copy, tiny

STAGES = ("generate", "validate", "prepare", "class_weights", "emoxnet_member", "train_teacher", "soft_targets",
          "distill")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A project whose data stages and (tiny) teacher have run once."""
    repo = project_copy(tmp_path_factory.mktemp("bad_input") / "repo", tiny, stages=STAGES)
    dvc(repo, "repro")
    return repo


def outputs(repo: Path) -> dict[str, bytes]:
    """Every file the pipeline has produced (data, reports, models), by path."""
    files = {}
    for folder in ("data", "reports", "models"):
        for path in sorted((repo / folder).rglob("*")):
            if path.is_file():
                files[str(path.relative_to(repo))] = path.read_bytes()
    return files


@pytest.fixture
def repo(trained):
    """The trained project; params.yaml and data/raw are restored after each test."""
    params = (trained / "params.yaml").read_bytes()
    raw = {p: p.read_bytes() for p in (trained / "data" / "raw").rglob("*") if p.is_file()}
    yield trained
    (trained / "params.yaml").write_bytes(params)
    shutil.rmtree(trained / "data" / "raw")
    for path, data in raw.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def set_params(repo: Path, edit) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    edit(params)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def repro_fails(repo: Path, *expected: str, target: str | None = None) -> str:
    before = outputs(repo)
    result = dvc(repo, "repro", *([target] if target else []), check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0, text
    for snippet in expected:
        assert snippet in text, f"{snippet!r} not in:\n{text[-3000:]}"
    assert outputs(repo) == before, "a failed run changed earlier outputs"
    return text


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["train"].update(batch_szie=16), "unknown key 'batch_szie' in section 'train'"),
    pytest.param(lambda p: p["train"].update(epochs=0), "unknown key 'epochs' in section 'train'",
                 marks=pytest.mark.long),  # the same check as batch_szie: the long tier only
    (lambda p: p["train"].update(input_size=7), "train.input_size must be an integer >= 8"),
])
def test_bad_params_stop_the_pipeline_naming_the_key(repo, edit, message):
    set_params(repo, edit)
    repro_fails(repo, message)


def test_negative_alpha_is_refused_before_training(repo):
    set_params(repo, lambda p: p["distill"]["runs"]["E1"]["loss"].update(alpha=-1))
    text = repro_fails(repo, "distill.runs.E1.loss.alpha must be >= 0, got -1")
    assert "epoch 1/1" not in text  # refused before any training step


def test_negative_alpha_stops_a_fresh_repro_at_its_first_stage(tmp_path):
    """Nothing run yet, the whole dvc.yaml: `dvc repro` stops at its first stage (generate), naming the key;
    no data is drawn and no model trained (every stage checks all of params.yaml before any work)."""
    repo = project_copy(tmp_path / "repo", lambda p: p["distill"]["runs"]["E1"]["loss"].update(alpha=-1))
    result = dvc(repo, "repro", check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0, text
    assert "params.yaml: distill.runs.E1.loss.alpha must be >= 0, got -1" in text, text[-3000:]
    assert re.findall(r"Running stage '([^']+)'", text) == ["generate"], text[-3000:]
    assert not [p for p in (repo / "data").rglob("*") if p.is_file() and p.name != ".gitkeep"]
    assert not (repo / "models").exists() or not [p for p in (repo / "models").rglob("*") if p.is_file()]

def test_a_failed_training_run_keeps_the_published_curves_and_metrics(repo):
    set_params(repo, lambda p: p["train"].update(lr=1e12))  # diverges: a NaN loss stops the run
    repro_fails(repo, "non-finite training loss", "epoch 1")


@pytest.mark.parametrize("damage, message", [
    ("truncated", "not a valid gzip file or truncated"),
    pytest.param("not_gzip", "not a valid gzip file or truncated", marks=pytest.mark.long),
])
def test_broken_gzip_is_named(repo, damage, message):
    set_params(repo, lambda p: p["data"].update(source="fer2013"))
    target = repo / "data" / "raw" / "fer2013.csv.gz"
    write_fer_csv(target, fer_rows(10))
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"emotion,pixels,Usage\n0,1 2,Training\n")
    repro_fails(repo, message, "fer2013.csv.gz")


def test_both_csv_and_gz_present_is_refused(repo):
    set_params(repo, lambda p: p["data"].update(source="fer2013"))
    write_fer_csv(repo / "data" / "raw" / "fer2013.csv", fer_rows(10))
    write_fer_csv(repo / "data" / "raw" / "fer2013.csv.gz", fer_rows(10))
    repro_fails(repo, "both", "fer2013.csv and", "fer2013.csv.gz exist")


def test_empty_rafdb_label_file_is_named(repo):
    set_params(repo, lambda p: p["data"].update(source="rafdb"))
    labels = repo / "data" / "raw" / "rafdb" / "EmoLabel" / "list_patition_label.txt"
    labels.parent.mkdir(parents=True)
    labels.write_text("")
    repro_fails(repo, "list_patition_label.txt: file is empty")


@pytest.mark.parametrize("split, usage", [pytest.param("val", "PublicTest", marks=pytest.mark.long),
                                          ("test", "PrivateTest")])
def test_a_class_missing_from_val_or_test_fails_validation(repo, split, usage):
    set_params(repo, lambda p: p["data"].update(source="fer2013"))
    rows = [r for r in fer_rows(14) if not (r[2] == usage and r[0] == "1")]  # no disgust in that split
    write_fer_csv(repo / "data" / "raw" / "fer2013.csv", rows)
    repro_fails(repo, f"column={split}_class", "missing ['disgust']", "as trained")


def test_fer_plus_class_lost_to_the_vote_fails_validation(repo):
    set_params(repo, lambda p: p["data"].update(source="ferplus", ferplus_classes=7))  # 7: no contempt to miss
    rows = fer_rows(14)
    write_fer_csv(repo / "data" / "raw" / "fer2013.csv", rows)
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
    order = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear"]
    fer_to_plus = {0: "anger", 1: "disgust", 2: "fear", 3: "happiness", 4: "sadness", 5: "surprise", 6: "neutral"}
    lines = []
    for i, (emotion, _, usage) in enumerate(rows):
        votes = [0] * 10
        winner = fer_to_plus[int(emotion)]
        # train disgust images are voted unknown: the class vanishes from train only after the vote
        votes[8 if (winner == "disgust" and usage == "Training") else order.index(winner)] = 10
        lines.append(f"{usage},fer{i:07d}.png," + ",".join(map(str, votes)))
    (repo / "data" / "raw" / "fer2013new.csv").write_text(header + "\n" + "\n".join(lines) + "\n")
    text = repro_fails(repo, "column=train_class", "missing ['disgust']")
    assert "column=val_class" not in text  # only train lost the class


def test_gzip_fixture_is_really_gzip(tmp_path):
    path = write_fer_csv(tmp_path / "fer2013.csv.gz", fer_rows(1))
    with gzip.open(path, "rt") as fh:
        assert fh.readline().startswith("emotion,pixels,Usage")
