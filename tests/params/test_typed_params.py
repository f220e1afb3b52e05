"""load_params hands out one typed, frozen tree, checked once; a bad value anywhere, a model's options and a
loss's included, is a ParamsError naming the file and the dotted key before any stage work starts."""

from __future__ import annotations

import dataclasses
import re

import pytest
import yaml

from pipeline.core.specs import ParamsError
from pipeline.core.typed import start_trace, stop_trace
from pipeline.params.load import load_params
from tests.helpers import REPO_ROOT

DEFAULT = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())


def written(tmp_path, edit=None):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    if edit:
        edit(params)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["train"].update(lr=-1), "train.lr must be a number > 0, got -1"),
    (lambda p: p["models"]["student_a"].update(width=0), "models.student_a.width must be a number > 0 and <= 4, got 0"),
    (lambda p: p["models"]["teacher"].update(se_reduction=0), "models.teacher.se_reduction must be an integer >= 1, got 0"),
    (lambda p: p["emoxnet"]["models"]["vgg13"].update(fc_width=0), "emoxnet.models.vgg13.fc_width must be an integer >= 1"),
    (lambda p: p["emoxnet"]["models"]["resnet18"].update(stem_stride=3),
     "emoxnet.models.resnet18.stem_stride must be an integer >= 1 and <= 2, got 3"),
    (lambda p: p["emoxnet"]["models"]["lite"].update(dropout=1), "emoxnet.models.lite.dropout must be a number >= 0 and < 1"),
    (lambda p: p["distill"]["runs"]["E2"]["loss"].update(name="kd2"), "distill.runs.E2.loss.name 'kd2' is not a known loss"),
    (lambda p: p["emoxnet"]["lite"]["loss"].update(alpha=1.5), r"emoxnet.lite.loss.alpha must be in \[0, 1\], got 1.5"),
])
def test_a_bad_value_is_a_params_error_naming_file_and_key(tmp_path, edit, message):
    with pytest.raises(ParamsError, match="^" + re.escape("params.yaml: ") + message):
        load_params(written(tmp_path, edit))


def test_the_tree_is_typed_frozen_and_reads_like_the_file(tmp_path):
    params = load_params(written(tmp_path))
    assert params.train.lr == DEFAULT["train"]["lr"] and isinstance(params.train.lr, float)
    assert params["train"]["batch_size"] == params.train.batch_size == DEFAULT["train"]["batch_size"]
    assert params.seeds == tuple(DEFAULT["seeds"]) and params.models["student_c"] == DEFAULT["models"]["student_c"]
    assert params.train == {**DEFAULT["train"], "lr": float(DEFAULT["train"]["lr"])}  # a Mapping, equal to the file's
    assert "ensemble" not in params.teacher and params.teacher.ensemble is None  # an absent optional section
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.train.lr = 1.0


def test_tracing_records_the_dotted_keys_read(tmp_path):
    params = load_params(written(tmp_path))
    keys = start_trace()
    try:
        _ = params.train.lr, params["distill"]["runs"]["E1"]["loss"], params.models["student_a"]
        _ = list(params.baseline.students)
    finally:
        stop_trace()
    assert keys == {"train.lr", "distill.runs.E1.loss", "models.student_a", "baseline.students"}
