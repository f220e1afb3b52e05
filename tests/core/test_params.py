"""The strict params policy: every key known, every value typed and in range, errors that name the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from pipeline.core.params import ParamsError
from pipeline.core.typed import typed
from pipeline.params.load import check_params, load_params, schema
from pipeline.params.profiles import apply_profile
from tests.helpers import REPO_ROOT

DEFAULT = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())


def edited(edit) -> dict:
    params = copy.deepcopy(DEFAULT)
    edit(params)
    return params


def test_the_default_params_and_every_profile_pass(tmp_path):
    check_params(DEFAULT)
    for profile in sorted((REPO_ROOT / "profiles").glob("*.yaml")):
        target = tmp_path / f"{profile.stem}.yaml"
        target.write_text((REPO_ROOT / "params.yaml").read_text())
        apply_profile(profile, target)
        load_params(target)


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["train"].update(batch_szie=16),
     r"unknown key 'batch_szie' in section 'train'; allowed: input_size, batch_size, lr"),
    (lambda p: p["train"].update(epochs=0), r"unknown key 'epochs' in section 'train'"),
    (lambda p: p.update(trian={}), r"unknown key 'trian' in the top level; allowed: data, synthetic"),
    (lambda p: p["train"].pop("lr"), r"section 'train' is missing key 'lr'"),
    (lambda p: p["train"].update(input_size=7), r"train.input_size must be an integer >= 8 and <= 1024, got 7"),
    (lambda p: p["train"].update(lr=0), r"train.lr must be a number > 0, got 0"),
    (lambda p: p["train"].update(bf16="yes"), r"train.bf16 must be true or false, got 'yes'"),
    (lambda p: p["train"].update(device="gpu"), r"train.device must be one of auto, cpu, cuda"),
    (lambda p: p["teacher"].update(epochs=0), r"teacher.epochs must be an integer >= 1, got 0"),
    (lambda p: p.update(seeds=[]), r"seeds must be a list of an integer >= 0 with at least 1 entry"),
    (lambda p: p.update(seeds=[0, 0]), r"seeds lists an entry twice"),
    (lambda p: p["distill"]["runs"]["E1"].update(student="student_z"),
     r"distill.runs.E1.student names model 'student_z', which is not in models"),
    (lambda p: p["distill"]["runs"]["E1"].update(T=3), r"unknown key 'T' in section 'distill.runs.E1'; allowed: student, loss"),
    (lambda p: p["data"].update(rafdb_val_fraction=1.0), r"data.rafdb_val_fraction must be a number > 0 and < 1"),
    (lambda p: p["benchmark"].update(latency_rums=3), r"unknown key 'latency_rums' in section 'benchmark'"),
    (lambda p: p.update(orchestration={"timout_s": {"default": 3600}}),
     r"unknown key 'timout_s' in section 'orchestration'; allowed: timeout_s"),
    (lambda p: p.update(orchestration={"timeout_s": {"default": 0}}),
     r"orchestration.timeout_s.default must be a number > 0, got 0"),
    (lambda p: p.update(orchestration={"timeout_s": {"distill@E1@x": 10}}),
     r"orchestration.timeout_s \(name 'distill@E1@x'\) must be a stage name"),
])
def test_each_bad_value_is_named(edit, message):
    with pytest.raises(ParamsError, match=message):
        check_params(edited(edit))


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["teacher"]["loss"].update(label_smoothing=1.5), r"teacher.loss.label_smoothing must be in \[0, 1\)"),
    (lambda p: p["distill"]["runs"]["E3"]["loss"].update(T=0), r"distill.runs.E3.loss.T must be > 0, got 0"),
    (lambda p: p["distill"]["runs"]["E1"]["loss"].update(name="kld"),
     r"distill.runs.E1.loss.name 'kld' is not a known loss"),
    (lambda p: p["baseline"]["loss"].update(alpha=0.5), r"unknown key 'alpha' in baseline.loss \(loss ce\)"),
    (lambda p: p["emoxnet"]["member_loss"].update(label_smoothing="a"),
     r"emoxnet.member_loss.label_smoothing must be a number"),
    (lambda p: p["emoxnet"]["lite"]["loss"].update(alpha=2), r"emoxnet.lite.loss.alpha must be in \[0, 1\], got 2"),
    (lambda p: p["emoxnet"]["lite_baseline_loss"].update(name="kd", alpha=-1),
     r"emoxnet.lite_baseline_loss.alpha must be >= 0, got -1"),
    (lambda p: p["models"]["student_b"].update(family="resnet"), r"models.student_b: unknown family 'resnet'; known: "),
    (lambda p: p["models"]["teacher"].update(widht=1.0), r"models.teacher: unknown key 'widht' for family resemotenet"),
    (lambda p: p["emoxnet"]["models"]["lite"].update(width=1.0),
     r"emoxnet.models.lite: unknown key 'width' for family emoxnet_lite"),
])
def test_loss_and_model_specs_are_checked_by_their_registries(edit, message):
    """Every loss and model spec goes through its own registry in the one params check, so the first stage
    of `dvc repro` refuses it, not the stage that would use it (after the teacher trained)."""
    with pytest.raises(ParamsError, match=r"^params.yaml: .*" + message):
        check_params(edited(edit))


def test_load_params_refuses_a_negative_distillation_alpha_by_key(tmp_path):
    path = tmp_path / "params.yaml"
    params = edited(lambda p: p["distill"]["runs"]["E1"]["loss"].update(alpha=-1))
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    with pytest.raises(ParamsError, match=r"^params.yaml: distill.runs.E1.loss.alpha must be >= 0, got -1$"):
        load_params(path)


def test_every_loss_and_model_key_reaches_its_registry():
    from pipeline.core.params import registry_specs

    found = {key: registry for registry, key, _ in registry_specs(schema(), check_params(DEFAULT))}
    losses = {"teacher.loss", "baseline.loss", "emoxnet.member_loss", "emoxnet.lite.loss", "emoxnet.lite_baseline_loss",
              *(f"distill.runs.{run}.loss" for run in DEFAULT["distill"]["runs"])}
    models = {*(f"models.{m}" for m in DEFAULT["models"]),
              *(f"emoxnet.models.{m}" for m in DEFAULT["emoxnet"]["models"])}
    assert found == {**{k: "loss" for k in losses}, **{k: "model" for k in models}}

def test_the_documented_orchestration_section_is_accepted():
    section = {"timeout_s": {"default": 3600, "train_teacher": 14400, "distill": 7200, "distill@E1": 60.5}}
    checked = check_params(edited(lambda p: p.update(orchestration=section)))
    assert checked["orchestration"]["timeout_s"] == {"default": 3600.0, "train_teacher": 14400.0, "distill": 7200.0,
                                                     "distill@E1": 60.5}


def test_load_params_names_the_file_for_bad_yaml(tmp_path):
    (tmp_path / "params.yaml").write_text("train: [unclosed\n")
    with pytest.raises(ParamsError, match="params.yaml: not valid YAML"):
        load_params(tmp_path / "params.yaml")
    with pytest.raises(FileNotFoundError, match="run stages from the repository root"):
        load_params(tmp_path / "missing.yaml")


def test_a_profile_with_a_misspelt_key_leaves_params_untouched(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text((REPO_ROOT / "params.yaml").read_text())
    before = params.read_bytes()
    profile = tmp_path / "bad.yaml"
    profile.write_text("train:\n  lerning_rate: 0.1\n")
    with pytest.raises(ParamsError, match=r"bad.yaml: .*unknown key 'lerning_rate' in section 'train'.*left unchanged"):
        apply_profile(profile, params)
    assert params.read_bytes() == before


def test_optional_keys_take_their_schema_default_and_the_configs_follow_the_schema():
    """The schema is the one place a key, its default and its check are written: load_params fills an
    absent optional key from it, and the dataclasses built from a section have exactly its keys."""
    from dataclasses import MISSING, fields

    from pipeline.benchmark.benchmarking import BenchmarkSettings
    from pipeline.core.params import section_spec
    from pipeline.training.config import TrainConfig

    params = edited(lambda p: [p["train"].pop(k, None) for k in ("schedule", "aug_shift", "aug_rotate", "aug_scale")])
    train = check_params(params)["train"]
    assert (train["schedule"], train["aug_shift"], train["aug_rotate"], train["aug_scale"]) == ("plateau", 0.0, 0.0, 0.0)
    not_the_loops = {"class_weighted", "portable_kernels"}  # the loss's and the stage process's settings
    assert {f.name for f in fields(TrainConfig)} == (set(section_spec("train").keys) - not_the_loops) | {"epochs", "seed"}
    assert {f.name for f in fields(BenchmarkSettings)} == set(section_spec("benchmark").keys)
    assert not [f.name for f in (*fields(TrainConfig), *fields(BenchmarkSettings)) if f.default is not MISSING]
    loaded = typed(schema(), check_params(params))  # what load_params hands the stages
    config = TrainConfig.from_params(loaded.train, epochs=1, seed=0)
    assert config.schedule == section_spec("train").defaults()["schedule"] and config.lr == DEFAULT["train"]["lr"]
    settings = BenchmarkSettings.from_params(loaded.benchmark, train_input_size=32)
    assert settings.input_sizes == (32, 64) and settings.primary_input_size == 64
    assert settings.latency_runs == DEFAULT["benchmark"]["latency_runs"]
