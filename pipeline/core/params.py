"""params.yaml read through one strict policy: every key known, every value typed and in range.

Each stage calls :func:`load_params` before doing any work, so a misspelt key (``batch_szie``),
a negative ``alpha`` or ``epochs: 0`` stops ``dvc repro`` at once with a message that names the
key, its section and the allowed keys, instead of being ignored or failing deep inside PyTorch.

A schema is a plain mapping of key -> :class:`Spec`; a new section or key is one entry in
:data:`SCHEMA`. Model specs (``models.<name>``) are checked by the model registry of their family
(``pipeline.models.check_spec``), loss specs by the loss registry; here only their shape is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

PARAMS_FILE = Path("params.yaml")


class ParamsError(ValueError):
    """A params.yaml value or key is wrong; the message names the dotted key."""


class Spec:
    """One value's rule; ``check`` returns the (normalised) value or raises ParamsError naming ``key``."""

    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def check(self, value: Any, key: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


def _fail(key: str, spec: Spec, value: Any) -> ParamsError:
    return ParamsError(f"params.yaml: {key} must be {spec.describe()}, got {value!r}")


@dataclass
class Int(Spec):
    min: int | None = None
    max: int | None = None
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        bounds = [f">= {self.min}" if self.min is not None else "", f"<= {self.max}" if self.max is not None else ""]
        return "an integer " + " and ".join(b for b in bounds if b) if any(bounds) else "an integer"

    def check(self, value, key):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(key, self, value)
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise _fail(key, self, value)
        return value


@dataclass
class Float(Spec):
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f"{'>' if self.min_exclusive else '>='} {self.min}")
        if self.max is not None:
            parts.append(f"{'<' if self.max_exclusive else '<='} {self.max}")
        return "a number" + (" " + " and ".join(parts) if parts else "")

    def check(self, value, key):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _fail(key, self, value)
        low_bad = self.min is not None and (value <= self.min if self.min_exclusive else value < self.min)
        high_bad = self.max is not None and (value >= self.max if self.max_exclusive else value > self.max)
        if low_bad or high_bad:
            raise _fail(key, self, value)
        return float(value)


@dataclass
class Bool(Spec):
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return "true or false"

    def check(self, value, key):
        if not isinstance(value, bool):
            raise _fail(key, self, value)
        return value


@dataclass
class Choice(Spec):
    values: tuple[str, ...] = ()
    pattern: str | None = None  # also accepted: strings matching this regex (e.g. cuda:1)
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return "one of " + ", ".join(self.values) + (f" (or {self.pattern})" if self.pattern else "")

    def check(self, value, key):
        ok = isinstance(value, str) and (value in self.values or bool(self.pattern and re.fullmatch(self.pattern, value)))
        if not ok:
            raise _fail(key, self, value)
        return value


@dataclass
class Name(Spec):
    """An identifier-like string (a model or run name)."""

    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return "a name of letters, digits, '_', '-' or '.'"

    def check(self, value, key):
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", value):
            raise _fail(key, self, value)
        return value


@dataclass
class ListOf(Spec):
    item: Spec = field(default_factory=Name)
    min_len: int = 0
    unique: bool = True
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return f"a list of {self.item.describe()}" + (f" with at least {self.min_len} entr{'y' if self.min_len == 1 else 'ies'}"
                                                        if self.min_len else "")

    def check(self, value, key):
        if not isinstance(value, list) or len(value) < self.min_len:
            raise _fail(key, self, value)
        out = [self.item.check(v, f"{key}[{i}]") for i, v in enumerate(value)]
        if self.unique and len({repr(v) for v in out}) != len(out):
            raise ParamsError(f"params.yaml: {key} lists an entry twice: {value!r}")
        return out


@dataclass
class Section(Spec):
    """A mapping with a fixed set of keys; unknown keys are errors, missing required keys too."""

    keys: Mapping[str, Spec] = field(default_factory=dict)
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return "a mapping with keys " + ", ".join(self.keys)

    def check(self, value, key, require: bool = True):
        """The checked mapping, an absent optional key filled with its spec's ``default`` (when it has one).

        ``require=False`` checks a partial mapping (a caller's subset): only present keys, no missing-key error.
        """
        if not isinstance(value, dict):
            raise _fail(key or "params.yaml", self, value)
        where = f"section '{key}'" if key else "the top level"
        unknown = [k for k in value if k not in self.keys]
        if unknown:
            raise ParamsError(f"params.yaml: unknown key {unknown[0]!r} in {where}; allowed: {', '.join(self.keys)}")
        missing = [k for k, spec in self.keys.items() if k not in value and not spec.optional]
        if missing and require:
            raise ParamsError(f"params.yaml: {where} is missing key {missing[0]!r}; allowed: {', '.join(self.keys)}")
        out = {}
        for k, spec in self.keys.items():
            if k in value:
                out[k] = spec.check(value[k], f"{key}.{k}" if key else k)
            elif spec.default is not None:
                out[k] = spec.check(spec.default, f"{key}.{k}" if key else k)
        return out

    def defaults(self) -> dict[str, Any]:
        """The keys that have a default, with it (the one place defaults are written)."""
        return {k: spec.default for k, spec in self.keys.items() if spec.default is not None}


@dataclass
class MapOf(Spec):
    """A mapping of user-chosen names (models, runs) to values of one spec."""

    value: Spec = field(default_factory=Section)
    min_len: int = 1
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return f"a mapping of names to {self.value.describe()}"

    def check(self, value, key):
        if not isinstance(value, dict) or len(value) < self.min_len:
            raise _fail(key, self, value)
        return {Name().check(k, f"{key} (name {k!r})"): self.value.check(v, f"{key}.{k}") for k, v in value.items()}


