"""params.yaml's schema: every key known, every value typed and in range, and the rules across sections.

Each stage loads params through :func:`pipeline.params.load.load_params` before doing any work, so a
misspelt key (``batch_szie``), a negative ``alpha`` or ``epochs: 0`` stops ``dvc repro`` at once with a
message that names the key, its section and the allowed keys, instead of being ignored or failing deep
inside PyTorch.

A schema is a plain mapping of key -> :class:`Spec`; a new section or key is one entry in
:data:`SCHEMA`, except a data source's own keys (``data.rafdb_val_seed``, the ``synthetic`` section),
which its module in pipeline/sources declares and :func:`with_sources` joins in (the sources stand above
pipeline/core, so ``pipeline.params.load.schema`` calls it). This module checks a params tree against
the schema (:func:`check_schema`). Model specs
(``models.<name>``, ``emoxnet.models.<name>``) and loss specs (every ``Open(registry=...)`` key) are
only found here (:func:`registry_specs`): their own registries check them, and since those stand above
pipeline/core, the check that runs them (``pipeline.params.load``) does too.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from pipeline.core.specs import (Bool, Choice, Float, Int, ListOf, MapOf, Name, Open, ParamsError, PathSpec, Section,  # noqa: F401
                                 Spec, StageName, TableOf)

PARAMS_FILE = Path("params.yaml")


POSITIVE = Float(min=0, min_exclusive=True)
NON_NEGATIVE = Float(min=0)
INPUT_SIZE = Int(min=8, max=1024)  # the architectures' own minimum is checked by the model registry
LOSS = Open(name_key="name", registry="loss")  # checked by pipeline.training.losses.build_loss
MODEL = Open(name_key="family", default_name="resemotenet", registry="model")  # by pipeline.models.normalise_spec

# The bound on one stage's run on a worker, seconds: `default`, a stage or foreach group, or one item.
ORCHESTRATION = Section(optional=True, keys={"timeout_s": TableOf(value=POSITIVE, optional=True)})

SCHEMA = Section(keys={
    # Every source's own keys (`<source>_...`) join this section, its own section (if any) the top level:
    # with_sources, from pipeline/sources.
    "data": Section(keys={
        "source": Name(),  # checked against the source registry by the data stages
        "drop_train_duplicates_of_test": Bool(),
    }),
    "models": MapOf(value=MODEL),
    "seeds": ListOf(item=Int(min=0), min_len=1),
    "train": Section(keys={
        "input_size": INPUT_SIZE,
        "batch_size": Int(min=2),
        "lr": POSITIVE,
        "momentum": Float(min=0, max=1, max_exclusive=True),
        "weight_decay": NON_NEGATIVE,
        "plateau_factor": Float(min=0, max=1, min_exclusive=True, max_exclusive=True),
        "plateau_patience": Int(min=0),
        "early_stopping_patience": Int(min=0),
        "device": Choice(values=("auto", "cpu", "cuda"), pattern=r"cuda:\d+"),
        "bf16": Bool(),
        "compile": Bool(),
        "eval_batch_size": Int(min=1),
        "class_weighted": Bool(),
        "deterministic": Bool(),
        "schedule": Choice(values=("plateau", "onecycle", "cosine"), optional=True, default="plateau"),  # the paper's
        "aug_shift": Float(min=0, max=0.5, optional=True, default=0.0),  # on-device random affine; 0 = off (the paper's)
        "aug_rotate": Float(min=0, max=180, optional=True, default=0.0),
        "aug_scale": Float(min=0, max=0.5, max_exclusive=True, optional=True, default=0.0),
        # CPU kernels held to AVX2 in every stage: the same bytes on other x86-64 CPUs, at a cost (README)
        "portable_kernels": Bool(optional=True, default=False),
    }),
    "teacher": Section(keys={
        "model": Name(), "epochs": Int(min=1), "loss": LOSS,
        # Optional: the teacher is the ensemble of these trained emoxnet.members (assembled, not trained;
        # README "Strong teacher"); absent, it is models[teacher.model] trained by train_teacher.
        "ensemble": Section(optional=True, keys={"members": ListOf(item=Name(), min_len=2),
                                                 "rule": Choice(values=("mean", "val_weighted"))}),
    }),
    "student": Section(keys={"epochs": Int(min=1)}),
    "distill": Section(keys={
        "runs": MapOf(value=Section(keys={"student": Name(), "loss": LOSS})),
    }),
    "baseline": Section(keys={"students": ListOf(item=Name()), "loss": LOSS}),
    "cross_eval": MapOf(value=PathSpec(), min_len=0, optional=True, default={}),  # name -> labelled image folder
    "benchmark": Section(keys={
        "input_sizes": ListOf(item=INPUT_SIZE),
        "primary_input_size": INPUT_SIZE,
        "latency_runs": Int(min=1),
        "warmup_runs": Int(min=0),
        "throughput_batch": Int(min=1),
        "throughput_runs": Int(min=1),
        "onnx": Bool(),
        "onnx_atol": POSITIVE,
    }),
    # EmoXNet / EmoXNetLite (arXiv:2106.16126), a second family in the same pipeline (README, "EmoXNet").
    "emoxnet": Section(optional=True, keys={
        "models": MapOf(value=MODEL),
        "teacher_member": Bool(),  # the trained ResEmoteNet teacher joins the ensemble (not retrained)
        "members": MapOf(value=Section(keys={"model": Name(), "epochs": Int(min=1), "input_size": INPUT_SIZE,
                                             "seed": Int(min=0, optional=True)})),  # seed: this member's own (else `seeds`)
        "member_loss": LOSS,
        "ensemble": Section(keys={"rule": Choice(values=("mean", "val_weighted"))}),
        "lite": Section(keys={"model": Name(), "epochs": Int(min=1), "input_size": INPUT_SIZE, "loss": LOSS}),
        "lite_baseline_loss": LOSS,
    }),
    # Read by the Prefect coordinator only (pipeline/orchestration, docs/prefect.md "Bounds"); no stage lists it.
    "orchestration": ORCHESTRATION,
})


def _cross_checks(params: dict[str, Any]) -> None:
    """Rules that span sections: every model a run names exists."""
    models = params["models"]

    def need_model(name: str, key: str) -> None:
        if name not in models:
            raise ParamsError(f"params.yaml: {key} names model {name!r}, which is not in models (known: {', '.join(models)})")

    need_model(params["teacher"]["model"], "teacher.model")
    for run, spec in params["distill"]["runs"].items():
        need_model(spec["student"], f"distill.runs.{run}.student")
    for i, name in enumerate(params["baseline"]["students"]):
        need_model(name, f"baseline.students[{i}]")


def _emoxnet_checks(params: dict[str, Any]) -> None:
    """EmoXNet's members and Lite name models of emoxnet.models; the ensemble has at least two members."""
    section = params.get("emoxnet")
    if section is None:
        return
    models = section["models"]
    named = [(f"emoxnet.members.{m}.model", spec["model"]) for m, spec in section["members"].items()]
    for key, name in [*named, ("emoxnet.lite.model", section["lite"]["model"])]:
        if name not in models:
            raise ParamsError(f"params.yaml: {key} names model {name!r}, which is not in emoxnet.models "
                              f"(known: {', '.join(models)})")
    if section["teacher_member"] and "teacher" in section["members"]:
        raise ParamsError("params.yaml: emoxnet.members has an entry 'teacher', but that name is the reused "
                          "ResEmoteNet teacher (emoxnet.teacher_member: true); rename it")
    if len(section["members"]) + int(section["teacher_member"]) < 2:
        raise ParamsError("params.yaml: an ensemble needs at least two members (emoxnet.members + teacher_member)")