@dataclass
class Open(Spec):
    """A mapping checked by another registry (model and loss specs): here only that it has a ``name_key``."""

    name_key: str = "name"
    default_name: str | None = None
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return f"a mapping with a {self.name_key!r} key"

    def check(self, value, key):
        if not isinstance(value, dict):
            raise _fail(key, self, value)
        if self.name_key not in value:
            if self.default_name is None:
                raise ParamsError(f"params.yaml: {key} needs a {self.name_key!r} key")
            value = {self.name_key: self.default_name, **value}
        Name().check(value[self.name_key], f"{key}.{self.name_key}")
        return dict(value)


@dataclass
class StageName(Spec):
    """A DVC stage, a foreach group or one of its items (``distill``, ``distill@E1``), or ``default``."""

    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return "a stage name (letters, digits, '_', '-', '.'; an item as group@key)"

    def check(self, value, key):
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+(@[A-Za-z0-9_.\-]+)?", value):
            raise _fail(key, self, value)
        return value


@dataclass
class TableOf(Spec):
    """A mapping of stage names to values of one spec (``orchestration.timeout_s``)."""

    value: Spec = field(default_factory=Name)
    optional: bool = False
    default: Any = None  # an optional key's value when params.yaml leaves it out

    def describe(self) -> str:
        return f"a mapping of stage names to {self.value.describe()}"

    def check(self, value, key):
        if not isinstance(value, dict):
            raise _fail(key, self, value)
        return {StageName().check(k, f"{key} (name {k!r})"): self.value.check(v, f"{key}.{k}") for k, v in value.items()}


POSITIVE = Float(min=0, min_exclusive=True)
NON_NEGATIVE = Float(min=0)
INPUT_SIZE = Int(min=8, max=1024)  # the architectures' own minimum is checked by the model registry
LOSS = Open(name_key="name")

# The bound on one stage's run on a worker, seconds: `default`, a stage or foreach group, or one item.
ORCHESTRATION = Section(optional=True, keys={"timeout_s": TableOf(value=POSITIVE, optional=True)})

SCHEMA = Section(keys={
    "data": Section(keys={
        "source": Name(),  # checked against the source registry by the data stages
        "drop_train_duplicates_of_test": Bool(),
        "rafdb_val_fraction": Float(min=0, max=1, min_exclusive=True, max_exclusive=True),
        "rafdb_val_seed": Int(min=0),
        "ferplus_classes": Int(min=7, max=8, optional=True, default=8),  # FER+: 8 (contempt kept, the FER+ task) or 7
        "ferplus_target": Choice(values=("majority", "crossentropy"), optional=True, default="majority"),  # FER+ train targets
    }),
    "synthetic": Section(keys={"seed": Int(min=0), "train": Int(min=2), "val": Int(min=1), "test": Int(min=1)}),
    "models": MapOf(value=Open(name_key="family", default_name="resemotenet")),
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
    }),
    "teacher": Section(keys={"model": Name(), "epochs": Int(min=1), "loss": LOSS}),
    "student": Section(keys={"epochs": Int(min=1)}),
    "distill": Section(keys={
        "runs": MapOf(value=Section(keys={"student": Name(), "loss": LOSS})),
    }),
    "baseline": Section(keys={"students": ListOf(item=Name()), "loss": LOSS}),
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
        "models": MapOf(value=Open(name_key="family", default_name="resemotenet")),
        "teacher_member": Bool(),  # the trained ResEmoteNet teacher joins the ensemble (not retrained)
        "members": MapOf(value=Section(keys={"model": Name(), "epochs": Int(min=1), "input_size": INPUT_SIZE})),
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


EXTRA_CHECKS: list[Callable[[dict[str, Any]], None]] = [_cross_checks, _emoxnet_checks]


def section_spec(name: str) -> Section:
    """The schema of one top-level section (``train``, ``benchmark``...): the one place its keys, defaults and
    checks are written; the dataclasses built from a section (TrainConfig, BenchmarkSettings) check through it."""
    return SCHEMA.keys[name]


def check_section(name: str, value: Any, require: bool = True) -> dict[str, Any]:
    """One section checked like load_params checks it (``require=False``: a partial mapping)."""
    return section_spec(name).check(value, name, require=require)


def check_orchestration(raw: Any) -> dict[str, Any]:
    """params.yaml's ``orchestration`` section alone (the coordinator reads it from any project's params.yaml,
    whose other sections need not be this pipeline's); an absent section is ``{}``."""
    return {} if raw is None else ORCHESTRATION.check(raw, "orchestration")


def emoxnet_section(params: dict[str, Any]) -> dict[str, Any]:
    """params.yaml's ``emoxnet`` section, with one clear error where it is missing."""
    if "emoxnet" not in params:
        raise ValueError("params.yaml has no `emoxnet` section (see README, \"EmoXNet\")")
    return params["emoxnet"]


def check_params(raw: Any) -> dict[str, Any]:
    """The whole params tree checked against :data:`SCHEMA`; returns it normalised (floats as float)."""
    params = SCHEMA.check(raw, "")
    for extra in EXTRA_CHECKS:
        extra(params)
    return params


def load_params(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """Read and check params.yaml; raise ParamsError/FileNotFoundError naming what is wrong."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run stages from the repository root")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    return check_params(raw)