def _teacher_ensemble_checks(params: dict[str, Any]) -> None:
    """An ensemble teacher's members are trained EmoXNet members, and it is not itself one of them."""
    ensemble = params["teacher"].get("ensemble")
    if ensemble is None:
        return
    section = params.get("emoxnet")
    known = list(section["members"]) if section else []
    for i, name in enumerate(ensemble["members"]):
        if name not in known:
            raise ParamsError(f"params.yaml: teacher.ensemble.members[{i}] names {name!r}, which is not in "
                              f"emoxnet.members (known: {', '.join(known) or 'none'})")
    if section and section["teacher_member"]:
        raise ParamsError("params.yaml: teacher.ensemble is set, so the teacher is itself an ensemble; set "
                          "emoxnet.teacher_member: false (it would join the EmoXNet ensemble of its own members)")


def registry_specs(spec: Spec, value: Any, key: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(registry, dotted key, spec) of every ``Open(registry=...)`` value in a checked params tree."""
    if isinstance(spec, Open):
        if spec.registry is not None:
            yield spec.registry, key, value
    elif isinstance(spec, Section):
        for k, sub in spec.keys.items():
            if k in value:
                yield from registry_specs(sub, value[k], f"{key}.{k}" if key else k)
    elif isinstance(spec, MapOf):
        for k, v in value.items():
            yield from registry_specs(spec.value, v, f"{key}.{k}")
    elif isinstance(spec, ListOf):
        for i, v in enumerate(value):
            yield from registry_specs(spec.item, v, f"{key}[{i}]")


# The rules across sections, run after the schema (in this order) by check_schema.
SECTION_RULES: list[Callable[[dict[str, Any]], None]] = [_cross_checks, _emoxnet_checks, _teacher_ensemble_checks]


def section_spec(name: str) -> Section:
    """The schema of one top-level section (``train``, ``benchmark``...): the one place its keys, defaults and
    checks are written; the typed tree load_params returns is built from it (pipeline/core/typed.py)."""
    return SCHEMA.keys[name]


def check_orchestration(raw: Any) -> dict[str, Any]:
    """params.yaml's ``orchestration`` section alone (the coordinator reads it from any project's params.yaml,
    whose other sections need not be this pipeline's); an absent section is ``{}``."""
    return {} if raw is None else ORCHESTRATION.check(raw, "orchestration")


def emoxnet_section(params: dict[str, Any]) -> dict[str, Any]:
    """params.yaml's ``emoxnet`` section, with one clear error where it is missing."""
    if "emoxnet" not in params:
        raise ValueError("params.yaml has no `emoxnet` section (see README, \"EmoXNet\")")
    return params["emoxnet"]


def with_sources(options: dict[str, Spec], sections: dict[str, Section]) -> Section:
    """:data:`SCHEMA` with the data sources' keys: their ``data`` options, and their own sections after ``data``."""
    data = SCHEMA.keys["data"]
    clash = sorted((set(options) & set(data.keys)) | (set(sections) & set(SCHEMA.keys)))
    if clash:
        raise ValueError(f"a data source declares params key(s) the schema already has: {clash}")
    keys: dict[str, Spec] = {}
    for name, spec in SCHEMA.keys.items():
        keys[name] = replace(data, keys={**data.keys, **options}) if name == "data" else spec
        if name == "data":
            keys.update(sections)
    return replace(SCHEMA, keys=keys)


def check_schema(raw: Any, schema: Section = SCHEMA) -> dict[str, Any]:
    """The whole params tree checked against ``schema`` (:func:`pipeline.params.load.schema`: :data:`SCHEMA` with
    the sources' keys) and :data:`SECTION_RULES`; returns it normalised (floats as float). Model and loss specs
    are checked by their registries after this (:func:`pipeline.params.load.check_params`)."""
    params = schema.check(raw, "")
    for rule in SECTION_RULES:
        rule(params)
    return params


def portable_kernels_requested(path: str | Path = PARAMS_FILE) -> bool:
    """params.yaml's train.portable_kernels, read before anything else runs (the full check follows in the stage;
    an unreadable file is its error to report, so here it reads as False)."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
        return raw["train"].get("portable_kernels") is True
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return False
